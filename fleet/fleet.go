// Package fleet runs one SQL statement on many hosts: through the system's OpenSSH client
// (the admin's own ~/.ssh/config, agent, ProxyJump, ControlMaster and known_hosts), the
// mqsql installed on each host answers for its own queue, and the answers come back as one
// result set whose first column is the host. A host that cannot answer is an answer too:
// a HostError that names it and says why, while the other hosts' rows are kept.
//
// Nothing runs on a host but its own mqsql, so each host reads its own index through its
// own safety checks; this package only starts ssh, reads JSON lines and gathers them.
package fleet

import (
	"context"
	"sync"
	"time"
)

// DefaultParallel is how many hosts are asked at once when Config.Parallel is 0: a few dozen
// hosts answer in two or three rounds, while the ssh set-ups, which cost CPU on the admin's
// machine too, do not all compete at once (docs/BENCHMARKS.md: 10 set-ups at once on 2 cores
// took the time of 6 to 8 one after the other).
const DefaultParallel = 16

// Config says which hosts to ask and how to reach them. It is complete before Run.
type Config struct {
	Hosts    []string      // SSH destinations as ssh takes them, in the order answers are wanted
	SSH      []string      // the ssh command and its options; nil means "ssh"
	Parallel int           // hosts asked at once; 0 means DefaultParallel
	Timeout  time.Duration // per host, from the start of its ssh; 0 means none
	// Remote holds arguments given to each host's mqsql before the statement (e.g.
	// --instance all). The format and the read-only flags are this package's own.
	Remote []string
	// Program is the remote command's name; "" means "mqsql". Tests point it elsewhere.
	Program string
}

// Answer is one host's part: its rows, or the error that kept it from answering.
type Answer struct {
	Host    string
	Columns []string // in the order the host's mqsql printed them
	Rows    [][]any  // values as JSON gives them: int64, float64, string, bool or nil
	Stderr  []string // what the host's mqsql said on stderr (warnings), line by line
	Err     error    // a *HostError, or nil when the host answered
	Elapsed time.Duration
}

// Run asks every host of cfg for stmt, at most cfg.Parallel at once, and returns one
// Answer per host in the order of cfg.Hosts. It never fails as a whole: each host's
// failure is in its Answer.
func Run(ctx context.Context, cfg Config, stmt string) []Answer {
	answers := make([]Answer, len(cfg.Hosts))
	n := cfg.Parallel
	if n <= 0 {
		n = DefaultParallel
	}
	slots := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, host := range cfg.Hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			answers[i] = ask(ctx, cfg, host, stmt)
		}()
	}
	wg.Wait()
	return answers
}

// CountFailed counts the answers that carry an error.
func CountFailed(answers []Answer) int {
	n := 0
	for _, a := range answers {
		if a.Err != nil {
			n++
		}
	}
	return n
}
