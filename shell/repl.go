package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/mqsql/mqsql/output"
	"github.com/peterh/liner"
	"golang.org/x/term"
)

// REPL reads statements from a terminal until Ctrl-D, with line editing, completion and
// history. Ctrl-C clears the statement being typed, or cancels what is running. It returns
// the exit status: 0, since errors inside the REPL were shown and the user moved on. When
// standard output is not a terminal (mqsql > file), it reads standard input as a script
// instead, without prompts.
func REPL(ctx context.Context, s *Session, stdin io.Reader, stdout io.Writer) int {
	if !isTerminal(stdout) {
		if err := s.RunScript(ctx, stdin); err != nil {
			if !errors.Is(err, ErrFailed) {
				fmt.Fprintf(output.Escaping(s.Err), "mqsql: %v\n", err)
			}
			return exitError
		}
		return 0
	}
	ed := newLinerEditor()
	defer ed.Close()
	interrupts := make(chan os.Signal, 1)
	signal.Notify(interrupts, os.Interrupt)
	defer signal.Stop(interrupts)

	hist, entries, err := OpenHistory(HistoryPath())
	if err != nil {
		fmt.Fprintf(output.Escaping(s.Err), "mqsql: %v\n", err)
	}
	for _, e := range entries {
		ed.AppendHistory(e)
	}
	in := &Interactive{Session: s, Editor: ed, History: hist, Interrupts: interrupts,
		BeforePrompt: func() { fitTerminal(s, stdout) }}
	ed.st.SetWordCompleter(in.Complete)
	fmt.Fprintln(stdout, `mqsql: SQL on the Postfix queue. Enter ".help" for help, Ctrl-D to leave.`)
	return in.Run(ctx)
}

// fitTerminal fits tables to the terminal's width, which the user may have changed.
func fitTerminal(s *Session, stdout io.Writer) {
	f, ok := stdout.(*os.File)
	if !ok || s.redirect != nil {
		return
	}
	if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
		s.Opt.Width = w
	}
}

// linerEditor is the LineEditor of a terminal.
type linerEditor struct {
	st *liner.State
}

func newLinerEditor() *linerEditor {
	st := liner.NewLiner()
	st.SetCtrlCAborts(true)
	st.SetTabCompletionStyle(liner.TabPrints)
	return &linerEditor{st: st}
}

func (e *linerEditor) Prompt(prompt string) (string, error) {
	line, err := e.st.Prompt(prompt)
	if errors.Is(err, liner.ErrPromptAborted) {
		return "", ErrInterrupt
	}
	return line, err
}

func (e *linerEditor) AppendHistory(entry string) { e.st.AppendHistory(entry) }

// Close gives the terminal back its modes.
func (e *linerEditor) Close() error { return e.st.Close() }
