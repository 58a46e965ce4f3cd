package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mqsql/mqsql/internal/safefile"
	"github.com/mqsql/mqsql/output"
	"golang.org/x/term"
)

// redirect is where .output or .once sends results instead of the session's Out.
type redirect struct {
	file  *os.File
	name  string
	once  bool      // .once: back to out after the next command
	out   io.Writer // the Out to go back to
	width int       // Opt.Width to go back to
}

// errReported is returned by a command whose failures were already printed (.read of a
// script with errors): the caller counts it as a failure without printing it again.
var errReported = errors.New("shell: failed")

func dotOnce(s *Session, _ context.Context, args []string, _ int) error {
	return s.setOutput(args[0], true)
}

func dotOutput(s *Session, _ context.Context, args []string, _ int) error {
	if len(args) == 0 || args[0] == "stdout" || args[0] == "-" {
		return s.endRedirect()
	}
	return s.setOutput(args[0], false)
}

// setOutput sends results to the file name until endRedirect, or only for the next command.
// A new file is created with mode 0600, as it holds mail data (see openOutput). In a file,
// csv and tsv stay byte for byte what the index holds and tables are not fitted to a
// terminal's width.
func (s *Session) setOutput(name string, once bool) error {
	if strings.HasPrefix(name, "|") {
		return fmt.Errorf("output to a command (%q) is not supported; write to a file", name)
	}
	if err := s.endRedirect(); err != nil {
		return err
	}
	f, err := openOutput(name)
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	s.onTerminal() // decide about the real Out before it is swapped
	s.redirect = &redirect{file: f, name: name, once: once, out: s.Out, width: s.Opt.Width}
	s.Out = f
	if !isTerminal(f) {
		s.Opt.Width = 0
	}
	s.Opt.Escape = s.escapeFor(f)
	return nil
}

// openOutput opens the file .output or .once names. An existing file is written where the
// user said, through links, as sqlite3 does: the user named it, and its mode and owner stay
// as they are (nothing is chmod'ed). A file that does not exist is created 0600 by
// safefile, which follows no link: a dangling link is refused rather than its target
// created, and so is a new name in a directory other users may change.
func openOutput(name string) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_TRUNC, 0)
	if !errors.Is(err, os.ErrNotExist) {
		return f, err
	}
	f, err = safefile.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil, &safefile.UnsafeError{Path: name, Reason: "it is a symbolic link to a file that does not exist"}
	}
	return f, err
}

// endRedirect sends results back to the session's Out and closes the file.
func (s *Session) endRedirect() error {
	r := s.redirect
	if r == nil {
		return nil
	}
	s.redirect = nil
	s.Out, s.Opt.Width = r.out, r.width
	s.Opt.Escape = s.escapeFor(s.Out)
	if err := r.file.Close(); err != nil {
		return fmt.Errorf("output %s: %w", r.name, err)
	}
	return nil
}

// endOnce ends a .once redirection after the command it was for.
func (s *Session) endOnce() error {
	if s.redirect != nil && s.redirect.once {
		return s.endRedirect()
	}
	return nil
}

// screen is where results go when not redirected: the terminal in the REPL.
func (s *Session) screen() io.Writer {
	if s.redirect != nil {
		return s.redirect.out
	}
	return s.Out
}

// onTerminal reports whether the session's own Out (not a .output file) is a terminal.
func (s *Session) onTerminal() bool {
	if s.terminal == nil {
		t := s.Terminal || isTerminal(s.screen())
		s.terminal = &t
	}
	return *s.terminal
}

// outIsTerminal reports whether what is written to Out now reaches a terminal.
func (s *Session) outIsTerminal() bool {
	if s.redirect != nil {
		return isTerminal(s.Out)
	}
	return s.onTerminal()
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// writeText writes text for a person (a dot-command's output, a message) to Out; on a
// terminal its control characters are escaped, the newlines and tabs that lay it out aside.
func (s *Session) writeText(text string) error {
	if s.outIsTerminal() {
		text = terminalText(text)
	}
	_, err := io.WriteString(s.Out, text)
	return err
}

// terminalText makes text from mail safe to show: every character output.Escape escapes is
// escaped, except newlines and tabs.
func terminalText(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	for i, line := range strings.Split(text, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		for j, part := range strings.Split(line, "\t") {
			if j > 0 {
				b.WriteByte('\t')
			}
			b.WriteString(output.Escape(part))
		}
	}
	return b.String()
}

// dotRead runs the statements and commands of a file, as if typed.
func dotRead(s *Session, ctx context.Context, args []string, depth int) error {
	if strings.HasPrefix(args[0], "|") {
		return fmt.Errorf("reading from a command (%q) is not supported", args[0])
	}
	if depth >= maxReadDepth {
		return fmt.Errorf(".read nested more than %d deep", maxReadDepth)
	}
	f, err := os.Open(args[0])
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	defer f.Close()
	failed, err := s.runScript(ctx, f, depth+1)
	if errors.Is(err, errQuit) {
		return err
	}
	if err != nil && !errors.Is(err, ErrFailed) {
		return err
	}
	if failed {
		return errReported
	}
	return nil
}
