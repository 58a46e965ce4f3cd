package fleet

import (
	"errors"
	"strings"

	"github.com/mqsql/mqsql/index"
)

// ErrNotRead reports a statement a fleet does not run: a DELETE or UPDATE (writes over
// many hosts need one plan and one confirmation for all of them, which is not built yet)
// or a dot-command (its output is no result set, and .output would write files on hosts).
var ErrNotRead = errors.New("over --hosts, mqsql runs read statements only (SELECT, WITH ... SELECT)")

// CheckRead refuses what is no read statement, before any host is asked. Each host's mqsql
// still runs with --dry-run, so a write that got past this check changes nothing.
func CheckRead(stmt string) error {
	if strings.HasPrefix(strings.TrimSpace(stmt), ".") {
		return ErrNotRead
	}
	for _, t := range index.Tokens(stmt) {
		switch t.Kind {
		case index.TokenWord:
			switch strings.ToUpper(t.Text(stmt)) {
			case "DELETE", "UPDATE", "INSERT", "REPLACE":
				if !calledAsFunction(stmt, t.End) {
					return ErrNotRead
				}
			}
		}
	}
	return nil
}

// calledAsFunction reports whether the word ending at end is followed by "(", as
// replace(x, y, z) is.
func calledAsFunction(stmt string, end int) bool {
	return strings.HasPrefix(strings.TrimLeft(stmt[end:], " \t\r\n"), "(")
}
