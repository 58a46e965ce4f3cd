package output

import (
	"bufio"
	"strings"
)

// markdownFormat writes a GitHub-flavoured markdown table, padded so that it also reads well
// as plain text. Like table mode it keeps the rows until End to know the widths.
type markdownFormat struct {
	out  *bufio.Writer
	null string
	pol  policy
	grid grid
}

func newMarkdown(out *bufio.Writer, opt Options) *markdownFormat {
	// "|" and "\" are escaped so a value cannot end its cell early or eat the escape of a
	// "|"; line breaks become <br> unless Escape asks for \n.
	pol := escPipe | escBackslash
	if opt.Escape {
		pol |= escControls
	} else {
		pol |= escBreak
	}
	return &markdownFormat{out: out, null: opt.NullValue, pol: pol}
}

func (m *markdownFormat) begin(columns []string) error {
	m.grid.reset(columns, m.pol)
	return nil
}

func (m *markdownFormat) row(values []any) error {
	m.grid.add(values, m.null, m.pol)
	return nil
}

func (m *markdownFormat) end() error {
	g := &m.grid
	if len(g.header) == 0 {
		return nil // a table without columns is not markdown
	}
	buf := appendGridRow(nil, "|", g.header, g.widths, true)
	buf = append(buf, '|')
	for _, w := range g.widths {
		buf = append(buf, strings.Repeat("-", w+2)...)
		buf = append(buf, '|')
	}
	buf = append(buf, '\n')
	if _, err := m.out.Write(buf); err != nil {
		return err
	}
	for row := range g.rows() {
		buf = appendGridRow(buf[:0], "|", row, g.widths, false)
		if _, err := m.out.Write(buf); err != nil {
			return err
		}
	}
	g.cells = nil
	return nil
}
