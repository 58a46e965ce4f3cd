package output

import "iter"

// grid holds the cells of one result set for the formats that must see every row before
// they can write the first: table and markdown, whose column widths depend on all cells.
type grid struct {
	header []cell
	// cells holds the rows, len(header) cells each, in chunks of up to chunkRows rows so
	// that a large result set grows without copying what it already holds.
	cells  [][]cell
	widths []int // the widest cell of each column, header included
	// numeric tells the columns whose values are all numbers or NULL, which table mode
	// cuts last.
	numeric []bool
}

// chunkRows is how many rows a chunk of grid.cells holds.
const chunkRows = 1024

// cell is a value's text as it will be written, with its width measured once.
type cell struct {
	text  string
	width int32
	right bool // numbers are right-aligned
}

// reset starts a new result set with the given column names, escaped by p like the values.
func (g *grid) reset(columns []string, p policy) {
	g.header = make([]cell, len(columns))
	g.cells = nil
	g.widths = make([]int, len(columns))
	g.numeric = make([]bool, len(columns))
	for i, c := range columns {
		name := escape(c, p)
		w := width(name)
		g.header[i] = cell{text: name, width: int32(w)}
		g.widths[i] = w
		g.numeric[i] = true
	}
}

// add appends one row, each value turned into its text by cellText.
func (g *grid) add(values []any, null string, p policy) {
	if len(values) == 0 {
		return // nothing to draw, and no chunk can hold it
	}
	if n := len(g.cells); n == 0 || len(g.cells[n-1])+len(values) > cap(g.cells[n-1]) {
		g.cells = append(g.cells, make([]cell, 0, chunkRows*len(values)))
	}
	chunk := &g.cells[len(g.cells)-1]
	for i, v := range values {
		s, k := cellText(v, null, p)
		w := width(s)
		*chunk = append(*chunk, cell{text: s, width: int32(w), right: k == kindNumber})
		g.widths[i] = max(g.widths[i], w)
		if k == kindText {
			g.numeric[i] = false
		}
	}
}

// rows yields each row's cells in order.
func (g *grid) rows() iter.Seq[[]cell] {
	return func(yield func([]cell) bool) {
		n := len(g.header)
		if n == 0 {
			return
		}
		for _, chunk := range g.cells {
			for i := 0; i+n <= len(chunk); i += n {
				if !yield(chunk[i : i+n]) {
					return
				}
			}
		}
	}
}

// align is where a cell's text sits in its column.
type align uint8

const (
	alignLeft align = iota
	alignRight
	alignCenter
)

// appendCell appends c padded to w cells, cut with an ellipsis first if it is wider.
func appendCell(dst []byte, c cell, w int, a align) []byte {
	text, tw := c.text, int(c.width)
	if tw > w {
		text = truncate(text, w)
		tw = width(text)
	}
	gap := max(w-tw, 0)
	switch a {
	case alignRight:
		dst = appendSpaces(dst, gap)
		dst = append(dst, text...)
	case alignCenter:
		dst = appendSpaces(dst, gap/2)
		dst = append(dst, text...)
		dst = appendSpaces(dst, gap-gap/2)
	default:
		dst = append(dst, text...)
		dst = appendSpaces(dst, gap)
	}
	return dst
}

// appendGridRow appends one line of cells, each padded to its column's width and set between
// bars; a header row is centred, as sqlite3 does.
func appendGridRow(dst []byte, bar string, row []cell, widths []int, header bool) []byte {
	dst = append(dst, bar...)
	for i, c := range row {
		a := alignLeft
		switch {
		case header:
			a = alignCenter
		case c.right:
			a = alignRight
		}
		dst = append(dst, ' ')
		dst = appendCell(dst, c, widths[i], a)
		dst = append(dst, ' ')
		dst = append(dst, bar...)
	}
	return append(dst, '\n')
}
