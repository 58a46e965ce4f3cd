package postfix

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mqsql/mqsql"
)

// seedFiles adds every real queue file and log under testdata/samples to a fuzz corpus.
func seedFiles(f *testing.F, match func(path string) bool) {
	root := filepath.Join("..", "..", "testdata", "samples")
	err := filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !match(path) {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil {
			f.Add(b)
		}
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
}

func isLog(path string) bool {
	return strings.Contains(path, string(filepath.Separator)+"defer"+string(filepath.Separator))
}

// FuzzQueueFile feeds arbitrary bytes to the queue-file reader: it must never panic, never
// loop forever on pointer cycles, and never hold more than its caps.
func FuzzQueueFile(f *testing.F) {
	seedFiles(f, func(p string) bool { return !isLog(p) && !strings.HasSuffix(p, "stat.txt") })
	f.Fuzz(func(t *testing.T, data []byte) {
		var m mqsql.Message
		err := parseQueueFile(bytes.NewReader(data), int64(len(data)), &m, nil)
		if len(m.Recipients) > mqsql.MaxRecipients {
			t.Fatalf("%d recipients read, cap %d", len(m.Recipients), mqsql.MaxRecipients)
		}
		if err == nil && (!bytes.Contains(data, []byte{recEnd}) || !bytes.Contains(data, []byte{recFrom})) {
			t.Fatal("a file without an end or a sender record was read as complete")
		}
		for _, s := range []string{m.Subject, m.FromHeader, m.MessageID} {
			if !utf8.ValidString(s) {
				t.Fatalf("header value %q is not valid UTF-8", s)
			}
		}
	})
}

// FuzzMessageContent feeds arbitrary bytes to the record walker behind .cat, header() and
// body(), from the start of the file and by the C record's shortcut to the content: it must
// never panic and must end, pointer loops included.
func FuzzMessageContent(f *testing.F) {
	seedFiles(f, func(p string) bool { return !isLog(p) && !strings.HasSuffix(p, "stat.txt") })
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, contentOnly := range []bool{false, true} {
			records := 0
			w := &contentWalker{rr: newRecordReader(bytes.NewReader(data), int64(len(data))), fn: func(r Record) error {
				if r.Offset < 0 || r.Offset >= int64(len(data)) {
					t.Fatalf("record at offset %d of a %d-byte file", r.Offset, len(data))
				}
				records++
				return nil
			}}
			if contentOnly {
				w.skipEnvelope()
			}
			_ = w.run()
			w.rr.release()
		}
	})
}

// FuzzDeferLog feeds arbitrary text to the defer-log reader: entries must come out with no
// control characters, whatever the log held.
func FuzzDeferLog(f *testing.F) {
	seedFiles(f, isLog)
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, _ := parseLog(bytes.NewReader(data))
		for _, e := range entries {
			for _, s := range []string{e.Recipient, e.Reason, e.DiagText, e.Status} {
				for _, r := range s {
					if r < 0x20 || r == 0x7f {
						t.Fatalf("control character %U in %q", r, s)
					}
				}
			}
		}
	})
}

// FuzzQueueID checks the queue-ID rules: only valid IDs may become paths, and the path of a
// valid ID stays inside its queue directory and ends with the ID.
func FuzzQueueID(f *testing.F) {
	for _, s := range []string{"4jc7PP1W6fzdXSJ", "343CA43ECDF", "zzzzzzzzzzzz", "../x", "a/b", "", "4jc7PP1W6fzdXSJ*"} {
		f.Add(s)
	}
	cfg := Config{HashQueueNames: []string{"deferred", "defer", "hold"}, HashQueueDepth: 3}
	f.Fuzz(func(t *testing.T, id string) {
		if !ValidQueueID(id) {
			return
		}
		for _, q := range []string{"deferred", "hold", "incoming"} {
			p := cfg.RelPath(q, id)
			if !strings.HasPrefix(p, q+"/") || !strings.HasSuffix(p, "/"+id) || strings.Contains(p, "..") || strings.Contains(p, "//") {
				t.Fatalf("RelPath(%q, %q) = %q", q, id, p)
			}
		}
	})
}
