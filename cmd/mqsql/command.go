package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/mqsql/mqsql/output"
)

// This file is how mqsql's commands are values (litestream's shape): run picks one by its
// name with an explicit switch, and each command defines its own flags once, on a FlagSet of
// its own, into fields of its own; nothing is shared between commands but the flag groups
// (spoolFlags, liveFlags, writeFlags) they each embed, whose defaults come from the package
// that owns them. A command's Run returns an error; run alone turns errors into exit statuses.

// Command is one of mqsql's commands: the query runner (no command name), watch, restore,
// version.
type Command interface {
	// Run runs the command with its arguments (after its name), flags anywhere among them.
	Run(ctx context.Context, args []string) error
}

// streams are where a command reads and writes: run's, so that tests call run with their own.
type streams struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// commandFor returns the command args name and the arguments it takes; without a command name
// it is the query runner, given every argument.
func commandFor(args []string, io streams) (Command, string, []string) {
	name := ""
	if len(args) > 0 {
		name = args[0]
	}
	switch name {
	case "watch":
		return &WatchCommand{streams: io}, "mqsql watch", args[1:]
	case "restore":
		return &RestoreCommand{streams: io}, "mqsql restore", args[1:]
	case "version":
		return &VersionCommand{streams: io}, "mqsql version", args[1:]
	case "ssh-reader":
		return &SSHReaderCommand{streams: io}, "mqsql ssh-reader", args[1:]
	}
	return &QueryCommand{streams: io}, "mqsql", args
}

// run is the whole program: main only adds the process around it, so tests call run directly.
// Everything mqsql says to people on stderr (errors, warnings, the daemon's log) quotes mail
// data, so stderr is escaped here, in one place, as the table output is; only the progress
// line writes past it (see unescaped). A subcommand's stdout, like its stderr, is a report for
// people (restore's list of queue IDs from a manifest), so it is escaped too; query results on
// stdout are the output formats' job: csv to a pipe must stay exact.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	errw := output.Escaping(stderr)
	defer errw.Flush()
	io := streams{stdin: stdin, stdout: stdout, stderr: errw}
	if len(args) > 0 && args[0] != "" && !strings.HasPrefix(args[0], "-") {
		if name := args[0]; name == "watch" || name == "restore" || name == "version" {
			outw := output.Escaping(stdout)
			defer outw.Flush()
			io.stdout = outw
		}
	}
	cmd, name, rest := commandFor(args, io)
	return exitStatus(cmd.Run(ctx, rest), name, errw)
}

// Exit statuses: sqlite3's and psql's habits, which scripts around mqsql already know.
const (
	exitOK    = 0
	exitError = 1 // an SQL statement, the index, the spool or a restore failed
	exitUsage = 2 // the command line is wrong
)

// usageError is a command line that cannot be run: exit status 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef makes a usageError.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// errReported is a failure the command has already told the user about (each failed message
// of a restore, a failed statement): exit status 1 with nothing more said.
var errReported = errors.New("failed (reported above)")

// exitStatus says err to the user, prefixed with the command's name, and returns its status.
func exitStatus(err error, name string, stderr io.Writer) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		if !errors.Is(err, errReported) {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
		}
		return exitUsage
	case errors.Is(err, errReported):
		return exitError
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	return exitError
}

// parseAnywhere parses fs's flags wherever they stand among args, as GNU tools, psql and
// sqlite3 take them: before or after the SQL or the folders. "--" ends the flags: everything
// after it is an argument, even what starts with "-". It returns the arguments in order.
func parseAnywhere(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{err}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
