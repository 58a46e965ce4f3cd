package output

import (
	"io"
	"sync"
	"unicode/utf8"
)

// Writer is the one way mqsql's messages for people reach a terminal: errors, warnings, the
// restore report and the watch daemon's log quote mail data (a Subject in an SQL error, a
// file name in a spool warning, a queue ID from a backup manifest), and a terminal must never
// receive its control characters. Everything written through a Writer is escaped by
// EscapeMessage's rules, the rules of the table output that keep newlines and tabs. A UTF-8
// character split across two Writes is held until it is complete, so it is not escaped as
// invalid bytes. A Writer is safe for concurrent use.
type Writer struct {
	mu      sync.Mutex
	w       io.Writer
	partial []byte // the start of a UTF-8 sequence that the next Write may complete
}

// Escaping returns a Writer that escapes what is written to w. When w is already a Writer it
// is returned as it is, so that a message passed down through several layers that each make
// sure of escaping is escaped once.
func Escaping(w io.Writer) *Writer {
	if ew, ok := w.(*Writer); ok {
		return ew
	}
	return &Writer{w: w}
}

// Write escapes p and writes it to the underlying writer. It returns len(p) when the
// underlying writer took everything; the end of an incomplete UTF-8 sequence is kept back
// for the next Write (or Flush) and counts as written.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	buf := make([]byte, 0, len(w.partial)+len(p))
	buf = append(append(buf, w.partial...), p...)
	keep := incompleteTail(buf)
	w.partial = append(w.partial[:0], buf[len(buf)-keep:]...)
	if err := w.writeEscaped(buf[:len(buf)-keep]); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes what is kept back of an incomplete UTF-8 sequence, escaped as the invalid
// bytes it now is. Call it when nothing more will be written.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	rest := w.partial
	w.partial = nil
	return w.writeEscaped(rest)
}

// Raw returns the underlying writer, for the few writes that are mqsql's own terminal
// control and carry no data from mail, such as the progress line of a cold load with its
// carriage return and erase-line sequence. It is a separate writer, not a mode of this one,
// so no text written through the Writer can turn escaping off.
func (w *Writer) Raw() io.Writer { return w.w }

func (w *Writer) writeEscaped(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	_, err := io.WriteString(w.w, EscapeMessage(string(b)))
	return err
}

// incompleteTail returns how many bytes at the end of b are the valid start of a UTF-8
// sequence that is not complete yet: 0 to 3.
func incompleteTail(b []byte) int {
	for i := len(b) - 1; i >= 0 && i > len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if utf8.FullRune(b[i:]) {
				return 0
			}
			return len(b) - i
		}
	}
	return 0
}
