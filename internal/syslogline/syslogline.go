// Package syslogline splits a syslog line (as rsyslog, syslog-ng, journalctl -o short-iso and
// Postfix's own postlogd write it) into its time, host, program and message, for the drivers
// whose MTA logs through syslog (Postfix, Sendmail). What the message means is the driver's.
package syslogline

import (
	"bytes"
	"strconv"
	"time"

	"github.com/mqsql/mqsql"
)

// Line is one syslog line taken apart; Host, Program and Msg point into the line.
type Line struct {
	Time    float64 // unix seconds, fractional where the stamp has a fraction
	Host    []byte
	Program []byte // e.g. "postfix/smtp", "sm-mta"; the [pid] is dropped
	Msg     []byte // after "program[pid]: "
}

// Parse takes line apart. ok is false when the line is not "STAMP HOST PROGRAM[PID]: MSG"
// with a classic ("Dec  7 23:16:10", "Dec 07 23:16:10") or RFC 3339 stamp.
func Parse(line []byte, d mqsql.LogDating) (l Line, ok bool) {
	rest, ok := parseStamp(line, d, &l.Time)
	if !ok {
		return l, false
	}
	sp := bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		return l, false
	}
	l.Host, rest = rest[:sp], rest[sp+1:]
	colon := bytes.Index(rest, []byte(": "))
	if colon <= 0 {
		return l, false
	}
	prog := rest[:colon]
	if i := bytes.IndexByte(prog, '['); i > 0 && prog[len(prog)-1] == ']' {
		prog = prog[:i]
	}
	if bytes.IndexByte(prog, ' ') >= 0 {
		return l, false
	}
	l.Program, l.Msg = prog, rest[colon+2:]
	return l, true
}

// parseStamp reads the stamp at the start of line into *t and returns what follows it.
func parseStamp(line []byte, d mqsql.LogDating, t *float64) ([]byte, bool) {
	if len(line) > 20 && isDigit(line[0]) && line[4] == '-' && line[10] == 'T' {
		return parseRFC3339(line, t)
	}
	return parseClassic(line, d, t)
}

var months = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// parseClassic reads "Mmm dd hh:mm:ss " (day space- or zero-padded), optionally with a
// fraction (rsyslog's high-precision format without the year is not one, but
// "Dec  7 23:16:10.123" is accepted), dated by d.
func parseClassic(line []byte, d mqsql.LogDating, t *float64) ([]byte, bool) {
	if len(line) < 16 || line[3] != ' ' || line[6] != ' ' || line[9] != ':' || line[12] != ':' {
		return nil, false
	}
	mon := 0
	for i, m := range months {
		if string(line[:3]) == m {
			mon = i + 1
			break
		}
	}
	day := digits(line[4:6])
	hh, mm, ss := digits(line[7:9]), digits(line[10:12]), digits(line[13:15])
	if mon == 0 || day < 1 || day > 31 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60 {
		return nil, false
	}
	rest := line[15:]
	frac, rest := fraction(rest)
	if len(rest) == 0 || rest[0] != ' ' {
		return nil, false
	}
	tm := d.YearFor(time.Month(mon), day, hh, mm, ss, 0)
	*t = float64(tm.Unix()) + frac
	return rest[1:], true
}

// parseRFC3339 reads "2026-12-07T23:16:10[.ffffff](Z|+hh:mm) ".
func parseRFC3339(line []byte, t *float64) ([]byte, bool) {
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return nil, false
	}
	tm, err := time.Parse(time.RFC3339Nano, string(line[:sp]))
	if err != nil {
		return nil, false
	}
	*t = float64(tm.Unix()) + float64(tm.Nanosecond())/1e9
	return line[sp+1:], true
}

// fraction reads ".digits" at the start of b.
func fraction(b []byte) (float64, []byte) {
	if len(b) < 2 || b[0] != '.' || !isDigit(b[1]) {
		return 0, b
	}
	i := 1
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	f, _ := strconv.ParseFloat(string(b[:i]), 64)
	return f, b[i:]
}

// digits reads a two-character number, a leading space counting as 0; -1 when it is none.
func digits(b []byte) int {
	n := 0
	for _, c := range b {
		switch {
		case c == ' ':
		case isDigit(c):
			n = n*10 + int(c-'0')
		default:
			return -1
		}
	}
	return n
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
