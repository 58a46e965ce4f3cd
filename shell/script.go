package shell

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrFailed reports that at least one statement of a script failed; each failure was already
// printed.
var ErrFailed = errors.New("shell: a statement failed")

// errQuit ends a script or the REPL: .quit or .exit (and, in the REPL, quit or exit).
var errQuit = errors.New("shell: quit")

// maxReadDepth bounds .read inside .read, so a file that reads itself ends with an error.
const maxReadDepth = 16

// RunScript runs every statement and dot-command in r (batch mode: no prompts, no history),
// printing errors as it goes, as sqlite3 does with a script on standard input. A line that
// starts with '.' outside a statement is a dot-command. It returns ErrFailed when any of them
// failed, after the whole script ran unless Bail is set.
func (s *Session) RunScript(ctx context.Context, r io.Reader) error {
	failed, err := s.runScript(ctx, r, 0)
	if err != nil && !errors.Is(err, errQuit) {
		return err
	}
	if failed {
		return ErrFailed
	}
	return nil
}

// runScript is RunScript for a script read at the given .read depth. failed reports whether
// something failed; err is a read error, errQuit, or ErrFailed when Bail stopped the script.
func (s *Session) runScript(ctx context.Context, r io.Reader, depth int) (failed bool, err error) {
	var sp Splitter
	line := 0
	stop := func(err error) bool {
		if !errors.Is(err, errReported) {
			s.reportError(line, err)
		}
		failed = true
		return s.Bail || ctx.Err() != nil
	}
	br := bufio.NewReader(r)
	for {
		text, rerr := br.ReadString('\n')
		if text != "" {
			line++
			if sp.Empty() && isDotCommand(text) {
				err := s.dotCommand(ctx, text, depth)
				if errors.Is(err, errQuit) {
					return failed, err
				}
				if err != nil && stop(err) {
					return true, ErrFailed
				}
				continue
			}
			for _, stmt := range sp.Feed(text) {
				if err := s.runStatement(ctx, stmt); err != nil && stop(err) {
					return true, ErrFailed
				}
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return failed, fmt.Errorf("read statements: %w", rerr)
		}
	}
	if last := sp.Pending(); last != "" {
		if err := s.runStatement(ctx, last); err != nil && stop(err) {
			return true, ErrFailed
		}
	}
	return failed, nil
}

// isDotCommand reports whether a line outside a statement is a dot-command.
func isDotCommand(line string) bool {
	return strings.HasPrefix(strings.TrimLeft(line, " \t"), ".")
}

// runStatement runs one SQL statement as the REPL and scripts do: through Exec, timed when .timer is
// on, with the output .once set up going back to where it was afterwards.
func (s *Session) runStatement(ctx context.Context, stmt string) error {
	t := s.startTimer()
	err := s.Exec(ctx, stmt)
	if ctx.Err() != nil && err != nil {
		err = errors.New("interrupted")
	}
	s.stopTimer(t)
	if cerr := s.endOnce(); err == nil {
		err = cerr
	}
	return err
}
