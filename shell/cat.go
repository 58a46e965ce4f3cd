package shell

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

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
			return fmt.Errorf("%s: no such message in the queue (delivered, deleted or moved since?)", id)
		}
		if err := s.writeText(text.String); err != nil {
			return err
		}
	}
	return nil
}
