package mqsql

import "strconv"

// durationUnits are the units of CompactDuration, largest first.
var durationUnits = []struct {
	seconds int64
	name    string
}{{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}}

// CompactDuration writes sec (not negative) in its largest unit and, when not zero, the next
// one: 0s, 45s, 1m30s, 2h, 3d4h. Two units are precise enough to read a queue by.
func CompactDuration(sec int64) string {
	for i, u := range durationUnits {
		if sec < u.seconds && u.seconds > 1 {
			continue
		}
		s := strconv.FormatInt(sec/u.seconds, 10) + u.name
		if i+1 < len(durationUnits) {
			next := durationUnits[i+1]
			if r := sec % u.seconds / next.seconds; r > 0 {
				s += strconv.FormatInt(r, 10) + next.name
			}
		}
		return s
	}
	return "0s"
}
