package shell

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/output"
	"github.com/mqsql/mqsql/sqlfuncs"
)

// The dot-commands that change how results are shown, and .show, which lists them.

func dotBail(s *Session, _ context.Context, args []string, _ int) error {
	v, err := parseOnOff(args[0])
	s.Bail = v
	return err
}

func dotHeaders(s *Session, _ context.Context, args []string, _ int) error {
	v, err := parseOnOff(args[0])
	if err == nil {
		s.Opt.Headers = v
	}
	return err
}

func dotTimer(s *Session, _ context.Context, args []string, _ int) error {
	v, err := parseOnOff(args[0])
	if err == nil {
		s.timer = v
	}
	return err
}

func dotNullValue(s *Session, _ context.Context, args []string, _ int) error {
	s.Opt.NullValue = args[0]
	return nil
}

func dotSeparator(s *Session, _ context.Context, args []string, _ int) error {
	s.Opt.Separator = args[0]
	return nil
}

// dotMode switches the output format, or names the current one. Whether control characters
// are escaped follows: always in the formats meant for people, and in any format shown on a
// terminal.
func dotMode(s *Session, _ context.Context, args []string, _ int) error {
	if len(args) == 0 {
		fmt.Fprintf(s.Out, "current output mode: %s\n", formatName(s.Opt.Format))
		return nil
	}
	f, err := output.ParseFormat(args[0])
	if err != nil {
		return err
	}
	s.Opt.Format = f
	s.Opt.Escape = s.escapeFor(s.Out)
	return nil
}

// modeNames lists the formats .mode takes, for completion.
func modeNames(*Session) []string {
	return []string{"table", "csv", "tsv", "json", "jsonl", "line", "markdown", "list"}
}

func formatName(f output.Format) string {
	if f == "" {
		return string(output.List)
	}
	return string(f)
}

// escapeFor says whether results written to w in the current format must have their control
// characters escaped: the output package's contract.
func (s *Session) escapeFor(w io.Writer) bool {
	if s.Opt.Format.Human() {
		return true
	}
	if s.redirect == nil && w == s.Out {
		return s.onTerminal()
	}
	return isTerminal(w)
}

// dotShow lists the settings, as sqlite3's .show does.
func dotShow(s *Session, _ context.Context, _ []string, _ int) error {
	out := "stdout"
	if s.redirect != nil {
		out = s.redirect.name
	}
	sep := s.Opt.Separator
	if sep == "" {
		sep = "|"
	}
	settings := []struct{ name, value string }{
		{"bail", onOffText(s.Bail)},
		{"headers", onOffText(s.Opt.Headers)},
		{"mode", formatName(s.Opt.Format)},
		{"nullvalue", strconv.Quote(s.Opt.NullValue)},
		{"output", out},
		{"separator", strconv.Quote(sep)},
		{"timer", onOffText(s.timer)},
		{"width", strconv.Itoa(s.Opt.Width)},
		{"live", liveText(s.Live != nil)},
	}
	var b strings.Builder
	for _, st := range settings {
		fmt.Fprintf(&b, "%12s: %s\n", st.name, st.value)
	}
	return s.writeText(b.String())
}

func liveText(live bool) string {
	if live {
		return "on (the index follows the spool)"
	}
	return "off"
}

// dotHelp lists the dot-commands, or explains one.
func dotHelp(s *Session, _ context.Context, args []string, _ int) error {
	var b strings.Builder
	if len(args) == 1 {
		c, err := findDot(strings.TrimPrefix(args[0], "."))
		if err != nil {
			return err
		}
		writeDotHelp(&b, c)
		return s.writeText(b.String())
	}
	for i := range dotCmds {
		writeDotHelp(&b, &dotCmds[i])
	}
	b.WriteString(helpFooter())
	return s.writeText(b.String())
}

// helpFooter follows the command list of .help and of help.
func helpFooter() string {
	return fmt.Sprintf(`
SQL statements end with ";" and may span lines. help, quit and exit work without the dot.
DELETE FROM messages and UPDATE messages SET queue / forced_expire act on the queue (see
mqsql(1)): a preview first, then a confirmation.
Tables: %s; views: %s.
Functions: %s.
`, strings.Join(mqsql.Tables, ", "), strings.Join(mqsql.Views, ", "), strings.Join(sqlfuncs.Names, ", "))
}

func writeDotHelp(b *strings.Builder, c *dotCmd) {
	cmd := "." + c.name
	if c.usage != "" {
		cmd += " " + c.usage
	}
	fmt.Fprintf(b, "%-32s %s\n", cmd, c.help)
}

func dotQuit(*Session, context.Context, []string, int) error { return errQuit }
