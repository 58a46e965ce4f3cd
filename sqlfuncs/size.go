package sqlfuncs

import (
	"database/sql/driver"
	"math"
	"strconv"

	"modernc.org/sqlite"
)

// sizeUnits are the binary multiples human_size uses, as ls -h and du -h do.
const sizeUnits = "BKMGTPE"

// humanSizeFunc is human_size(bytes): 512B, 5.6K, 21M, 1.2G. Message sizes and queue totals
// are read by eye far more often than they are computed with.
func humanSizeFunc(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	n, ok, err := integer("human_size", args[0])
	if !ok {
		return nil, err
	}
	return humanSize(n), nil
}

// humanSize writes n bytes with one decimal below ten units and none above, moving to the
// next unit when rounding reaches 1024 of this one.
func humanSize(n int64) string {
	if n < 0 {
		if n == math.MinInt64 {
			return "-8.0E"
		}
		return "-" + humanSize(-n)
	}
	if n < 1024 {
		return strconv.FormatInt(n, 10) + "B"
	}
	v, unit := float64(n), 0
	for unit < len(sizeUnits)-1 && v >= 1024 {
		v /= 1024
		unit++
	}
	if v >= 9.95 && math.Round(v) >= 1024 && unit < len(sizeUnits)-1 {
		v /= 1024
		unit++
	}
	if v < 9.95 {
		return strconv.FormatFloat(v, 'f', 1, 64) + sizeUnits[unit:unit+1]
	}
	return strconv.FormatFloat(math.Round(v), 'f', 0, 64) + sizeUnits[unit:unit+1]
}
