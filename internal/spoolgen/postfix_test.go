package spoolgen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/user"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/internal/postfixtest"
)

// TestPostfixReadsGeneratedFiles puts a generated population into the real Postfix queue and
// checks that Postfix's own tools read it as the generator wrote it: postqueue -j lists every
// message, and only those, with the same size, arrival time, sender and recipients with their
// delay reasons; postcat -q decodes sampled files record for record at the same offsets.
// Only deferred (far-future retry time) and held mail is generated, which a running Postfix
// never picks up; Reset empties the queue again afterwards.
func TestPostfixReadsGeneratedFiles(t *testing.T) {
	pf := postfixtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := pf.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := pf.Reset(context.Background()); err != nil {
			t.Errorf("empty the queue again: %v", err)
		}
	})
	opt := Options{Messages: 400, Seed: 42, Deferred: 0.85, Hold: 0.15, RetryTime: time.Unix(4102444800, 0)}
	opt.UID, opt.GID = mailOwner(t)
	written := map[string]*Message{}
	if _, err := Generate(ctx, pf.QueueDir(), opt, func(m *Message) error {
		written[m.Queue+"/"+m.QueueID] = m
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	entries, err := pf.PostqueueJSON(ctx)
	if err != nil {
		t.Fatal(err)
	}
	comparePostqueue(t, entries, written)
	sampled := 0
	for _, m := range written {
		if sampled++; sampled > 60 {
			break
		}
		out, err := pf.Postcat(ctx, "-oq", m.QueueID)
		if err != nil {
			t.Fatalf("postcat -oq %s: %v", m.QueueID, err)
		}
		comparePostcat(t, m, out)
	}
}

func mailOwner(t *testing.T) (int, int) {
	t.Helper()
	u, err := user.Lookup("postfix")
	if err != nil {
		t.Fatalf("mail_owner: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return uid, gid
}

// expectedRecipients is what showq lists for m: the defer log's entries in log order, with
// their reasons, then the pending recipients without an entry.
func expectedRecipients(m *Message) []postfixtest.Recipient {
	var out []postfixtest.Recipient
	listed := map[string]bool{}
	for _, r := range m.Recipients {
		if r.Deferred && !r.Done {
			out = append(out, postfixtest.Recipient{Address: quoteLocal(r.Address), DelayReason: r.Reason})
			listed[quoteLocal(r.Address)] = true
		}
	}
	for _, r := range m.Recipients {
		if !r.Done && !listed[quoteLocal(r.Address)] {
			out = append(out, postfixtest.Recipient{Address: quoteLocal(r.Address)})
		}
	}
	return out
}

func comparePostqueue(t *testing.T, entries []postfixtest.Entry, written map[string]*Message) {
	t.Helper()
	seen := map[string]bool{}
	for _, e := range entries {
		key := e.QueueName + "/" + e.QueueID
		m := written[key]
		if m == nil || seen[key] {
			t.Errorf("postqueue lists %s, which was not generated (or twice)", key)
			continue
		}
		seen[key] = true
		sender := quoteLocal(m.Sender)
		if m.Sender == "" {
			sender = "MAILER-DAEMON"
		}
		if e.ArrivalTime != m.ArrivalSec || e.MessageSize != m.Size() || e.Sender != sender || e.ForcedExpire != (m.Mode&0o010 != 0) {
			t.Errorf("%s: postqueue says arrival %d size %d sender %q forced %v; generated %d %d %q %v",
				key, e.ArrivalTime, e.MessageSize, e.Sender, e.ForcedExpire, m.ArrivalSec, m.Size(), sender, m.Mode&0o010 != 0)
		}
		if want := expectedRecipients(m); !slices.Equal(e.Recipients, want) {
			t.Errorf("%s: postqueue lists recipients\n%v\ngenerated\n%v", key, e.Recipients, want)
		}
	}
	if len(seen) != len(written) {
		t.Errorf("postqueue lists %d of the %d generated messages", len(seen), len(written))
	}
}

// postcatLine is one line of postcat -o output: a record's offset and what postcat printed.
var postcatLine = regexp.MustCompile(`^ *([0-9]+) (.*)$`)

// comparePostcat checks postcat's decoding of m's file: no complaint, the C record's fields,
// the sender, every recipient record at its offset, and the header lines.
func comparePostcat(t *testing.T, m *Message, out []byte) {
	t.Helper()
	var section string
	var rcpts []string
	var headers []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "postcat:") && (strings.Contains(line, "warning") || strings.Contains(line, "fatal")) {
			t.Errorf("%s: %s", m.QueueID, line)
		}
		off, text := "", line
		if g := postcatLine.FindStringSubmatch(line); g != nil {
			off, text = g[1], g[2]
		}
		if strings.HasPrefix(text, "*** ") {
			section = strings.Fields(text)[1] // postcat -o gives section lines an offset too
			continue
		}
		if off == "" {
			continue
		}
		if section == "MESSAGE" {
			if len(headers) < len(m.Headers) {
				headers = append(headers, text)
			}
			continue
		}
		name, value, _ := strings.Cut(text, ": ")
		switch strings.TrimSuffix(name, ":") {
		case "message_size":
			want := strings.Fields(sizePayload([6]int64{m.ContentSize, m.DataOffset, int64(len(m.Recipients)), notifyBits(m), m.ContentSize, 0}))
			if got := strings.Fields(value); !slices.Equal(got[:5], want[:5]) {
				t.Errorf("%s: postcat message_size %v, generated %v", m.QueueID, got, want)
			}
		case "sender":
			if value != m.Sender {
				t.Errorf("%s: postcat sender %q, generated %q", m.QueueID, value, m.Sender)
			}
		case "recipient", "done_recipient":
			rcpts = append(rcpts, off+" "+name+" "+value)
		}
	}
	var want []string
	for _, r := range m.Recipients {
		kind := "recipient"
		if r.Done {
			kind = "done_recipient"
		}
		want = append(want, fmt.Sprintf("%d %s %s", r.Offset, kind, r.Address))
	}
	slices.Sort(rcpts)
	slices.Sort(want)
	if !slices.Equal(rcpts, want) {
		t.Errorf("%s: postcat recipients %q, generated %q", m.QueueID, rcpts, want)
	}
	if !slices.Equal(headers, m.Headers) {
		t.Errorf("%s: postcat headers\n%q\ngenerated\n%q", m.QueueID, headers, m.Headers)
	}
}

func notifyBits(m *Message) int64 {
	n := 0
	for _, r := range m.Recipients {
		n |= r.NotifyFlags
	}
	return int64(n << 1)
}
