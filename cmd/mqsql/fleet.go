package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/mqsql/mqsql/fleet"
	"github.com/mqsql/mqsql/output"
)

// fleetFlags are the settings of a statement run over many hosts (package fleet).
type fleetFlags struct {
	hosts    string // --hosts LIST or @FILE; "" means this machine only
	ssh      string // --ssh, else $MQSQL_SSH, else "ssh"
	parallel int
	timeout  time.Duration
	merge    string
}

// defaultFleetTimeout bounds one host's answer: a host's first run reads its whole queue into
// its cache index, about as long as postqueue -j takes (README, Performance: 0.86-0.89 of its
// 52 s at 1,000,000 messages), so a minute leaves room for a queue that big, while a hung host
// does not hold the others' answer for ever.
const defaultFleetTimeout = time.Minute

// addFleetFlags declares the flags of a query over many hosts.
func addFleetFlags(fs *flag.FlagSet, f *fleetFlags) {
	fs.StringVar(&f.hosts, "hosts", "", "run the statement on these SSH destinations (comma-separated, or @FILE with one per line) through each host's own mqsql; the first column is host")
	fs.StringVar(&f.ssh, "ssh", "", "the ssh command with its options, split as a shell would (default $MQSQL_SSH, else ssh; BatchMode=yes is always added)")
	fs.IntVar(&f.parallel, "parallel", fleet.DefaultParallel, "with --hosts, how many hosts are asked at once")
	fs.DurationVar(&f.timeout, "timeout", defaultFleetTimeout, "with --hosts, how long each host may take to answer (0: no limit)")
	fs.StringVar(&f.merge, "merge", "", "with --hosts, run this SQL over table fleet (host and the statement's columns) and print its result instead")
}

// fleetConfig turns the flags into a fleet.Config.
func fleetConfig(f fleetFlags) (fleet.Config, error) {
	if f.hosts == "" {
		return fleet.Config{}, fmt.Errorf("--merge needs --hosts")
	}
	hosts, err := fleet.ParseHosts(f.hosts)
	if err != nil {
		return fleet.Config{}, err
	}
	cmd := f.ssh
	if cmd == "" {
		cmd = os.Getenv("MQSQL_SSH")
	}
	ssh, err := fleet.SplitCommand(cmd)
	if err != nil {
		return fleet.Config{}, err
	}
	if f.parallel < 1 {
		return fleet.Config{}, fmt.Errorf("--parallel %d: at least 1 host at a time", f.parallel)
	}
	return fleet.Config{Hosts: hosts, SSH: ssh, Parallel: f.parallel, Timeout: f.timeout}, nil
}

// runFleet runs o.sql on every host of --hosts and prints one result set, or the --merge
// statement's over it. Every host that did not answer is named on stderr and makes the exit
// status 1; json and jsonl also carry it as a row with host_error.
func runFleet(ctx context.Context, o *options, opt output.Options, stdout, stderr io.Writer) int {
	cfg, err := fleetConfig(o.fleet)
	if err == nil && o.sql == "" {
		err = fmt.Errorf("--hosts needs the statement as an argument")
	}
	if err == nil {
		err = fleet.CheckRead(o.sql)
	}
	if err != nil {
		fmt.Fprintf(stderr, "mqsql: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	answers := fleet.Run(ctx, cfg, o.sql)
	reportHosts(answers, stderr)
	jsonish := opt.Format == output.JSON || opt.Format == output.JSONL
	cols, rows := fleet.Combine(answers, jsonish && o.fleet.merge == "")
	if o.fleet.merge != "" {
		if cols, rows, err = fleet.Merge(ctx, cols, rows, o.fleet.merge); err != nil {
			fmt.Fprintf(stderr, "mqsql: %v\n", err)
			return exitError
		}
	}
	if err := output.Write(stdout, opt, cols, rows); err != nil {
		fmt.Fprintf(stderr, "mqsql: %v\n", err)
		return exitError
	}
	if fleet.CountFailed(answers) > 0 {
		return exitError
	}
	return exitOK
}

// reportHosts writes, host by host, what each host's mqsql said on stderr and why a host did
// not answer, each line led by the host's name.
func reportHosts(answers []fleet.Answer, stderr io.Writer) {
	for _, a := range answers {
		if a.Err != nil {
			fmt.Fprintf(stderr, "mqsql: %v\n", a.Err)
			continue
		}
		for _, l := range a.Stderr {
			fmt.Fprintf(stderr, "mqsql: %s: %s\n", a.Host, strings.TrimPrefix(l, "mqsql: "))
		}
	}
}
