package eximtest

import (
	"bufio"
	"fmt"
	"strings"
)

// Message is one message as exim -bp lists it.
type Message struct {
	Age, Size, ID, Sender string
	Frozen                bool
	// FormatError is the "*** spool format error: size=N ***" line Exim prints under a
	// message whose header section it cannot read, "" for others.
	FormatError string
	// Recipients are "D addr" for delivered ones, "  addr" for pending ones, in -H order.
	Recipients []string
}

// ParseBP parses exim -bp output: a line per message ("age size ID <sender>[ *** frozen
// ***]"), for a message whose header section Exim cannot read a line "    *** spool format
// error: size=N ***[ *** frozen ***]", its recipients indented by 8 (with "D " for
// delivered), a blank line.
func ParseBP(out string) ([]Message, error) {
	var msgs []Message
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
		case strings.HasPrefix(line, "    ***") && len(msgs) > 0:
			m := &msgs[len(msgs)-1]
			m.FormatError, m.Frozen = strings.CutSuffix(strings.TrimSpace(line), " *** frozen ***")
		case strings.HasPrefix(line, "        "):
			if len(msgs) == 0 {
				return nil, fmt.Errorf("recipient before any message: %q", line)
			}
			msgs[len(msgs)-1].Recipients = append(msgs[len(msgs)-1].Recipients, line[8:])
		default:
			m, err := parseMessageLine(line)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, m)
		}
	}
	return msgs, sc.Err()
}

func parseMessageLine(line string) (Message, error) {
	f := strings.Fields(line)
	if len(f) < 4 {
		return Message{}, fmt.Errorf("unexpected exim -bp line %q", line)
	}
	m := Message{Age: f[0], Size: f[1], ID: f[2]}
	rest := strings.TrimSpace(line[strings.Index(line, f[2])+len(f[2]):])
	rest, m.Frozen = strings.CutSuffix(rest, " *** frozen ***")
	if !strings.HasPrefix(rest, "<") || !strings.HasSuffix(rest, ">") {
		return Message{}, fmt.Errorf("unexpected sender in exim -bp line %q", line)
	}
	m.Sender = rest[1 : len(rest)-1]
	return m, nil
}

// FormatSize is Exim's string_format_size, as exim -bp prints a size (trimmed).
func FormatSize(n int64) string {
	var s string
	switch {
	case n < 1024:
		s = fmt.Sprintf("%d", n)
	case n < 10*1024:
		s = fmt.Sprintf("%.1fK", float64(n)/1024)
	case n < 1024*1024:
		s = fmt.Sprintf("%dK", (n+512)/1024)
	case n < 10*1024*1024:
		s = fmt.Sprintf("%.1fM", float64(n)/(1024*1024))
	default:
		s = fmt.Sprintf("%dM", (n+512*1024)/(1024*1024))
	}
	return s
}

// FormatAge is how exim -bp prints the age of a message received age seconds ago.
func FormatAge(age int64) string {
	m := age / 60
	if m <= 90 {
		return fmt.Sprintf("%dm", m)
	}
	h := (m + 30) / 60
	if h <= 72 {
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dd", (h+12)/24)
}
