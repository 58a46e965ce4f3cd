// Package sendmail reads Sendmail 8.17's mail queue (/var/spool/mqueue) as mqsql messages,
// the second driver behind mqsql.Spool beside spool/postfix. It is a package of its own
// because Sendmail shares nothing with Postfix below the interface: one text control file
// per message (qf, hf when quarantined, Qf when Sendmail set it aside) next to a body file
// (df), optionally in qf/ df/ xf/ subdirectories; states that are file prefixes, attempt
// counters and flock(2) locks rather than directories; queue IDs made of a time stamp and a
// process ID. Only this package knows those rules.
//
// Reading never changes the queue and never takes a lock: whether a queue runner holds a
// message (the "active" queue) is read from /proc/locks. Every file is reached through a
// link-safe root (openat2 with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), so a symbolic link
// planted in the queue is never followed. The mapping onto mqsql's tables follows
// sendmail-queue.md §8 and what mailq (sendmail -bp) shows.
package sendmail
