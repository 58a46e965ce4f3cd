package output

import (
	"bufio"
	"fmt"
	"io"
)

// formatter is the part of a Renderer that differs between formats. renderer checks the
// order of calls and the length of rows once for all of them, so a formatter can assume
// both.
type formatter interface {
	begin(columns []string) error
	row(values []any) error
	end() error
}

// renderer is the Renderer that New returns: it guards a formatter and owns the buffer that
// the formatter writes into.
type renderer struct {
	format Format
	impl   formatter // nil when format is unknown
	out    *bufio.Writer
	sink   *sink
	ncols  int
	open   bool
}

// sink remembers the first error of the writer behind the buffer, so that a closed pipe
// (mqsql ... | head) stops the query at the next row instead of at End.
type sink struct {
	w   io.Writer
	err error
}

func (s *sink) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	s.err = err
	return n, err
}

func (r *renderer) Begin(columns []string) error {
	if r.impl == nil {
		_, err := ParseFormat(string(r.format))
		return err
	}
	if r.open {
		return fmt.Errorf("output: %s: Begin called before End of the previous result set", r.format)
	}
	r.open, r.ncols = true, len(columns)
	return r.check("begin result set", r.impl.begin(columns))
}

func (r *renderer) Row(values []any) error {
	if !r.open {
		return fmt.Errorf("output: %s: Row called outside Begin and End", r.format)
	}
	if len(values) != r.ncols {
		return fmt.Errorf("output: %s: row has %d values for %d columns", r.format, len(values), r.ncols)
	}
	return r.check("write row", r.impl.row(values))
}

func (r *renderer) End() error {
	if !r.open {
		return fmt.Errorf("output: %s: End called without Begin", r.format)
	}
	r.open = false
	if err := r.check("end result set", r.impl.end()); err != nil {
		return err
	}
	return r.check("flush", r.out.Flush())
}

// check adds context to err, and reports a failure of the underlying writer even when the
// formatter did not see it because the buffer absorbed the write.
func (r *renderer) check(what string, err error) error {
	if err == nil {
		err = r.sink.err
	}
	if err != nil {
		return fmt.Errorf("output: %s: %s: %w", r.format, what, err)
	}
	return nil
}
