package output

import (
	"slices"
	"testing"
)

func TestWidth(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{"日本", 4},
		{"日本語のテキスト", 16},
		{"한국어", 6},
		{"ｱｲｳ", 3}, // half-width katakana
		{"🎉", 2},
		{"👍🏽", 2},              // emoji with a skin tone is one glyph
		{"👨\u200d👩\u200d👧", 2}, // ZWJ sequence, unescaped
		{"e\u0301", 1},         // combining accent
		{"…", 1},               // ambiguous width counts as one cell whatever the locale
		{"±αд", 3},
		{`\x1b[2J`, 7}, // escaped text is plain ASCII
	}
	for _, tt := range tests {
		if got := width(tt.in); got != tt.want {
			t.Errorf("width(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		w    int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcdef", 4, "abc…"},
		{"abcd", 1, "…"},
		{"日本語", 4, "日…"}, // 日本 would need 4 cells plus the ellipsis
		{"日本語", 5, "日本…"},
		{"🎉🎉🎉", 4, "🎉…"},
		{"a👍🏽b", 3, "a…"},
	}
	for _, tt := range tests {
		got := truncate(tt.in, tt.w)
		if got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.w, got, tt.want)
		}
		if width(got) > tt.w {
			t.Errorf("truncate(%q, %d) is %d cells wide", tt.in, tt.w, width(got))
		}
	}
}

func TestFitWidths(t *testing.T) {
	tests := []struct {
		name    string
		widths  []int
		numeric []bool
		budget  int
		want    []int
	}{
		{"fits", []int{3, 10, 20}, []bool{false, false, false}, 33, []int{3, 10, 20}},
		{"widest shrinks first", []int{3, 10, 20}, []bool{false, false, false}, 25, []int{3, 10, 12}},
		{"two widest share", []int{3, 10, 20}, []bool{false, false, false}, 20, []int{3, 9, 8}},
		{"even split", []int{20, 20}, []bool{false, false}, 11, []int{6, 5}},
		{"text gives way before numbers", []int{19, 30, 10}, []bool{true, false, true}, 45, []int{19, 16, 10}},
		{"numbers shrink once text is at its minimum", []int{19, 30, 10}, []bool{true, false, true}, 30, []int{10, 10, 10}},
		{"all numeric", []int{19, 10}, []bool{true, true}, 20, []int{10, 10}},
		{"one cell each at least", []int{5, 5, 5}, []bool{false, false, false}, 2, []int{1, 1, 1}},
		{"empty column stays empty", []int{0, 10}, []bool{false, false}, 5, []int{0, 5}},
		{"no columns", nil, nil, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.widths)
			got := fitWidths(in, tt.numeric, tt.budget)
			if !slices.Equal(got, tt.want) {
				t.Errorf("fitWidths(%v, %v, %d) = %v, want %v", tt.widths, tt.numeric, tt.budget, got, tt.want)
			}
			if !slices.Equal(in, tt.widths) {
				t.Errorf("fitWidths modified its input: %v", in)
			}
		})
	}
}
