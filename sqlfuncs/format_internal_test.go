package sqlfuncs

import (
	"math"
	"testing"
)

func TestCompactDuration(t *testing.T) {
	tests := []struct {
		sec  int64
		want string
	}{
		{0, "0s"}, {45, "45s"}, {60, "1m"}, {90, "1m30s"}, {3600, "1h"}, {3660, "1h1m"},
		{3661, "1h1m"}, {86400, "1d"}, {3*86400 + 4*3600 + 59, "3d4h"}, {400 * 86400, "400d"},
	}
	for _, tt := range tests {
		if got := compactDuration(tt.sec); got != tt.want {
			t.Errorf("compactDuration(%d) = %q, want %q", tt.sec, got, tt.want)
		}
	}
}

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
