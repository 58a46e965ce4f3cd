package output

import "bufio"

// lineFormat writes each row as "name = value" lines, like sqlite3's ".mode line" and psql's
// \x: the form for rows too wide for a table, such as a message with all its headers.
type lineFormat struct {
	out     *bufio.Writer
	null    string
	pol     policy
	labels  []string // each column name right-aligned and followed by " = "
	written bool     // a row was written, so the next one needs a blank line before it
	buf     []byte
}

func newLine(out *bufio.Writer, opt Options) *lineFormat {
	var pol policy
	if opt.Escape {
		pol = escControls
	}
	return &lineFormat{out: out, null: opt.NullValue, pol: pol}
}

func (l *lineFormat) begin(columns []string) error {
	names := make([]string, len(columns))
	widest := 0
	for i, c := range columns {
		names[i] = escape(c, l.pol)
		widest = max(widest, width(names[i]))
	}
	l.labels = make([]string, len(names))
	for i, name := range names {
		label := appendSpaces(nil, widest-width(name))
		label = append(label, name...)
		l.labels[i] = string(append(label, " = "...))
	}
	return nil
}

func (l *lineFormat) row(values []any) error {
	buf := l.buf[:0]
	if l.written {
		buf = append(buf, '\n')
	}
	l.written = true
	for i, v := range values {
		s, _ := cellText(v, l.null, l.pol)
		buf = append(buf, l.labels[i]...)
		buf = append(buf, s...)
		buf = append(buf, '\n')
	}
	l.buf = buf
	_, err := l.out.Write(buf)
	return err
}

func (l *lineFormat) end() error { return nil }
