package spoolgen

import (
	"fmt"
	"math"
	"time"
)

// Options describe the queue to generate. The zero value of each field means its default,
// chosen to look like a queue during a spam run or an outage.
type Options struct {
	// Messages is how many queue files to write.
	Messages int
	// Seed makes the population reproducible: the same seed and options give the same
	// messages (only queue IDs differ, since they encode inode numbers).
	Seed uint64
	// Now is the generator's clock: arrival times lie up to five days before it. Default:
	// the current time.
	Now time.Time
	// RetryTime, when set, is the mtime of every deferred and held file (their next retry
	// time). A far-future value keeps a running Postfix from ever retrying them. Default:
	// a retry time within four hours after Now, as qmgr sets it.
	RetryTime time.Time

	// Queue shares; their sum is normalised. Default: 86% deferred, 8% hold, 3% active, 1%
	// incoming, 2% maildrop (postdrop files without a C record).
	Deferred, Hold, Active, Incoming, Maildrop float64
	// Shares of bounces (null sender) and locally submitted mail among the rest. Defaults 5%
	// and 5%.
	Bounces, Local float64
	// ShortIDs is the share of files named with short (hex) queue IDs, as after switching
	// enable_long_queue_ids. Default 0.2; a negative value means none.
	ShortIDs float64
	// Senders is the number of distinct senders; mail is spread over them Zipf-like, so the
	// first few send most of it. Default: Messages/100, at least 20.
	Senders int
	// MedianSize and MaxSize bound the message sizes, which are log-normal: most mail is a
	// few kilobytes, a few messages are megabytes. Defaults 3 KB and 8 MB; the minimum is
	// about 1 KB (envelope and headers).
	MedianSize, MaxSize int

	// UID and GID own every file and directory written; 0 (the default) keeps the writer's.
	// Use Postfix's mail_owner for a spool that showq and postsuper will read.
	UID, GID int
	// HashQueueNames and HashQueueDepth are Postfix's hashing settings. Default: deferred
	// and defer, depth 1.
	HashQueueNames []string
	HashQueueDepth int
	// Workers is how many files are written at once. Default: GOMAXPROCS.
	Workers int
}

// queueShares returns the cumulative queue shares in a fixed order.
func (o *Options) queueShares() (names []string, cum []float64) {
	names = []string{"deferred", "hold", "active", "incoming", "maildrop"}
	shares := []float64{o.Deferred, o.Hold, o.Active, o.Incoming, o.Maildrop}
	total := 0.0
	for _, s := range shares {
		total += s
	}
	acc := 0.0
	for _, s := range shares {
		acc += s / total
		cum = append(cum, acc)
	}
	return names, cum
}

// withDefaults fills unset fields and checks the rest.
func (o Options) withDefaults() (Options, error) {
	if o.Messages < 0 {
		return o, fmt.Errorf("spoolgen: %d messages", o.Messages)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Deferred+o.Hold+o.Active+o.Incoming+o.Maildrop == 0 {
		o.Deferred, o.Hold, o.Active, o.Incoming, o.Maildrop = 0.86, 0.08, 0.03, 0.01, 0.02
	}
	for _, s := range []float64{o.Deferred, o.Hold, o.Active, o.Incoming, o.Maildrop, o.Bounces, o.Local} {
		if s < 0 || math.IsNaN(s) {
			return o, fmt.Errorf("spoolgen: negative share %v", s)
		}
	}
	if o.Bounces == 0 {
		o.Bounces = 0.05
	}
	if o.Local == 0 {
		o.Local = 0.05
	}
	if o.ShortIDs == 0 {
		o.ShortIDs = 0.2
	}
	if o.Senders <= 0 {
		o.Senders = max(20, o.Messages/100)
	}
	if o.MedianSize <= 0 {
		o.MedianSize = 3 << 10
	}
	if o.MaxSize <= 0 {
		o.MaxSize = 8 << 20
	}
	if o.HashQueueNames == nil {
		o.HashQueueNames = []string{"deferred", "defer"}
		if o.HashQueueDepth == 0 {
			o.HashQueueDepth = 1
		}
	}
	if o.HashQueueDepth < 0 || o.HashQueueDepth > 16 {
		return o, fmt.Errorf("spoolgen: hash depth %d", o.HashQueueDepth)
	}
	return o, nil
}

// hashed reports whether a queue or log directory is hashed.
func (o *Options) hashed(dir string) bool {
	for _, n := range o.HashQueueNames {
		if n == dir {
			return o.HashQueueDepth > 0
		}
	}
	return false
}
