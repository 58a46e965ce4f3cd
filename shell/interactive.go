package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"

	"github.com/mqsql/mqsql/output"
)

// Prompts, as sqlite3 shows them, with mqsql's name.
const (
	mainPrompt = "mqsql> "
	contPrompt = "   ...> "
)

// ErrInterrupt is what a LineEditor returns when the user pressed Ctrl-C at the prompt.
var ErrInterrupt = errors.New("shell: interrupted")

// LineEditor reads what a person types. It is liner on a terminal and a script in tests, so
// that the REPL's behaviour can be tested line by line without a terminal.
type LineEditor interface {
	// Prompt shows prompt and returns the line typed, without its newline. It returns io.EOF
	// at the end of input (Ctrl-D on an empty line) and ErrInterrupt for Ctrl-C.
	Prompt(prompt string) (string, error)
	// AppendHistory adds an entry to what the up arrow recalls.
	AppendHistory(entry string)
}

// Interactive is the REPL's loop: it reads statements and dot-commands, shows the
// continuation prompt inside a statement, keeps the history, and makes Ctrl-C clear what is
// being typed or cancel what runs, never leave.
type Interactive struct {
	Session *Session
	Editor  LineEditor
	// History receives each entry; nil keeps none.
	History *History
	// Interrupts delivers Ctrl-C pressed while something runs (SIGINT, since liner gives the
	// terminal back between prompts); each cancels what runs. Nil: nothing can be cancelled.
	Interrupts <-chan os.Signal
	// BeforePrompt, when set, runs before each prompt (the REPL refits tables to the
	// terminal's width, which may have changed).
	BeforePrompt func()

	sp    Splitter // the statement being typed
	lines []string // its lines, for the history
}

// Run reads and runs until the end of input, .quit, quit or exit. It returns the exit status,
// 0: errors inside the REPL were shown and the user went on.
func (in *Interactive) Run(ctx context.Context) int {
	s := in.Session
	s.interactive = true
	defer func() { s.interactive = false }()
	if s.Confirm == nil {
		s.Confirm = in.confirm
		defer func() { s.Confirm = nil }()
	}
	defer in.saveHistory()
	for {
		if in.BeforePrompt != nil {
			in.BeforePrompt()
		}
		line, err := in.Editor.Prompt(in.prompt())
		switch {
		case errors.Is(err, ErrInterrupt):
			in.sp.Reset()
			in.lines = nil
			continue
		case errors.Is(err, io.EOF):
			fmt.Fprintln(s.screen())
			return 0
		case err != nil:
			fmt.Fprintf(output.Escaping(s.Err), "mqsql: %v\n", err)
			return exitError
		}
		if errors.Is(in.line(ctx, line), errQuit) {
			return 0
		}
	}
}

// exitError is the REPL's status when the terminal fails under it.
const exitError = 1

func (in *Interactive) prompt() string {
	if in.sp.Empty() {
		return mainPrompt
	}
	return contPrompt
}

// Pending returns the statement typed on earlier lines and not yet complete, for completion.
func (in *Interactive) Pending() string { return in.sp.Pending() }

// Complete is the REPL's Tab completion for the line being edited with the cursor at pos (in
// runes), in the context of the statement typed on earlier lines. It returns the text before
// the word being completed, the candidates for the word, and the text after the cursor, as
// liner's word completer does.
func (in *Interactive) Complete(line string, pos int) (head string, candidates []string, tail string) {
	return newCompleter(in.Session, in.Pending).complete(line, pos)
}

// line handles one line typed at the prompt.
func (in *Interactive) line(ctx context.Context, line string) error {
	if in.sp.Empty() {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" {
			return nil
		}
		if word, ok := bareCommand(trimmed); ok {
			in.addHistory([]string{line})
			return in.bare(ctx, word)
		}
		if isDotCommand(line) {
			in.addHistory([]string{line})
			return in.report(in.guard(ctx, func(ctx context.Context) error {
				return in.Session.dotCommand(ctx, line, 0)
			}))
		}
	}
	in.lines = append(in.lines, line)
	stmts := in.sp.Feed(line + "\n")
	if in.sp.Empty() {
		in.addHistory(in.lines)
		in.lines = nil
	}
	for _, stmt := range stmts {
		in.report(in.guard(ctx, func(ctx context.Context) error {
			return in.Session.runStatement(ctx, stmt)
		}))
	}
	return nil
}

// report prints an error of a statement or command; errQuit passes through.
func (in *Interactive) report(err error) error {
	if err == nil || errors.Is(err, errQuit) {
		return err
	}
	if !errors.Is(err, errReported) {
		in.Session.reportError(0, err)
	}
	return nil
}

// bareCommand recognizes help, quit and exit typed without a dot, as psql users type them
// (and psql's \q and \?).
func bareCommand(line string) (string, bool) {
	w := strings.ToLower(strings.TrimSpace(strings.TrimSuffix(line, ";")))
	switch w {
	case "help", `\?`:
		return "help", true
	case "quit", "exit", `\q`:
		return "quit", true
	}
	return "", false
}

func (in *Interactive) bare(ctx context.Context, word string) error {
	if word == "quit" {
		return errQuit
	}
	return in.report(dotHelp(in.Session, ctx, nil, 0))
}

// guard runs fn with a context that Ctrl-C cancels. An interrupt left over from before (Ctrl-C
// pressed while nothing ran) is dropped first, so it cannot cancel the next statement.
func (in *Interactive) guard(ctx context.Context, fn func(context.Context) error) error {
	for drained := false; !drained; {
		select {
		case <-in.Interrupts:
		default:
			drained = true
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-in.Interrupts:
			cancel()
		case <-done:
		}
	}()
	err := fn(ctx)
	if err != nil && ctx.Err() != nil && !errors.Is(err, errQuit) && !errors.Is(err, errReported) {
		err = errors.New("interrupted")
	}
	return err
}

// addHistory records the lines of one entry in the editor and the history file.
func (in *Interactive) addHistory(lines []string) {
	entry := historyEntry(lines)
	if entry == "" {
		return
	}
	in.Editor.AppendHistory(entry)
	if in.History != nil {
		in.History.Add(entry)
		in.saveHistory()
	}
}

// saveHistory writes the history at once, so that nothing typed is lost if mqsql is killed.
func (in *Interactive) saveHistory() {
	if in.History == nil {
		return
	}
	if err := in.History.Save(); err != nil {
		fmt.Fprintf(output.Escaping(in.Session.Err), "mqsql: %v\n", err)
		in.History = nil // say it once
	}
}

// confirm asks a yes/no question at the prompt; anything but y or yes, Ctrl-C and Ctrl-D
// mean no. The question may quote mail data, so it is escaped: liner refuses a prompt with
// control characters, and the terminal must never get them.
func (in *Interactive) confirm(question string) (bool, error) {
	lines := strings.Split(strings.TrimRight(question, "\n"), "\n")
	for _, l := range lines[:len(lines)-1] {
		fmt.Fprintln(in.Session.screen(), output.Escape(l))
	}
	answer, err := in.Editor.Prompt(promptText(lines[len(lines)-1]))
	if errors.Is(err, ErrInterrupt) || errors.Is(err, io.EOF) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	a := strings.ToLower(strings.TrimSpace(answer))
	return a == "y" || a == "yes", nil
}

// promptText escapes text for use as a prompt: what output.Escape leaves (private-use
// characters, say) but liner refuses is escaped too.
func promptText(s string) string {
	s = output.Escape(s)
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.C, r) {
			return '?'
		}
		return r
	}, s)
}
