package output

import "bufio"

// newTSV returns a list formatter that separates values by tabs and escapes backslash, tab,
// newline and carriage return in values and names as PostgreSQL's COPY text format does
// (\\, \t, \n, \r), whatever Options.Escape says, so each row stays one line and every value
// can be decoded exactly.
func newTSV(out *bufio.Writer, opt Options) *listFormat {
	pol := escBackslash | escLayout
	if opt.Escape {
		pol |= escControls
	}
	return &listFormat{out: out, headers: opt.Headers, null: opt.NullValue, sep: "\t", pol: pol}
}
