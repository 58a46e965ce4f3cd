package shell

import (
	"context"
	"fmt"
	"strings"
)

// dotCmd is one dot-command: sqlite3's names and meanings, plus mqsql's own.
type dotCmd struct {
	name  string // without the dot
	usage string // arguments, as .help shows them
	help  string
	// min and max bound the number of arguments; max < 0 means any number.
	min, max int
	run      func(s *Session, ctx context.Context, args []string, depth int) error
	// args lists the words the argument can be, for completion; nil when it is free text.
	args func(s *Session) []string
}

// dotCmds is the dot-command table, in the order .help lists it. It is filled in init, because
// .help reads it.
var dotCmds []dotCmd

func init() {
	onOff := func(*Session) []string { return []string{"on", "off"} }
	dotCmds = []dotCmd{
		{name: "bail", usage: "on|off", help: "stop a script at its first error", min: 1, max: 1, run: dotBail, args: onOff},
		{name: "cat", usage: "[-e] [-h] [-b] QUEUE_ID...", help: "show messages as postcat -q does: envelope, header, body", min: 1, max: -1, run: dotCat},
		{name: "exit", help: "leave mqsql", max: 0, run: dotQuit},
		{name: "headers", usage: "on|off", help: "column names in csv, tsv and list output", min: 1, max: 1, run: dotHeaders, args: onOff},
		{name: "help", usage: "[COMMAND]", help: "show this help, or the help of one command", max: 1, run: dotHelp, args: dotNames},
		{name: "mode", usage: "[MODE]", help: "output format: table, csv, tsv, json, jsonl, line, markdown, list", max: 1, run: dotMode, args: modeNames},
		{name: "nullvalue", usage: "TEXT", help: "text shown for NULL", min: 1, max: 1, run: dotNullValue},
		{name: "once", usage: "FILE", help: "write the result of the next command to FILE", min: 1, max: 1, run: dotOnce},
		{name: "output", usage: "[FILE]", help: "write results to FILE, or back to the screen without FILE", max: 1, run: dotOutput},
		{name: "quit", help: "leave mqsql", max: 0, run: dotQuit},
		{name: "read", usage: "FILE", help: "run the statements and commands in FILE", min: 1, max: 1, run: dotRead},
		{name: "rescan", help: "re-read the whole spool now (live index)", max: 0, run: dotRescan},
		{name: "schema", usage: "[PATTERN]", help: "show the CREATE statements of tables and views (LIKE pattern)", max: 1, run: dotSchema, args: tableNames},
		{name: "separator", usage: "TEXT", help: "text between values in list mode", min: 1, max: 1, run: dotSeparator},
		{name: "show", help: "show the current settings", max: 0, run: dotShow},
		{name: "status", help: "the spool, rows per queue and the watcher (live index)", max: 0, run: dotStatus},
		{name: "tables", usage: "[PATTERN]", help: "list tables and views (LIKE pattern)", max: 1, run: dotTables, args: tableNames},
		{name: "timer", usage: "on|off", help: "show how long each statement took", min: 1, max: 1, run: dotTimer, args: onOff},
	}
}

// dotNames lists the command names, for .help's completion.
func dotNames(*Session) []string {
	names := make([]string, len(dotCmds))
	for i, c := range dotCmds {
		names[i] = c.name
	}
	return names
}

// findDot returns the command name, or a unique prefix of it (".sch" for .schema), names.
func findDot(name string) (*dotCmd, error) {
	var found *dotCmd
	for i := range dotCmds {
		c := &dotCmds[i]
		if c.name == name {
			return c, nil
		}
		if strings.HasPrefix(c.name, name) {
			if found != nil {
				return nil, fmt.Errorf("ambiguous command \".%s\" (.%s or .%s?)", name, found.name, c.name)
			}
			found = c
		}
	}
	if found == nil || name == "" {
		return nil, fmt.Errorf("unknown command \".%s\"; enter \".help\" for help", name)
	}
	return found, nil
}

// dotCommand runs one dot-command line. depth is how deep in .read it was read.
func (s *Session) dotCommand(ctx context.Context, line string, depth int) error {
	words, err := splitArgs(strings.TrimSpace(line))
	if err != nil {
		return err
	}
	name := strings.TrimPrefix(words[0], ".")
	c, err := findDot(name)
	if err != nil {
		return err
	}
	args := words[1:]
	if len(args) < c.min || (c.max >= 0 && len(args) > c.max) {
		return fmt.Errorf("usage: .%s %s", c.name, c.usage)
	}
	err = c.run(s, ctx, args, depth)
	if c.name != "once" {
		if cerr := s.endOnce(); err == nil {
			err = cerr
		}
	}
	return err
}

// splitArgs splits a dot-command line into words as sqlite3 does: at blanks, except inside
// '…' (taken as it is) or "…" (where a backslash takes the next character as it is).
func splitArgs(line string) ([]string, error) {
	var words []string
	for i := 0; i < len(line); {
		c := line[i]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			i++
			continue
		}
		var w strings.Builder
		switch c {
		case '\'', '"':
			i++
			for ; i < len(line) && line[i] != c; i++ {
				if c == '"' && line[i] == '\\' && i+1 < len(line) {
					i++
				}
				w.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, fmt.Errorf("unterminated %c in %q", c, line)
			}
			i++
		default:
			for ; i < len(line) && !strings.ContainsRune(" \t\r\n", rune(line[i])); i++ {
				w.WriteByte(line[i])
			}
		}
		words = append(words, w.String())
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("empty command")
	}
	return words, nil
}

// parseOnOff reads a boolean setting the ways sqlite3 accepts one.
func parseOnOff(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "on", "yes", "true", "1":
		return true, nil
	case "off", "no", "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("expected on or off, not %q", s)
}

func onOffText(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
