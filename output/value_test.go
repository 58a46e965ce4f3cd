package output

import (
	"math"
	"testing"
	"time"
)

func TestFormatFloat(t *testing.T) {
	tenth, fifth := 0.1, 0.2 // variables, so the sum is computed in float64 as SQLite does
	tests := []struct {
		in   float64
		want string
	}{
		{1, "1.0"},
		{-2.5, "-2.5"},
		{0, "0.0"},
		{tenth + fifth, "0.30000000000000004"}, // every digit needed to read it back
		{100, "100.0"},
		{123456.789, "123456.789"},
		{1e14, "100000000000000.0"},
		{1e15, "1.0e+15"}, // sqlite3 switches to exponent form at 15 digits
		{1e20, "1.0e+20"},
		{1.25e20, "1.25e+20"},
		{0.0001, "0.0001"},
		{0.00001, "1.0e-05"},
		{-2.5e-7, "-2.5e-07"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{5e-324, "5.0e-324"},
		{math.Inf(1), "Inf"},
		{math.Inf(-1), "-Inf"},
		{math.NaN(), "NaN"},
	}
	for _, tt := range tests {
		if got := formatFloat(tt.in); got != tt.want {
			t.Errorf("formatFloat(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPlainText(t *testing.T) {
	tests := []struct {
		in   any
		want string
		kind kind
	}{
		{nil, "", kindNull},
		{int64(math.MinInt64), "-9223372036854775808", kindNumber},
		{2.5, "2.5", kindNumber},
		{"x", "x", kindText},
		{[]byte("raw"), "raw", kindText},
		{[]byte(nil), "", kindText}, // an empty blob is not NULL
		{true, "1", kindNumber},
		{false, "0", kindNumber},
		{time.Date(2026, 3, 14, 15, 9, 26, 500_000_000, time.UTC), "2026-03-14 15:09:26.5+00:00", kindText},
		{7, "7", kindNumber},
		{uint8(3), "3", kindText},
	}
	for _, tt := range tests {
		got, k := plainText(tt.in)
		if got != tt.want || k != tt.kind {
			t.Errorf("plainText(%#v) = %q, %d; want %q, %d", tt.in, got, k, tt.want, tt.kind)
		}
	}
}
