package shell

import (
	"fmt"
	"io"
	"strings"

	"github.com/mqsql/mqsql/index"
)

// nullSenderHint is said once a statement that compares sender with 'MAILER-DAEMON' matches
// nothing: the queue stores the null sender as the empty string, and mailq, postqueue and mqsql's own plans
// only print it as MAILER-DAEMON, so such a statement silently finds no bounce.
const nullSenderHint = "mqsql: hint: no row matched; the null sender (bounces, shown as MAILER-DAEMON) is stored as '': use sender = ''"

// hintNullSender writes nullSenderHint to w when stmt names the sender column and the string
// 'MAILER-DAEMON' (in any case), read by the one lexer, never inside a comment.
func hintNullSender(w io.Writer, stmt string) {
	var sender, daemon bool
	for _, t := range index.Tokens(stmt) {
		switch t.Kind {
		case index.TokenWord, index.TokenQuoted:
			sender = sender || strings.EqualFold(t.Value(stmt), "sender")
		case index.TokenString:
			daemon = daemon || strings.EqualFold(t.Value(stmt), "MAILER-DAEMON")
		}
	}
	if sender && daemon {
		fmt.Fprintln(w, nullSenderHint)
	}
}
