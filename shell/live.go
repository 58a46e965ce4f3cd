package shell

import (
	"context"
	"errors"
	"strings"
)

// errNotLive explains why .rescan and .status have nothing to ask.
var errNotLive = errors.New("this index does not follow the spool: it was read once at start " +
	"(.rescan and .status work in the REPL, where mqsql keeps the index current)")

// dotRescan has the watcher re-read the whole spool and waits until the index matches it.
func dotRescan(s *Session, ctx context.Context, _ []string, _ int) error {
	if s.Live == nil {
		return errNotLive
	}
	if err := s.Live.Rescan(ctx); err != nil {
		return err
	}
	return s.writeText("The index matches the spool.\n")
}

// dotStatus shows what the watcher says about the spool and itself.
func dotStatus(s *Session, ctx context.Context, _ []string, _ int) error {
	if s.Live == nil {
		return errNotLive
	}
	text, err := s.Live.Status(ctx)
	if err != nil {
		return err
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return s.writeText(text)
}
