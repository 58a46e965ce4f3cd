package sendmail

import "github.com/mqsql/mqsql"

// moves are what a statement can ask of Sendmail: quarantine (hf), release from quarantine,
// and a queue run of one message (sendmail -qI), which is also how its expire works.
var moves = []mqsql.Move{
	{To: mqsql.Hold, Op: mqsql.OpHold, Says: "quarantine, sendmail -Q",
		From: []mqsql.Queue{mqsql.Incoming, mqsql.Active, mqsql.Deferred}},
	{To: mqsql.Deferred, Op: mqsql.OpRelease, Says: "release from quarantine, sendmail -qQ -Q",
		From: []mqsql.Queue{mqsql.Hold}},
	{To: mqsql.Active, Op: mqsql.OpFlush, Says: "deliver now, sendmail -qI",
		From: []mqsql.Queue{mqsql.Deferred, mqsql.Incoming}},
}

// Meaning is what the MTA's Sendmail queue means: a qf is incoming until tried, active
// while a queue runner holds its lock, deferred after; hf is quarantined (hold), Qf lost
// (corrupt). mailq lists every qf, mailq -qQ every hf. Sendmail has no requeue.
var Meaning = &mqsql.Meaning{
	MTA: "Sendmail",
	Queues: []mqsql.QueueMeaning{
		{Queue: mqsql.Active, Listed: true}, {Queue: mqsql.Incoming, Listed: true},
		{Queue: mqsql.Deferred, Listed: true}, {Queue: mqsql.Hold, Listed: true},
		{Queue: mqsql.Corrupt},
	},
	Moves:         moves,
	Lacks:         lacks,
	Expire:        expire,
	ExpireNowSays: expireNow,
	// Sendmail's expire is a queue run whose return timeout the message is past, which queues
	// the bounce to the sender and removes the message in that run (verify counts it done
	// only when its control file is gone).
	ExpireReturnsAtOnce: true,
	CorruptSkip:         corruptSkip,
	ExpireSkips: map[mqsql.Queue]string{
		mqsql.Hold: "Sendmail does not return quarantined mail: release it first (queue = 'deferred')",
	},
	Listed: listed,
}

// MaildropMeaning is Meaning for the mail submission program's queue (OpenMaildrop), whose
// qf files are all maildrop.
var MaildropMeaning = &mqsql.Meaning{
	MTA: "Sendmail",
	Queues: []mqsql.QueueMeaning{
		{Queue: mqsql.Maildrop, Listed: true}, {Queue: mqsql.Hold, Listed: true}, {Queue: mqsql.Corrupt},
	},
	Moves:               moves,
	Lacks:               lacks,
	Expire:              expire,
	ExpireNowSays:       expireNow,
	ExpireReturnsAtOnce: true,
	CorruptSkip:         corruptSkip,
	ExpireSkips:         Meaning.ExpireSkips,
	Listed:              listed,
}

var (
	lacks = []mqsql.Lack{{To: mqsql.Maildrop, Op: mqsql.OpRequeue,
		Why: "a queued message keeps its control file until it is delivered or returned"}}
	// corruptSkip says why a statement leaves a lost control file (Qf) alone: Sendmail set it
	// aside because it could not use it, and no queue run or option acts on it again.
	corruptSkip = "a Qf file is a control file Sendmail set aside as lost and does not deliver (mailq -qL lists it); inspect it, then fix it and rename it to qf, or remove it and its df, by hand"
	expireNow   = "sendmail -qI with a zero return timeout, which returns the mail to its sender at once"
	expire      = []mqsql.Move{{Op: mqsql.OpExpire, Says: "sendmail -qI with a zero return timeout",
		From: []mqsql.Queue{mqsql.Incoming, mqsql.Active, mqsql.Deferred}}}
)

// listed is mailq's test (mailq -qQ's for quarantined mail): every control file but a lost
// one (Qf).
func listed(m *mqsql.Message) bool { return m.Queue != mqsql.Corrupt }

// Meaning implements mqsql.Spool.
func (s *Spool) Meaning() *mqsql.Meaning {
	if s.msp {
		return MaildropMeaning
	}
	return Meaning
}
