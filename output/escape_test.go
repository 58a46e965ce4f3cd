package output

import "testing"

func TestEscape(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain ASCII", "Invoice 42", "Invoice 42"},
		{"empty", "", ""},
		{"backslash kept", `C:\temp\x1b`, `C:\temp\x1b`},
		{"ESC sequences", "\x1b[2J\x1b]0;pwned\x07", `\x1b[2J\x1b]0;pwned\x07`},
		{"newline tab CR", "a\nb\tc\rd", `a\nb\tc\rd`},
		{"NUL and DEL", "\x00x\x7f", `\x00x\x7f`},
		{"all of C0", "\x01\x08\x0b\x0c\x1f", `\x01\x08\x0b\x0c\x1f`},
		{"C1 CSI", "\u009b31m", `\u009b31m`},
		{"C1 NEL and APC", "\u0085\u009f\u0080", `\u0085\u009f\u0080`},
		{"invalid bytes", "\xff\xfe", `\xff\xfe`},
		{"bad continuation", "\xc3\x28", `\xc3(`},
		{"truncated rune at end", "ok\xe2\x80", `ok\xe2\x80`},
		{"encoded surrogate", "\xed\xa0\x80", `\xed\xa0\x80`},
		{"overlong slash", "\xc0\xaf", `\xc0\xaf`},
		{"real U+FFFD kept", "\ufffd", "\ufffd"},
		{"bidi override", "invoice_\u202egnp.exe", `invoice_\u202egnp.exe`},
		{"bidi embeddings", "\u202a\u202b\u202c\u202d", `\u202a\u202b\u202c\u202d`},
		{"bidi isolates", "\u2066\u2067\u2068x\u2069", `\u2066\u2067\u2068x\u2069`},
		{"bidi marks", "\u200e\u200f\u061c", `\u200e\u200f\u061c`},
		{"zero width", "pay\u200bp\u200ca\u200dl", `pay\u200bp\u200ca\u200dl`},
		{"word joiner BOM soft hyphen", "\u2060\ufeff\u00ad", `\u2060\ufeff\u00ad`},
		{"line and paragraph separators", "a\u2028b\u2029", `a\u2028b\u2029`},
		{"tag characters", "\U000e0001\U000e0041\U000e007f", `\U000e0001\U000e0041\U000e007f`},
		{"default ignorable fillers", "\u115f\u3164\uffa0\u034f", `\u115f\u3164\uffa0\u034f`},
		{"variation selector kept", "\u2764\ufe0f", "\u2764\ufe0f"},
		{"CJK and emoji kept", "日本語 🎉 👍🏽", "日本語 🎉 👍🏽"},
		{"Latin-1 and NBSP kept", "café\u00a0ß", "café\u00a0ß"},
		{"combining accent kept", "e\u0301", "e\u0301"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Escape(tt.in); got != tt.want {
				t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestEscapePolicies(t *testing.T) {
	const (
		tsv         = escBackslash | escLayout
		tsvEscaped  = tsv | escControls
		markdown    = escPipe | escBackslash | escBreak
		markdownEsc = escPipe | escBackslash | escControls
		table       = escLayout
	)
	tests := []struct {
		name string
		p    policy
		in   string
		want string
	}{
		{"none is byte-faithful", 0, "\x1b[2J\n\t\xff\u202e", "\x1b[2J\n\t\xff\u202e"},
		{"tsv structure", tsv, "a\\b\tc\nd\re", `a\\b\tc\nd\re`},
		{"tsv leaves other controls", tsv, "\x1b\xff\u009b", "\x1b\xff\u009b"},
		{"tsv escaped", tsvEscaped, "\\\x1b\xff\u009b\t", `\\\x1b\xff\u009b\t`},
		{"table layout only", table, "a\nb\x1b", `a\nb` + "\x1b"},
		{"markdown pipe and backslash", markdown, `a|b\|c`, `a\|b\\\|c`},
		{"markdown line breaks", markdown, "x\r\ny\nz\rw", "x<br>y<br>z<br>w"},
		{"markdown keeps tab", markdown, "a\tb", "a\tb"},
		{"markdown escaped", markdownEsc, "a|b\nc\r\nd\x1b", `a\|b\nc\r\nd\x1b`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := escape(tt.in, tt.p); got != tt.want {
				t.Errorf("escape(%q, %b) = %q, want %q", tt.in, tt.p, got, tt.want)
			}
		})
	}
}

// Clean values are the common case and must cost nothing.
func TestEscapeCleanDoesNotAllocate(t *testing.T) {
	s := "queue 4F2A31C0B2: 日本語 🎉 café"
	allocs := testing.AllocsPerRun(100, func() {
		if escape(s, escControls|escLayout|escBackslash|escPipe) != s {
			t.Fatal("clean string changed")
		}
	})
	if allocs != 0 {
		t.Errorf("escape of a clean string allocated %v times", allocs)
	}
}

func TestHidden(t *testing.T) {
	for _, r := range []rune{0, 0x1b, 0x7f, 0x80, 0x9b, 0x9f, 0xad, 0x61c, 0x200b, 0x200d,
		0x200e, 0x202e, 0x2028, 0x2029, 0x2066, 0x2069, 0xfeff, 0xe0001, 0xe007f, 0x3164} {
		if !hidden(r) {
			t.Errorf("hidden(%U) = false, want true", r)
		}
	}
	for _, r := range []rune{' ', 'a', '~', 0xa0, 0xe9, 0xfe0f, 0x65e5, 0x1f389, 0xfffd, 0x2026} {
		if hidden(r) {
			t.Errorf("hidden(%U) = true, want false", r)
		}
	}
}
