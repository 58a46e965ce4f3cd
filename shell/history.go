package shell

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mqsql/mqsql/internal/safefile"
)

// HistoryLimit is how many entries the history file keeps: liner's own limit.
const HistoryLimit = 1000

// maxHistoryLine bounds one line of the history file; longer lines are skipped on reading.
const maxHistoryLine = 1 << 20

// HistoryPath is where the REPL keeps its history: $MQSQL_HISTORY when set (set but empty
// turns history off, for a session whose statements should leave no trace), else
// ~/.mqsql_history. "" means no history.
func HistoryPath() string {
	if p, ok := os.LookupEnv("MQSQL_HISTORY"); ok {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".mqsql_history")
}

// History is the REPL's history file. It holds one entry per line, a statement typed over
// several lines being one entry; a newline inside an entry (in a quoted string) is written
// \n and a backslash \\, so that every entry reads back exactly as it was. The file is
// private (mode 0600: statements name addresses) and replaced whole through a temporary file,
// so a crash never leaves half of it. Entries of other sessions written meanwhile are kept.
type History struct {
	path  string
	added []string // entries of this session not yet in the file
}

// OpenHistory reads the history file at path (a missing file is an empty history) and returns
// the entries, oldest first, for the line editor's recall. A history that cannot be kept
// safely (a link to a file, another user's file or directory) is an error and a History
// that keeps nothing, so the session says so once and goes on.
func OpenHistory(path string) (*History, []string, error) {
	h := &History{path: path}
	if path == "" {
		return h, nil, nil
	}
	entries, err := readHistory(path)
	if errors.Is(err, safefile.ErrUnsafe) {
		h.path = ""
	}
	return h, entries, err
}

// Add records an entry typed in this session; Save writes it.
func (h *History) Add(entry string) {
	if entry == "" || (len(h.added) > 0 && h.added[len(h.added)-1] == entry) {
		return
	}
	h.added = append(h.added, entry)
}

// Save merges the entries added since the last Save into the file.
func (h *History) Save() error {
	if h.path == "" || len(h.added) == 0 {
		return nil
	}
	dir, err := historyDir(h.path)
	if err != nil || dir == nil {
		return err
	}
	defer dir.Close()
	name := filepath.Base(h.path)
	entries, err := readHistoryIn(dir, name)
	if err != nil {
		return err
	}
	for _, e := range h.added {
		if len(entries) == 0 || entries[len(entries)-1] != e {
			entries = append(entries, e)
		}
	}
	if len(entries) > HistoryLimit {
		entries = entries[len(entries)-HistoryLimit:]
	}
	if err := writeHistory(dir, name, entries); err != nil {
		return err
	}
	h.added = nil
	return nil
}

// historyDir opens the directory of the history file, or returns nil when path names
// something that is not a regular file, such as /dev/null or a link to it: that is a way to
// keep no history, not a file to replace. A link to a file is refused: mqsql runs as root,
// and writing through a link would let whoever placed it choose what root rewrites.
func historyDir(path string) (*safefile.Dir, error) {
	st, err := os.Lstat(path)
	switch {
	case err == nil && st.Mode()&fs.ModeSymlink != 0:
		if target, err := os.Stat(path); err == nil && !target.Mode().IsRegular() {
			return nil, nil
		}
		return nil, fmt.Errorf("history: %w (set MQSQL_HISTORY to the file itself)", &safefile.UnsafeError{Path: path, Reason: "it is a symbolic link"})
	case err == nil && !st.Mode().IsRegular():
		return nil, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	dir, err := safefile.OpenDir(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	return dir, nil
}

// readHistory reads the history file at path; see historyDir for what is not read.
func readHistory(path string) ([]string, error) {
	dir, err := historyDir(path)
	if err != nil || dir == nil {
		return nil, err
	}
	defer dir.Close()
	return readHistoryIn(dir, filepath.Base(path))
}

// readHistoryIn reads the history file name of dir, never through a link.
func readHistoryIn(dir *safefile.Dir, name string) ([]string, error) {
	f, err := dir.OpenFile(name, os.O_RDONLY, 0o600)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	defer f.Close()
	var entries []string
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := r.ReadString('\n')
		if len(line) <= maxHistoryLine {
			if e := unescapeHistory(strings.TrimSuffix(line, "\n")); e != "" {
				entries = append(entries, e)
			}
		}
		if err != nil {
			break
		}
	}
	if len(entries) > HistoryLimit {
		entries = entries[len(entries)-HistoryLimit:]
	}
	return entries, nil
}

// writeHistory replaces the file name of dir with entries, through a private temporary file
// in the same directory renamed over it (a link put there meanwhile is replaced, not
// followed).
func writeHistory(dir *safefile.Dir, name string, entries []string) error {
	tmp, tmpName, err := dir.CreateTemp(".mqsql_history-")
	if err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	defer dir.Remove(tmpName) // after the rename there is nothing left to remove
	w := bufio.NewWriter(tmp)
	for _, e := range entries {
		w.WriteString(escapeHistory(e))
		w.WriteByte('\n')
	}
	err = w.Flush()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = dir.Rename(tmpName, name)
	}
	if err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	return nil
}

// escapeHistory writes an entry on one line: backslash as \\, newline as \n, CR as \r.
func escapeHistory(e string) string {
	if !strings.ContainsAny(e, "\\\n\r") {
		return e
	}
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`).Replace(e)
}

// unescapeHistory undoes escapeHistory; a backslash before any other character stays.
func unescapeHistory(line string) string {
	if !strings.Contains(line, `\`) {
		return line
	}
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '\\' && i+1 < len(line) {
			switch line[i+1] {
			case '\\':
				c = '\\'
				i++
			case 'n':
				c = '\n'
				i++
			case 'r':
				c = '\r'
				i++
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// historyEntry joins the lines of one statement into the single line the editor recalls, so
// that the up arrow brings back the whole statement and running it again does the same: lines
// are joined by a space, a -- comment that would swallow the next line becomes a /* */
// comment, and only a line break inside a quoted string stays a newline.
func historyEntry(lines []string) string {
	var sp Splitter
	var b strings.Builder
	inQuote := false
	for i, line := range lines {
		if i > 0 && !inQuote {
			line = strings.TrimLeft(line, " \t")
		}
		sp.Feed(line)
		last := i == len(lines)-1
		if at, ok := sp.lineComment(); ok && !last {
			comment := strings.TrimSpace(line[at+2:])
			line = strings.TrimRight(line[:at], " \t")
			if comment != "" && !strings.Contains(comment, "*/") {
				line += " /* " + comment + " */"
			}
		}
		inQuote = sp.inQuote()
		sp.Feed("\n")
		b.WriteString(line)
		if !last {
			if inQuote {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		}
	}
	return strings.TrimSpace(b.String())
}
