package output_test

import (
	"math"
	"time"
)

// The hostile result set every format is tested with: what a queue full of spam can put in
// front of an admin, next to the ordinary values and edge cases of each SQLite type.

var hostileColumns = []string{"id", "subject", "sender", "size", "score", "raw", "urgent", "arrived"}

var (
	arrived1 = time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC)
	arrived2 = time.Date(2026, 3, 15, 8, 0, 0, 0, time.FixedZone("CET", 3600))
	tenth    = 0.1
)

var hostileRows = [][]any{
	{int64(1), "\x1b[2J\x1b]0;pwned\x07Invoice overdue", "billing@example.com", int64(2048), 0.5, []byte("plain bytes"), true, arrived1},
	{int64(math.MaxInt64), "\u009b31mRED ALERT", "multi\nline\tand\ttabs", int64(0), tenth + 0.2, []byte{0xff, 0xfe, 'o', 'k'}, false, nil},
	{int64(math.MinInt64), "invoice_\u202egnp.exe", "日本語のテキスト", int64(-1), 1e20, nil, nil, arrived2},
	{int64(0), "🎉 Party 👍🏽 time", "", nil, -2.5e-7, []byte{}, nil, nil},
	{nil, `a|b,"c"`, `back\slash`, int64(42), 100.0, []byte("x|y"), true, nil},
	{int64(6), "bad \xc3\x28 utf8 \xff", "pay\u200bpal\r\nCRLF", int64(7), math.Inf(1), []byte("日本"), false, nil},
	{int64(7), "", "\x7fDEL \x00NUL \u2066isolate\u2069", int64(math.MaxInt64), math.Inf(-1), nil, nil, nil},
}

// emptyColumns is a second result set with no rows, rendered after the hostile one by the
// same Renderer.
var emptyColumns = []string{"queue_id", "recipient"}
