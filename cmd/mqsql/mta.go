package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/spool/exim"
	"github.com/mqsql/mqsql/spool/postfix"
	"github.com/mqsql/mqsql/spool/sendmail"
)

// newDrivers returns the MTAs mqsql reads, in the order --mta auto tries them. Each run gets
// its own, so that what a driver asks its MTA's configuration once holds for that run only.
func newDrivers() []mqsql.Driver {
	return []mqsql.Driver{&postfix.Driver{}, &sendmail.Driver{}, &exim.Driver{}}
}

// addSpoolFlag defines --spool and --mta, which every subcommand reads the same way.
func addSpoolFlag(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.spool, "spool", "", "the queue directory (default: the one the MTA's configuration names; Postfix: postconf -h queue_directory, else "+postfix.DefaultQueueDirectory+"; Sendmail: "+sendmail.DefaultConfig+"'s QueueDirectory, whose queue groups (Q lines, q* directories) one run reads together, else "+sendmail.DefaultQueueDirectory+"; Exim: exim -bP spool_directory, else /var/spool/exim4)")
	fs.StringVar(&o.mta, "mta", "auto", "the MTA whose queue --spool holds: "+strings.Join(driverNames(), ", ")+", or auto (the one whose queue --spool is, else the one installed)")
}

func driverNames() []string {
	var names []string
	for _, d := range newDrivers() {
		names = append(names, d.Name())
	}
	return names
}

// chooseDriver picks the driver --mta names for --spool, refusing as a usage error a --spool
// directory that is no queue directory of it: reading it would answer "no mail" about a queue
// nobody looked at. A path that is missing or no directory, or may not be read, is left to
// opening the spool, which names it (exit 1).
func chooseDriver(o *options) error {
	ds := newDrivers()
	if o.mta != "" && o.mta != "auto" {
		for _, d := range ds {
			if d.Name() == o.mta {
				o.driver = d
				return checkSpool(d, o.spool)
			}
		}
		return fmt.Errorf("--mta %s: unknown MTA (use %s or auto)", o.mta, strings.Join(driverNames(), ", "))
	}
	o.driver = ds[0]
	if o.spool == "" {
		for _, d := range ds {
			if d.Installed() {
				o.driver = d
				break
			}
		}
		return nil
	}
	for _, d := range ds {
		if d.Check(o.spool) == nil {
			o.driver = d
			return nil
		}
	}
	return checkSpool(ds[0], o.spool)
}

// checkSpool is the usage error for a dir that is no queue directory of d.
func checkSpool(d mqsql.Driver, dir string) error {
	if dir == "" {
		return nil
	}
	var nq *mqsql.NotQueueError
	if err := d.Check(dir); errors.As(err, &nq) && nq.Missing != nil {
		return fmt.Errorf("--spool %w", err)
	}
	return nil
}

// openQueue opens the run's one queue directory: --spool, or the one the MTA's configuration
// names, saying so (through warnf) when that configuration could not be read. warn receives
// the spool's own warnings. With --spool the configuration is not asked where the queue is,
// so that no missing MTA binary is warned about when nothing needs it.
func openQueue(ctx context.Context, o *options, warnf func(format string, args ...any), warn func(error)) (mqsql.QueueDir, error) {
	if o.driver == nil {
		if err := chooseDriver(o); err != nil {
			return nil, err
		}
	}
	if o.spool != "" {
		return o.driver.Open(ctx, o.spool, warn)
	}
	dir, err := o.driver.Locate(ctx)
	if err != nil {
		warnf("warning: %v; using %s's defaults", err, mtaTitle(o.driver))
	}
	return o.driver.Open(ctx, dir, warn)
}

// mtaTitle is the MTA's name as people write it.
func mtaTitle(d mqsql.Driver) string {
	n := d.Name()
	return strings.ToUpper(n[:1]) + n[1:]
}

// cappedWarnings prints a spool's warnings to w, at most maxWarnings of them, so a badly
// damaged spool does not bury the query's output; flush says how many were left out.
type cappedWarnings struct {
	w     io.Writer
	count int
}

func (c *cappedWarnings) warn(err error) {
	c.count++
	if c.count <= maxWarnings {
		fmt.Fprintf(c.w, "mqsql: warning: %v\n", err)
	}
}

func (c *cappedWarnings) flush() {
	if c.count > maxWarnings {
		fmt.Fprintf(c.w, "mqsql: %d more warnings not shown\n", c.count-maxWarnings)
	}
	c.count = 0
}
