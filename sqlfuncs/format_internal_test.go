package sqlfuncs

import (
	"math"
	"testing"
)

func TestHumanSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{1, "1B"}, {10188, "9.9K"}, {10189, "10K"}, {1<<20 - 1, "1.0M"}, {1 << 40, "1.0T"},
		{math.MaxInt64, "8.0E"}, {math.MinInt64, "-8.0E"},
	}
	for _, tt := range tests {
		if got := humanSize(tt.n); got != tt.want {
			t.Errorf("humanSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
