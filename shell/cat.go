package shell

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/mqsql/mqsql"

	"github.com/mqsql/mqsql/sqlfuncs"
)

// dotCat shows messages as postcat -q does, through the index's postcat() function, which
// reads the spool the index mirrors. Options -e, -h and -b choose the envelope, the header
// and the body, as in postcat. On a terminal the message's control characters are escaped, so
// a hostile Subject cannot drive the terminal; into a file (.once, .output) it is written
// byte for byte, so `.once msg.eml` and `.cat -hb ID` save the message itself.
func dotCat(s *Session, ctx context.Context, args []string, _ int) error {
	var opts, ids []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			opts = append(opts, a)
		} else {
			ids = append(ids, a)
		}
	}
	if _, err := sqlfuncs.ParsePostcatOptions(strings.Join(opts, " ")); err != nil {
		return err
	}
	if len(ids) == 0 {
		return fmt.Errorf("usage: .cat [-e] [-h] [-b] QUEUE_ID...")
	}
	for _, id := range ids {
		if s.Layout != nil && !s.Layout.ValidQueueID(id) {
			return fmt.Errorf("bad queue ID %q", id)
		}
		var text sql.NullString
		if err := s.Conn.QueryRowContext(ctx, "SELECT postcat(?, ?)", id, strings.Join(opts, " ")).Scan(&text); err != nil {
			return err
		}
		if !text.Valid {
			return s.catMissing(ctx, id)
		}
		if err := s.writeText(text.String); err != nil {
			return err
		}
	}
	return nil
}

// catMissing says why .cat could not show id: a message the index lists but cannot read is
// damaged (what the MTA's listing shows of it and what to do, in the driver's words); one the
// index does not list has left the queue.
func (s *Session) catMissing(ctx context.Context, id string) error {
	var queue, reason string
	var listed bool
	err := s.Conn.QueryRowContext(ctx, `SELECT queue, coalesce(error, ''), listed FROM queue_files
		WHERE queue_id = ? ORDER BY listed DESC LIMIT 1`, id).Scan(&queue, &reason, &listed)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: no such message in the queue (delivered, deleted or moved since?)", id)
	}
	if err != nil {
		return fmt.Errorf("%s: cannot be shown, and the index cannot say why: %w", id, err)
	}
	msg := fmt.Sprintf("%s: damaged: its file in %s cannot be read as a message", id, queue)
	if reason != "" {
		msg += " (" + reason + ")"
	}
	mta, shows := "the MTA", "does not show it"
	if listed {
		shows = "shows it"
	}
	meaning := s.meaning()
	if meaning != nil {
		mta = meaning.MTA
	}
	msg += fmt.Sprintf("; %s's own queue listing %s", mta, shows)
	if meaning != nil && meaning.CorruptSkip != "" {
		msg += "; " + meaning.CorruptSkip
	}
	return errors.New(msg)
}

// meaning is what the spool's MTA makes of its queue, when the session's layout says.
func (s *Session) meaning() *mqsql.Meaning {
	if m, ok := s.Layout.(interface{ Meaning() *mqsql.Meaning }); ok {
		return m.Meaning()
	}
	return nil
}
