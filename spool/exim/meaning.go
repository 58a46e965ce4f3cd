package exim

import "github.com/mqsql/mqsql"

// Meaning is what an Exim queue means: a message stays in input/ (or its named queue's)
// from reception to completion, so its queue value is a state (first delivery not tried,
// being delivered, tried, frozen) and not a directory; exim -bp lists every message whose -H
// reads. exim -Mf, -Mt and -M freeze, thaw and deliver; -Mg gives up at once. Exim has no
// requeue.
var Meaning = &mqsql.Meaning{
	MTA: "Exim",
	Queues: []mqsql.QueueMeaning{
		{Queue: mqsql.Active, Listed: true}, {Queue: mqsql.Incoming, Listed: true},
		{Queue: mqsql.Deferred, Listed: true}, {Queue: mqsql.Hold, Listed: true},
		{Queue: mqsql.Corrupt},
	},
	Moves: []mqsql.Move{
		{To: mqsql.Hold, Op: mqsql.OpHold, Says: "freeze, exim -Mf",
			From: []mqsql.Queue{mqsql.Incoming, mqsql.Active, mqsql.Deferred}},
		{To: mqsql.Deferred, Op: mqsql.OpRelease, Says: "thaw, exim -Mt",
			From: []mqsql.Queue{mqsql.Hold}},
		{To: mqsql.Active, Op: mqsql.OpFlush, Says: "deliver now, exim -M",
			From: []mqsql.Queue{mqsql.Deferred, mqsql.Incoming}},
	},
	Lacks: []mqsql.Lack{{To: mqsql.Maildrop, Op: mqsql.OpRequeue,
		Why: "a message stays in input/ from reception to completion"}},
	Expire: []mqsql.Move{
		{Op: mqsql.OpExpire, Says: "exim -Mg", From: []mqsql.Queue{mqsql.Incoming, mqsql.Active, mqsql.Deferred}},
		{Op: mqsql.OpExpireRelease, Says: "exim -Mg", From: []mqsql.Queue{mqsql.Hold}},
	},
	// exim -Mg cancels the pending recipients, sends the bounce and removes the message in
	// one command.
	ExpireReturnsAtOnce: true,
	ExpireNowSays:       "exim -Mg, which returns the mail to its sender at once",
	CorruptSkip:         "a -H that Exim cannot read, or whose -D is missing, is not mail Exim delivers (its queue runs log a spool format error); inspect its files in input/ and remove them by hand",
	Listed:              listed,
}

// listed is exim -bp's test: every message whose -H and -D are there and whose -H reads
// (corrupt holds the rest), frozen ones too.
func listed(m *mqsql.Message) bool { return m.Queue != mqsql.Corrupt }

// Meaning implements mqsql.Spool.
func (s *Spool) Meaning() *mqsql.Meaning { return Meaning }
