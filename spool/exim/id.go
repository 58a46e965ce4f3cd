package exim

// ValidQueueID reports whether id is an Exim message ID: 16 characters TTTTTT-PPPPPP-SS
// (Exim ≤ 4.96) or 23 characters TTTTTT-PPPPPPPPPPP-SSSS (4.97+), base 62. Only such names
// may become a path or an argument to exim.
func ValidQueueID(id string) bool {
	switch len(id) {
	case 16:
		return idShape(id, 6, 13)
	case 23:
		return idShape(id, 6, 18)
	}
	return false
}

// idShape checks that id has dashes exactly at d1 and d2 and base-62 digits elsewhere.
func idShape(id string, d1, d2 int) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if i == d1 || i == d2 {
			if c != '-' {
				return false
			}
			continue
		}
		if !isBase62(c) {
			return false
		}
	}
	return true
}

func isBase62(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

// splitDir is the split_spool_directory subdirectory of id: its 6th character, the last
// digit of the time part, in both ID formats.
func splitDir(id string) string { return id[5:6] }

// dataStart is the length of the -D file's first line (the ID, "-D" and a newline), which the
// size exim -bp prints leaves out and which is the region Exim locks.
func dataStart(id string) int64 { return int64(len(id) + 3) }

// idFromName returns the message ID of a spool file name (ID-H, ID-D, ID-J) and its suffix.
func idFromName(name string) (id string, suffix byte, ok bool) {
	if len(name) < 3 || name[len(name)-2] != '-' {
		return "", 0, false
	}
	id, suffix = name[:len(name)-2], name[len(name)-1]
	if !ValidQueueID(id) {
		return "", 0, false
	}
	switch suffix {
	case 'H', 'D', 'J':
		return id, suffix, true
	}
	return "", 0, false
}
