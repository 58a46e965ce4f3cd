package golden

import "testing"

func TestFirstDiff(t *testing.T) {
	tests := []struct{ got, want, diff string }{
		{"a\nb\n", "a\nc\n", "line 2:\n got: \"b\"\nwant: \"c\""},
		{"a\n", "a\nmore\n", "line 2:\n got: \"\"\nwant: \"more\""},
		{"\x1b[2J\n", "x\n", "line 1:\n got: \"\\x1b[2J\"\nwant: \"x\""},
	}
	for _, tt := range tests {
		if d := firstDiff([]byte(tt.got), []byte(tt.want)); d != tt.diff {
			t.Errorf("firstDiff(%q, %q) = %q, want %q", tt.got, tt.want, d, tt.diff)
		}
	}
}
