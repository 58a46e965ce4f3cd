package shell_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestREPLErrorsEscaped types statements whose errors quote a hostile Subject into the REPL
// on a real pseudo-terminal, with the session's Err the bare terminal: a JSON path and a
// regexp made of the Subject. The terminal shows the escapes, never the controls.
func TestREPLErrorsEscaped(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a REPL in a pseudo-terminal")
	}
	term := startREPL(t, testSpool(t), filepath.Join(t.TempDir(), "history"))
	term.expect("mqsql> ")
	where := " FROM messages WHERE queue_id = '" + hostileID + "';\r"
	term.send("SELECT json_extract('{}', subject)" + where)
	term.expect("Error: ")
	term.expect(`\x1b]0;pwned\x07\x1b[2J\u202egnp.exe 件名`)
	term.expect("mqsql> ")
	term.send("SELECT subject REGEXP ('(' || replace(subject, '[', ''))" + where)
	term.expect("Error: ")
	term.expect("`(" + `\x1b]0;pwned\x07\x1b2J\u202egnp.exe 件名` + "`")
	term.expect("mqsql> ")
	term.send("\x04")
	_, shown := term.exit()
	for _, raw := range []string{"\x1b]0;pwned", "\x07", "\x1b[2J", "\x1b2J", "\u202e"} {
		if strings.Contains(shown, raw) {
			t.Errorf("the terminal got %q raw", raw)
		}
	}
}
