package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mqsql/mqsql/fleet"
)

// mqsql ssh-reader is the forced command of a read-only key (command="mqsql ssh-reader" in
// authorized_keys): it runs the query a fleet sent, as sshd hands it over in
// $SSH_ORIGINAL_COMMAND, only when that is a fleet's read (fleet.ReadOnlyArgs), and anything
// else is refused with exit status 2.
func init() { subcommands["ssh-reader"] = runSSHReader }

func runSSHReader(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	line, ok := os.LookupEnv("SSH_ORIGINAL_COMMAND")
	if len(args) != 0 || !ok {
		fmt.Fprintln(stderr, "mqsql ssh-reader: the forced command of a read-only key in authorized_keys (command=\"mqsql ssh-reader\"); it reads $SSH_ORIGINAL_COMMAND and takes no arguments")
		return exitUsage
	}
	qargs, err := fleet.ReadOnlyArgs(line)
	if err != nil {
		fmt.Fprintf(stderr, "mqsql ssh-reader: %v\n", err)
		return exitUsage
	}
	// jsonl for a program: the bytes as the query wrote them, like a plain run's stdout.
	return runQuery(ctx, qargs, strings.NewReader(""), unescaped(stdout), stderr)
}
