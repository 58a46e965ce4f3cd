package syslogline

import "bytes"

// Field returns the value of key in a message of "key=value, key=value" fields, as Postfix
// and Sendmail log them: the text after "key=" up to the next ", " (for a value in angle
// brackets, up to the ">" that such a separator or the end follows, so that a quoted address
// holding ", " stays whole). The key must start the message or follow ", " or " ".
func Field(msg []byte, key string) ([]byte, bool) {
	i := indexKey(msg, key)
	if i < 0 {
		return nil, false
	}
	v := msg[i+len(key)+1:]
	if len(v) > 0 && v[0] == '<' {
		for j := 1; j < len(v); j++ {
			if v[j] == '>' && (j+1 == len(v) || bytes.HasPrefix(v[j+1:], []byte(", ")) || v[j+1] == ' ') {
				return v[:j+1], true
			}
		}
	}
	if end := bytes.Index(v, []byte(", ")); end >= 0 {
		return v[:end], true
	}
	return v, true
}

// indexKey finds "key=" at a field's start.
func indexKey(msg []byte, key string) int {
	from := 0
	for {
		j := bytes.Index(msg[from:], []byte(key))
		if j < 0 {
			return -1
		}
		j += from
		end := j + len(key)
		if end < len(msg) && msg[end] == '=' && (j == 0 || msg[j-1] == ' ') {
			return j
		}
		from = j + 1
	}
}

// Unbracket drops the angle brackets around an address ("<a@b>" -> "a@b", "<>" -> "").
func Unbracket(v []byte) []byte {
	if len(v) >= 2 && v[0] == '<' && v[len(v)-1] == '>' {
		return v[1 : len(v)-1]
	}
	return v
}
