// Package exim reads Exim 4's spool (spool_directory) for mqsql: the -H header files of the
// default queue, of split_spool_directory's one-character subdirectories, of named queues and
// of Finput/ (frozen mail moved aside), joined with each message's -D data file, -J journal and
// msglog. It is a driver of mqsql.Spool of its own because nothing of Postfix's queue applies
// to Exim's: a message is several files, its state (never tried, deferred, frozen, being
// delivered) lives inside -H or in a lock on -D rather than in which directory it is, and -H
// is replaced by rename on every change. The mapping follows exim-spool.md §11 so that what
// mqsql reports agrees with exim -bp. Reading never changes the spool, never takes Exim's lock
// (a held lock is tested with F_GETLK), and reaches every file without following a link.
package exim
