package index

import "github.com/mqsql/mqsql"

// The index keeps each message's mqsql.Stamp in its row (inode, file_size, mode, mtime_ns,
// log_size, log_mtime_ns, locked) and compares it with the stamp the driver gives the file on
// the next look. The load, the full pass and the watcher's refresh all ask these two
// questions, so they cannot disagree about whether a row still describes a file.

// unchanged reports whether a row with stamp row still describes the file with stamp now. A
// file the driver never joins a log to (Entry.NoLog) is compared without its log: whatever
// log stamp its row holds means nothing.
func unchanged(row, now mqsql.Stamp, unlogged bool) bool {
	if unlogged {
		row.Log, now.Log = mqsql.NoLog, mqsql.NoLog
	}
	return row == now
}

// sameContent reports whether the file with stamp now has the row's content although its
// mode may differ: a rename or chmod of the file the row was read from, which needs no
// reading. A lock taken or released is read again: what it means (the queue a read gives)
// is the driver's to say.
func sameContent(row, now mqsql.Stamp, unlogged bool) bool {
	row.Mode = now.Mode
	return unchanged(row, now, unlogged)
}

// diskStamp is the stamp of a file found in the spool: the driver's, with the log stamp the
// walk or look took (Entry.LogTaken), else log (from EachDelayLogStamp or StatLog).
func diskStamp(e mqsql.Entry, log mqsql.LogStamp) mqsql.Stamp {
	s := e.File.Stamp
	if !e.LogTaken {
		s.Log = log
	}
	return s
}
