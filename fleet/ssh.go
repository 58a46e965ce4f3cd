package fleet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/google/shlex"
)

// SplitCommand splits an ssh command given as one string ($MQSQL_SSH, --ssh) into words the
// way a shell does (quotes and backslashes), as rsync's -e and GIT_SSH_COMMAND are read.
// An empty string means the plain "ssh".
func SplitCommand(s string) ([]string, error) {
	words, err := shlex.Split(s)
	if err != nil {
		return nil, fmt.Errorf("ssh command %q: %w", s, err)
	}
	if len(words) == 0 {
		return []string{"ssh"}, nil
	}
	return words, nil
}

// Quote returns s as one word for a POSIX shell: ssh hands the remote command to the
// host's login shell as one string, so every argument is single-quoted there.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// remoteFlags are what every host's mqsql is asked for: JSON lines, which keep each value's
// type and column order, and --dry-run, so that a statement that would change a queue (the
// caller refuses writes first) changes nothing on any host even if it got this far.
var remoteFlags = []string{"--format", "jsonl", "--dry-run"}

// Command is the argv that asks host for stmt: the ssh command with BatchMode=yes first (so
// that nothing prompts, and the user's own -o cannot turn it off, as ssh keeps the first
// value given), "--" so that a host name cannot be read as an option, then the remote
// command line, each word quoted for the host's shell.
func Command(cfg Config, host, stmt string) []string {
	ssh := cfg.SSH
	if len(ssh) == 0 {
		ssh = []string{"ssh"}
	}
	prog := cfg.Program
	if prog == "" {
		prog = "mqsql"
	}
	words := []string{Quote(prog)}
	for _, a := range append(append([]string{}, remoteFlags...), cfg.Remote...) {
		words = append(words, Quote(a))
	}
	if strings.HasPrefix(stmt, "-") {
		stmt = " " + stmt // a leading SQL comment must not read as a flag
	}
	words = append(words, Quote(stmt))
	argv := append([]string{ssh[0], "-o", "BatchMode=yes"}, ssh[1:]...)
	return append(argv, "--", host, strings.Join(words, " "))
}

// ask runs stmt on one host and reads its answer.
func ask(ctx context.Context, cfg Config, host, stmt string) Answer {
	start := time.Now()
	hctx := ctx
	if cfg.Timeout > 0 {
		var cancel context.CancelFunc
		hctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}
	argv := Command(cfg, host, stmt)
	cmd := exec.CommandContext(hctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 2 * time.Second // ssh killed: do not wait on pipes a child still holds
	runErr := cmd.Run()
	a := Answer{Host: host, Stderr: lines(stderr.String())}
	a.Elapsed = time.Since(start)
	if runErr != nil {
		a.Err = classify(host, runErr, ctx, hctx, a.Stderr)
		return a
	}
	cols, rows, err := decodeRows(&stdout)
	if err != nil {
		a.Err = &HostError{Host: host, Reason: Incompatible, Detail: "unreadable answer: " + err.Error(), Err: err}
		return a
	}
	a.Columns, a.Rows = cols, rows
	return a
}

// classify says why a host's ssh did not end well, from the contexts and the exit status:
// ssh exits 255 for its own failures, a POSIX shell 127 (126) for a command it cannot find
// (run), mqsql 2 for usage and 1 for an error.
func classify(host string, runErr error, parent, hctx context.Context, stderr []string) *HostError {
	he := &HostError{Host: host, Detail: lastLine(stderr), Err: runErr}
	var exit *exec.ExitError
	switch {
	case parent.Err() != nil:
		he.Reason, he.Detail = Failed, "interrupted"
	case errors.Is(hctx.Err(), context.DeadlineExceeded):
		he.Reason, he.Detail = Timeout, "no answer in time"
	case !errors.As(runErr, &exit):
		he.Reason, he.Detail = Unreachable, runErr.Error() // ssh itself could not start
	case exit.ExitCode() == 255:
		he.Reason = Unreachable
	case exit.ExitCode() == 127 || exit.ExitCode() == 126:
		he.Reason = NoMqsql
	case exit.ExitCode() == 2:
		he.Reason = Incompatible
	default:
		he.Reason = Failed
	}
	if he.Detail == "" {
		he.Detail = runErr.Error()
	}
	return he
}

// lines splits text into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimRight(l, "\r"); strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

func lastLine(ls []string) string {
	if len(ls) == 0 {
		return ""
	}
	return ls[len(ls)-1]
}
