package main

import (
	"fmt"
	"io"
	"time"

	"github.com/mqsql/mqsql/index"
)

// showProgress makes a cold load of a large spool visible: while ix.Sync reads, a line on
// stderr counts the messages read and the rate, when stderr is a terminal; a script's stderr
// gets nothing. It returns the function that takes the line away once Sync is done, so the
// results start on a clean line.
func showProgress(ix *index.Index, stderr io.Writer) (done func()) {
	if !isTerminal(stderr) {
		return func() {}
	}
	p := &progress{w: unescaped(stderr)} // mqsql's own \r and erase-line, no mail data
	ix.OnProgress = p.update
	return func() {
		ix.OnProgress = nil
		p.clear()
	}
}

// progress draws and clears the one-line load display.
type progress struct {
	w     io.Writer
	shown bool
}

// update redraws the line. Sync calls it every few thousand files and once at the end; a load
// done before the first report shows nothing.
func (p *progress) update(st index.Stats) {
	if !p.shown && st.Read < minShown {
		return
	}
	p.shown = true
	rate := 0.0
	if st.Elapsed > 0 {
		rate = float64(st.Read) / st.Elapsed.Seconds()
	}
	fmt.Fprintf(p.w, "\rmqsql: indexing the queue: %d messages read (%.0f/s, %s)\x1b[K",
		st.Read, rate, st.Elapsed.Round(100*time.Millisecond))
}

// minShown is how many messages a load must have read before it is worth showing.
const minShown = 5000

func (p *progress) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
