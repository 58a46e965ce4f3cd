package postfix

import (
	"strings"

	"github.com/mqsql/mqsql"
)

// Meaning is what a Postfix queue means: its six queue directories in showq's order, the
// postsuper and postqueue operations a statement can ask for, and which files showq (and so
// postqueue -j and qshape) lists.
var Meaning = &mqsql.Meaning{
	MTA: "Postfix",
	Queues: []mqsql.QueueMeaning{
		{Queue: mqsql.Maildrop, Listed: true}, {Queue: mqsql.Active, Listed: true},
		{Queue: mqsql.Incoming, Listed: true}, {Queue: mqsql.Deferred, Listed: true},
		{Queue: mqsql.Hold, Listed: true}, {Queue: mqsql.Corrupt},
	},
	Moves: []mqsql.Move{
		{To: mqsql.Hold, Op: mqsql.OpHold, Says: "postsuper -h",
			From: []mqsql.Queue{mqsql.Incoming, mqsql.Active, mqsql.Deferred}},
		{To: mqsql.Deferred, Op: mqsql.OpRelease, Says: "release, postsuper -H",
			From: []mqsql.Queue{mqsql.Hold}},
		{To: mqsql.Maildrop, Op: mqsql.OpRequeue, Says: "requeue, postsuper -r",
			From: []mqsql.Queue{mqsql.Incoming, mqsql.Active, mqsql.Deferred, mqsql.Hold}},
		{To: mqsql.Active, Op: mqsql.OpFlush, Says: "deliver now, postqueue -i",
			From: []mqsql.Queue{mqsql.Deferred, mqsql.Incoming}},
	},
	Expire: []mqsql.Move{
		{Op: mqsql.OpExpire, Says: "postsuper -e", From: []mqsql.Queue{mqsql.Incoming, mqsql.Active, mqsql.Deferred}},
		{Op: mqsql.OpExpireRelease, Says: "postsuper -f", From: []mqsql.Queue{mqsql.Hold}},
	},
	ExpireNowSays: "postsuper -e, or -f for held mail, then postqueue -i",
	ExpireSkips: map[mqsql.Queue]string{
		mqsql.Maildrop: "mail in maildrop has not been queued yet and cannot be expired",
	},
	CorruptSkip: "files in corrupt/ are not queued mail; Postfix's tools do not touch them (inspect and remove by hand)",
	Listed:      listed,
}

// showqQueues are the message queues in the order showq scans them.
var showqQueues = []mqsql.Queue{mqsql.Maildrop, mqsql.Active, mqsql.Incoming, mqsql.Deferred, mqsql.Hold}

// listedMask and listedMode are the permission bits qshape(1) tests a queue file's mode
// with: owner rwx (cleanup's "complete" mark) and no group or other bit of the mask set (so
// not expired by postsuper -e, whose mark is the group execute bit).
const (
	listedMask = 0o733
	listedMode = 0o700
)

// listed is qshape's own test of a queue file, which postqueue's listing agrees with: a
// message queue's file (not corrupt/), named like a queue ID (six or more letters and
// digits), complete and not expired, whose records end before the file does (the C record's
// size is less than the file's), and read to its end (a misplaced file is still listed).
func listed(m *mqsql.Message) bool {
	return m.Queue != mqsql.Corrupt && len(m.QueueID) >= 6 && alnum(m.QueueID) &&
		m.File.Mode&listedMask == listedMode && m.Size < m.File.Size &&
		(m.Error == "" || strings.HasPrefix(m.Error, "misplaced:"))
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// Meaning implements mqsql.Spool.
func (s *Spool) Meaning() *mqsql.Meaning { return Meaning }
