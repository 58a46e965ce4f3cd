package output

import (
	"bufio"
	"strings"
)

// tableFormat draws boxes like sqlite3's ".mode box". It keeps the rows of a result set
// until End, fits the columns to Options.Width and then draws.
type tableFormat struct {
	out   *bufio.Writer
	null  string
	width int
	pol   policy
	grid  grid
}

func newTable(out *bufio.Writer, opt Options) *tableFormat {
	// Line breaks and tabs are escaped even without Options.Escape: raw, they would tear the
	// box apart.
	pol := escLayout
	if opt.Escape {
		pol |= escControls
	}
	return &tableFormat{out: out, null: opt.NullValue, width: opt.Width, pol: pol}
}

func (t *tableFormat) begin(columns []string) error {
	t.grid.reset(columns, t.pol)
	return nil
}

func (t *tableFormat) row(values []any) error {
	t.grid.add(values, t.null, t.pol)
	return nil
}

func (t *tableFormat) end() error {
	g := &t.grid
	n := len(g.header)
	if n == 0 {
		return nil // a statement without columns has nothing to draw
	}
	widths := g.widths
	if t.width > 0 {
		// Each column costs its text plus a space either side and one border; the line
		// has one more border at its start.
		widths = fitWidths(widths, g.numeric, t.width-1-3*n)
	}
	buf := make([]byte, 0, 256)
	buf = appendRule(buf, widths, "┌", "┬", "┐")
	buf = appendGridRow(buf, "│", g.header, widths, true)
	buf = appendRule(buf, widths, "├", "┼", "┤")
	if _, err := t.out.Write(buf); err != nil {
		return err
	}
	for row := range g.rows() {
		buf = appendGridRow(buf[:0], "│", row, widths, false)
		if _, err := t.out.Write(buf); err != nil {
			return err
		}
	}
	buf = appendRule(buf[:0], widths, "└", "┴", "┘")
	g.cells = nil // let a large result set go before the next one arrives
	_, err := t.out.Write(buf)
	return err
}

// appendRule appends a horizontal line of the box.
func appendRule(dst []byte, widths []int, left, mid, right string) []byte {
	dst = append(dst, left...)
	for i, w := range widths {
		if i > 0 {
			dst = append(dst, mid...)
		}
		dst = append(dst, strings.Repeat("─", w+2)...)
	}
	dst = append(dst, right...)
	return append(dst, '\n')
}
