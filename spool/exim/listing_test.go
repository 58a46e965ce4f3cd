package exim_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/spool/exim"
)

// bpMessage is one message as exim -bp lists it.
type bpMessage struct {
	ID, Size, Sender string
	// FormatError is the "*** spool format error: size=N ***" line Exim prints under a
	// message whose header section it cannot read.
	FormatError string
	Frozen      bool
	Recipients  []string // "D addr" for delivered, "  addr" for pending
}

// parseBP parses exim -bp output.
func parseBP(t *testing.T, file string) []bpMessage {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []bpMessage
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
		case strings.HasPrefix(line, "        "):
			out[len(out)-1].Recipients = append(out[len(out)-1].Recipients, line[8:])
		case strings.HasPrefix(line, "    ***"):
			m := &out[len(out)-1]
			m.FormatError, m.Frozen = strings.CutSuffix(strings.TrimSpace(line), " *** frozen ***")
		default:
			out = append(out, parseBPLine(line))
		}
	}
	return out
}

// parseBPLine parses " 1m   329 ID <sender>[ *** frozen ***]".
func parseBPLine(line string) bpMessage {
	f := strings.Fields(line)
	m := bpMessage{Size: f[1], ID: f[2]}
	rest := strings.Join(f[3:], " ")
	rest, m.Frozen = strings.CutSuffix(rest, " *** frozen ***")
	m.Sender = strings.TrimSuffix(strings.TrimPrefix(rest, "<"), ">")
	return m
}

// FormatSize is Exim's string_format_size, as exim -bp prints sizes.
func FormatSize(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%5d", n)
	case n < 10*1024:
		return fmt.Sprintf("%4.1fK", float64(n)/1024)
	case n < 1024*1024:
		return fmt.Sprintf("%4dK", (n+512)/1024)
	case n < 10*1024*1024:
		return fmt.Sprintf("%4.1fM", float64(n)/(1024*1024))
	}
	return fmt.Sprintf("%4dM", (n+512*1024)/(1024*1024))
}

// asBP renders a message of the spool in dir the way exim -bp lists it, apart from the age.
func asBP(t *testing.T, dir string, m *mqsql.Message) bpMessage {
	b := bpMessage{ID: m.QueueID, Size: strings.TrimSpace(FormatSize(m.Size)), Sender: m.Sender, Frozen: m.Queue == mqsql.Hold}
	if m.Error != "" {
		st, err := os.Stat(filepath.Join(dir, m.File.Path))
		if err != nil {
			t.Fatal(err)
		}
		b.FormatError = fmt.Sprintf("*** spool format error: size=%d ***", st.Size())
	}
	for _, r := range m.Recipients {
		mark := "  "
		if r.Status == mqsql.Done {
			mark = "D "
		}
		b.Recipients = append(b.Recipients, mark+r.Address)
	}
	return b
}

// readAll walks sp and reads every message.
func readAll(t *testing.T, sp *exim.Spool) []*mqsql.Message {
	t.Helper()
	var out []*mqsql.Message
	err := sp.Walk(context.Background(), func(e mqsql.Entry) error {
		m, err := sp.Read(e)
		if err != nil {
			return fmt.Errorf("read %s: %w", e.File.Path, err)
		}
		if m.Queue != e.Queue {
			t.Errorf("%s: walk says queue %s, read says %s", e.QueueID, e.Queue, m.Queue)
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func openSpool(t *testing.T, dir string) *exim.Spool {
	t.Helper()
	sp, err := exim.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	sp.Warn = func(err error) { t.Errorf("warning: %v", err) }
	t.Cleanup(func() { sp.Close() })
	return sp
}

// TestAgreesWithListings compares every sample spool's messages with exim -bp's listing of
// it: the same messages in the same order, with equal size, sender, frozen mark, format error
// and recipients with their delivered marks. spool-damaged holds -H files whose header
// section Exim wrote and a test edited (see the README): where exim -bp prints a spool format
// error, the message's error says what is damaged; elsewhere it has none.
func TestAgreesWithListings(t *testing.T) {
	tests := []struct {
		spool, listing, prefix string
	}{
		{"spool", "exim-bp.txt", "input/"},
		{"spool", "listings/exim-qGslowq-bp.txt", "slowq/"},
		{"spool-split", "listings/exim-bp-split-spool.txt", "input/"},
		{"spool-extras", "listings/exim-bp-extras.txt", "input/"},
		{"spool-damaged", "listings/exim-bp-damaged.txt", "input/"},
	}
	for _, tt := range tests {
		t.Run(tt.listing, func(t *testing.T) {
			want := parseBP(t, "testdata/exim/"+tt.listing)
			var got []bpMessage
			for _, m := range readAll(t, openSpool(t, "testdata/exim/"+tt.spool)) {
				if strings.HasPrefix(m.File.Path, tt.prefix) {
					if m.Error != "" && !strings.Contains(m.Error, "spool format error in the header section: header record at offset") {
						t.Errorf("%s: error %s", m.QueueID, m.Error)
					}
					got = append(got, asBP(t, "testdata/exim/"+tt.spool, m))
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%d messages, exim -bp lists %d", len(got), len(want))
			}
			for i := range want {
				if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
					t.Errorf("message %d:\n got %v\nwant %v", i, got[i], want[i])
				}
			}
		})
	}
}
