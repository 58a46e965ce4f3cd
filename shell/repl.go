package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/peterh/liner"
)

// Prompts, as sqlite3 shows them, with mqsql's name.
const (
	mainPrompt = "mqsql> "
	contPrompt = "   ...> "
)

// REPL reads statements from a terminal until Ctrl-D, with line editing and history. Ctrl-C
// clears the statement being typed, or cancels the query that is running. It returns the
// exit status: 0, since errors inside the REPL were shown and the user moved on.
func REPL(ctx context.Context, s *Session, stdin io.Reader, stdout io.Writer) int {
	ln := liner.NewLiner()
	defer ln.Close()
	ln.SetCtrlCAborts(true)
	hist := historyPath()
	loadHistory(ln, hist)
	defer saveHistory(ln, hist, s.Err)

	var sp Splitter
	var entry []string
	for {
		prompt := mainPrompt
		if !sp.Empty() {
			prompt = contPrompt
		}
		line, err := ln.Prompt(prompt)
		if errors.Is(err, liner.ErrPromptAborted) {
			sp.Reset()
			entry = nil
			continue
		}
		if err != nil { // io.EOF: Ctrl-D
			fmt.Fprintln(stdout)
			return 0
		}
		if sp.Empty() {
			switch strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(line), ";")) {
			case "quit", "exit", ".quit", ".exit":
				return 0
			case "":
				continue
			}
		}
		entry = append(entry, line)
		stmts := sp.Feed(line + "\n")
		if sp.Empty() {
			ln.AppendHistory(strings.Join(entry, " "))
			entry = nil
		}
		for _, stmt := range stmts {
			s.execInteractive(ctx, stmt)
		}
	}
}

// execInteractive runs one statement so that Ctrl-C cancels it instead of ending mqsql.
func (s *Session) execInteractive(ctx context.Context, stmt string) {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	if err := s.Exec(ctx, stmt); err != nil {
		if ctx.Err() != nil {
			err = errors.New("interrupted")
		}
		s.reportError(0, err)
	}
}

// historyPath is ~/.mqsql_history unless MQSQL_HISTORY names another file.
func historyPath() string {
	if p := os.Getenv("MQSQL_HISTORY"); p != "" {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".mqsql_history")
}

func loadHistory(ln *liner.State, path string) {
	if path == "" {
		return
	}
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	ln.ReadHistory(f)
}

// saveHistory writes the history through a private temporary file renamed into place: the
// history holds addresses, and a crash must not leave half a file.
func saveHistory(ln *liner.State, path string, stderr io.Writer) {
	if path == "" {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".mqsql_history-*")
	if err != nil {
		fmt.Fprintf(stderr, "mqsql: save history: %v\n", err)
		return
	}
	defer os.Remove(tmp.Name())
	if _, err := ln.WriteHistory(tmp); err != nil {
		tmp.Close()
		fmt.Fprintf(stderr, "mqsql: save history: %v\n", err)
		return
	}
	if err := tmp.Close(); err == nil {
		err = os.Rename(tmp.Name(), path)
		if err != nil {
			fmt.Fprintf(stderr, "mqsql: save history: %v\n", err)
		}
	}
}
