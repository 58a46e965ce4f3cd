package output

import (
	"bufio"
	"encoding/csv"
)

// csvFormat writes RFC 4180 CSV through encoding/csv, which does the quoting.
type csvFormat struct {
	w       *csv.Writer
	headers bool
	null    string
	pol     policy
	record  []string
}

func newCSV(out *bufio.Writer, opt Options) *csvFormat {
	var pol policy
	if opt.Escape {
		pol = escControls
	}
	return &csvFormat{w: csv.NewWriter(out), headers: opt.Headers, null: opt.NullValue, pol: pol}
}

func (c *csvFormat) begin(columns []string) error {
	if !c.headers {
		return nil
	}
	record := make([]string, len(columns))
	for i, name := range columns {
		record[i] = escape(name, c.pol)
	}
	return c.w.Write(record)
}

func (c *csvFormat) row(values []any) error {
	c.record = c.record[:0]
	for _, v := range values {
		s, _ := cellText(v, c.null, c.pol)
		c.record = append(c.record, s)
	}
	return c.w.Write(c.record)
}

func (c *csvFormat) end() error {
	c.w.Flush()
	return c.w.Error()
}
