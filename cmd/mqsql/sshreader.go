package main

import (
	"context"
	"os"
	"strings"

	"github.com/mqsql/mqsql/fleet"
)

// SSHReaderCommand is mqsql ssh-reader, the forced command of a read-only key
// (command="mqsql ssh-reader" in authorized_keys): it runs the query a fleet sent, as sshd
// hands it over in $SSH_ORIGINAL_COMMAND, only when that is a fleet's read
// (fleet.ReadOnlyArgs), and anything else is refused with exit status 2.
type SSHReaderCommand struct {
	streams
}

// Run implements Command; it takes no arguments.
func (c *SSHReaderCommand) Run(ctx context.Context, args []string) error {
	line, ok := os.LookupEnv("SSH_ORIGINAL_COMMAND")
	if len(args) != 0 || !ok {
		return usagef("the forced command of a read-only key in authorized_keys (command=\"mqsql ssh-reader\"); it reads $SSH_ORIGINAL_COMMAND and takes no arguments")
	}
	qargs, err := fleet.ReadOnlyArgs(line)
	if err != nil {
		return &usageError{err}
	}
	// The statement is the last word: -- before it, so that flags anywhere never read it as one.
	n := len(qargs) - 1
	qargs = append(append(append([]string{}, qargs[:n]...), "--"), qargs[n])
	// jsonl for a program: the bytes as the query wrote them, like a plain run's stdout.
	q := &QueryCommand{streams: streams{stdin: strings.NewReader(""), stdout: c.stdout, stderr: c.stderr}}
	return q.Run(ctx, qargs)
}
