// Command mqsql makes the Postfix mail queue an SQL database: it indexes the queue files into
// SQLite and answers SQL about them, from the command line, from scripts, or in a REPL.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
