package sendmailtest

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// Listed is one message as mailq (sendmail -bp, print_single_queue) lists it, fields as
// printed: Sender and recipient addresses keep their <>, Time is "Jan _2 15:04" (the weekday
// of the non-verbose listing dropped).
type Listed struct {
	ID string
	// Status is the character after the ID: '*' locked by a queue runner, '?' lost (-qL),
	// '-' too young, 'X' over the load limit, ' ' otherwise.
	Status     byte
	Size       int64
	Priority   int64 // -v only
	Time       string
	Sender     string
	BodyType   string // "8BITMIME", "7BIT", or ""
	Quarantine string // -qQ: the QUARANTINE: line
	Message    string // the envelope's status, printed in parentheses
	Recipients []ListedRecipient
}

// ListedRecipient is one recipient line, with the status line -v prints after it.
type ListedRecipient struct {
	Address string
	Message string
}

// ParseMailq parses the output of sendmail -bp (verbose tells whether -v was given: it adds
// the priority column and per-recipient status lines). It returns the messages in listed
// order and the sum of the "(N requests)" counts of the queue headers.
func ParseMailq(out string, verbose bool) ([]Listed, int, error) {
	var msgs []Listed
	total := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trim := strings.TrimSpace(line)
		switch {
		case trim == "" || strings.HasPrefix(trim, "-----Q-ID") || strings.HasPrefix(trim, "Total requests:") ||
			strings.HasSuffix(trim, " is empty") || strings.HasPrefix(trim, "MSP Queue status"):
		case strings.HasPrefix(line, "\t\t/") || strings.HasPrefix(line, "\t\t."):
			c, err := requestCount(trim)
			if err != nil {
				return nil, 0, fmt.Errorf("mailq line %d: %w", n, err)
			}
			total += c
		case isHead(line):
			m, err := parseHead(line, verbose)
			if err != nil {
				return nil, 0, fmt.Errorf("mailq line %d: %w", n, err)
			}
			msgs = append(msgs, m)
		case len(msgs) == 0:
			return nil, 0, fmt.Errorf("mailq line %d: %q before any message", n, line)
		default:
			detail(&msgs[len(msgs)-1], line, trim)
		}
	}
	return msgs, total, sc.Err()
}

// isHead reports whether line is a message's first line. mailq right-aligns an ID shorter
// than its column (Sendmail before 8.12 wrote IDs like AAA06703), so such a line starts with
// spaces, as the envelope's detail lines do; those are a status in parentheses or have no
// size after their first word.
func isHead(line string) bool {
	if line[0] != ' ' && line[0] != '\t' {
		return true
	}
	f := strings.Fields(line)
	if line[0] != ' ' || len(f) < 4 || strings.HasPrefix(f[0], "(") {
		return false
	}
	_, err := strconv.ParseInt(f[1], 10, 64)
	return err == nil
}

// requestCount reads "/path (N requests)".
func requestCount(head string) (int, error) {
	i := strings.LastIndexByte(head, '(')
	if i < 0 {
		return 0, fmt.Errorf("queue header %q without a count", head)
	}
	f := strings.Fields(head[i+1:])
	if len(f) < 1 {
		return 0, fmt.Errorf("queue header %q without a count", head)
	}
	return strconv.Atoi(f[0])
}

// parseHead reads a message's first line: ID and status, size, [priority,] time, sender.
func parseHead(line string, verbose bool) (Listed, error) {
	f := strings.Fields(line)
	timeAt := 2 // non-verbose: "Tue Dec  1 19:55"
	if verbose {
		timeAt = 3 // verbose: priority, then "Dec  1 19:55"
	}
	need := timeAt + 3
	if !verbose {
		need++
	}
	if len(f) < need {
		return Listed{}, fmt.Errorf("message line %q: too few fields", line)
	}
	var m Listed
	m.ID, m.Status = f[0], ' '
	// An ID ends in the digits of a process ID, so a last character that is no digit is the
	// status, a letter too: X marks mail a queue run leaves while the load is high.
	if c := m.ID[len(m.ID)-1]; c < '0' || c > '9' {
		m.ID, m.Status = m.ID[:len(m.ID)-1], c
	}
	var err error
	if m.Size, err = strconv.ParseInt(f[1], 10, 64); err != nil {
		return Listed{}, fmt.Errorf("message line %q: size: %w", line, err)
	}
	if verbose {
		if m.Priority, err = strconv.ParseInt(f[2], 10, 64); err != nil {
			return Listed{}, fmt.Errorf("message line %q: priority: %w", line, err)
		}
	} else {
		timeAt++ // skip the weekday
	}
	m.Time = fmt.Sprintf("%s %2s %s", f[timeAt], f[timeAt+1], f[timeAt+2])
	m.Sender = strings.Join(f[timeAt+3:], " ")
	return m, nil
}

// detail adds an indented line to m: a recipient (tab-indented) and its status, or the
// envelope's body type, quarantine reason and status (space-indented).
func detail(m *Listed, line, trim string) {
	paren := strings.HasPrefix(trim, "(") && strings.HasSuffix(trim, ")")
	switch {
	case line[0] == '\t' && paren && len(m.Recipients) > 0:
		m.Recipients[len(m.Recipients)-1].Message = trim[1 : len(trim)-1]
	case line[0] == '\t':
		m.Recipients = append(m.Recipients, ListedRecipient{Address: trim})
	case paren:
		m.Message = trim[1 : len(trim)-1]
	case strings.HasPrefix(trim, "QUARANTINE: "):
		m.Quarantine = strings.TrimPrefix(trim, "QUARANTINE: ")
	default:
		m.BodyType = trim
	}
}
