package output_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/output"
)

// hostileText is what mail can put into a message mqsql prints: an OSC 52 clipboard write,
// an OSC title, BEL, ESC and C1 CSI sequences, a bidi override, a carriage return that would
// overwrite the line, and text that must come through as it is (wide characters, a tab, a
// newline).
const hostileText = "skip hold/\x1b]52;c;cm0gLXJmIH4=\x07\x1b]0;pwned\x07 \u009b31m red\x1b[2J " +
	"\u202egnp.exe 件名\tok\rmqsql: all good\n"

func TestWriter(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"plain", []string{"mqsql: warning: skip hold/x\n"}, "mqsql: warning: skip hold/x\n"},
		{"newline and tab kept", []string{"a\tb\nc\n"}, "a\tb\nc\n"},
		{"carriage return escaped", []string{"a\rb"}, `a\rb`},
		{"ESC BEL OSC 52", []string{"\x1b]52;c;eA==\x07"}, `\x1b]52;c;eA==\x07`},
		{"C1 as UTF-8", []string{"\u009b31m\u0085"}, `\u009b31m\u0085`},
		{"C1 as a raw byte", []string{"\x9b31m"}, `\x9b31m`},
		{"bidi override", []string{"\u202egnp.exe"}, `\u202egnp.exe`},
		{"wide characters kept", []string{"件名 ✓"}, "件名 ✓"},
		{"C1 split after its first byte", []string{"a\xc2", "\x9bb"}, `a\u009bb`},
		{"bidi override split in three", []string{"\xe2", "\x80", "\xaex"}, `\u202ex`},
		{"CJK split", []string{"件\xe5", "\x90\x8d"}, "件名"},
		{"four-byte rune split", []string{"\xf0\x9f", "\x98", "\x80!"}, "\U0001F600!"},
		{"split start never completed", []string{"a\xe2\x80", "b"}, `a\xe2\x80b`},
		{"stray continuation byte", []string{"a\x80", "b"}, `a\x80b`},
		{"ESC split from its sequence", []string{"x\x1b", "[2J"}, `x\x1b[2J`},
		{"empty writes", []string{"", "a", ""}, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			w := output.Escaping(&b)
			for _, s := range tt.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write(%q) = %d, %v; want %d, nil", s, n, err, len(s))
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got %q, want %q", b.String(), tt.want)
			}
		})
	}
}

// TestWriterEverySplit writes hostile text in two parts at every byte offset, and in one byte
// writes: the result is always that of one write.
func TestWriterEverySplit(t *testing.T) {
	want := output.EscapeMessage(hostileText)
	for _, raw := range []string{"\x1b", "\x07", "\u009b", "\u202e", "\r"} {
		if strings.Contains(want, raw) {
			t.Fatalf("EscapeMessage left %q raw in %q", raw, want)
		}
	}
	for i := 0; i <= len(hostileText); i++ {
		var b bytes.Buffer
		w := output.Escaping(&b)
		fmt.Fprint(w, hostileText[:i])
		fmt.Fprint(w, hostileText[i:])
		w.Flush()
		if b.String() != want {
			t.Fatalf("split at %d: got %q, want %q", i, b.String(), want)
		}
	}
	var b bytes.Buffer
	w := output.Escaping(&b)
	for i := 0; i < len(hostileText); i++ {
		w.Write([]byte{hostileText[i]})
	}
	w.Flush()
	if b.String() != want {
		t.Errorf("byte by byte: got %q, want %q", b.String(), want)
	}
}

// TestWriterRaw checks that mqsql's own terminal control goes through Raw untouched, beside
// escaped text on the same destination, and that a character held back for its end is not
// broken by it.
func TestWriterRaw(t *testing.T) {
	var b bytes.Buffer
	w := output.Escaping(&b)
	fmt.Fprint(w, "warning: \x1b[K \xe4")
	fmt.Fprint(w.Raw(), "\rindexing\x1b[K")
	fmt.Fprint(w, "\xbd\xa0\n")
	want := `warning: \x1b[K ` + "\rindexing\x1b[K" + "你\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// TestEscapingOnce checks that a Writer is not wrapped again, so text is escaped once.
func TestEscapingOnce(t *testing.T) {
	var b bytes.Buffer
	w := output.Escaping(&b)
	if output.Escaping(w) != w {
		t.Error("Escaping wrapped a Writer in another")
	}
}

// TestWriterError checks that the underlying writer's error reaches the caller.
func TestWriterError(t *testing.T) {
	w := output.Escaping(failingWriter{})
	if n, err := w.Write([]byte("x")); !errors.Is(err, errDiskFull) || n != 0 {
		t.Errorf("Write = %d, %v; want 0 and the error", n, err)
	}
}

func TestEscapeMessage(t *testing.T) {
	tests := []struct{ in, want string }{
		{"line one\n\tline two\n", "line one\n\tline two\n"},
		{"a\r\nb", `a\r` + "\nb"},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"\x00\x7f\u2028", `\x00\x7f\u2028`},
		{`already \x1b escaped`, `already \x1b escaped`},
	}
	for _, tt := range tests {
		if got := output.EscapeMessage(tt.in); got != tt.want {
			t.Errorf("EscapeMessage(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
