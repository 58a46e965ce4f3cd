package output

import "bufio"

// listFormat is sqlite3's default mode: values joined by a separator, one row per line.
type listFormat struct {
	out     *bufio.Writer
	headers bool
	null    string
	sep     string
	pol     policy
	buf     []byte
}

func newList(out *bufio.Writer, opt Options) *listFormat {
	var pol policy
	if opt.Escape {
		pol = escControls
	}
	return &listFormat{out: out, headers: opt.Headers, null: opt.NullValue, sep: opt.Separator, pol: pol}
}

func (l *listFormat) begin(columns []string) error {
	if !l.headers {
		return nil
	}
	buf := l.buf[:0]
	for i, name := range columns {
		if i > 0 {
			buf = append(buf, l.sep...)
		}
		buf = append(buf, escape(name, l.pol)...)
	}
	l.buf = append(buf, '\n')
	_, err := l.out.Write(l.buf)
	return err
}

func (l *listFormat) row(values []any) error {
	buf := l.buf[:0]
	for i, v := range values {
		if i > 0 {
			buf = append(buf, l.sep...)
		}
		s, _ := cellText(v, l.null, l.pol)
		buf = append(buf, s...)
	}
	l.buf = append(buf, '\n')
	_, err := l.out.Write(l.buf)
	return err
}

func (l *listFormat) end() error { return nil }
