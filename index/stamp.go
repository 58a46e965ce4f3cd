package index

import "github.com/mqsql/mqsql"

// fileStamp is what the index keeps of a file to tell whether it changed: the file's inode,
// size, mode and mtime, and the stamp of the delay log the spool joins to it ({-1, -1} when
// it has none). Sync, the full pass and the watcher's refresh all ask it the same two
// questions, so they cannot disagree about whether a row still describes a file.
type fileStamp struct {
	inode, size, mode, mtimeNs int64
	log                        logStamp
	// unlogged marks a file the spool never joins a log to (corrupt/): whatever log stamp
	// its row holds means nothing.
	unlogged bool
}

// noLog is the log stamp of a file without a delay log.
var noLog = logStamp{-1, -1}

// diskStamp is the stamp of a file found in the spool, whose queue ID's delay log has stamp
// log.
func diskStamp(e mqsql.Entry, log logStamp) fileStamp {
	return fileStamp{int64(e.File.Inode), e.File.Size, int64(e.File.Mode), e.File.ModTimeNanos, log, e.NoLog}
}

// unchanged reports whether a row with stamp s still describes the file with stamp now.
func (s fileStamp) unchanged(now fileStamp) bool {
	if now.unlogged {
		s.log, now.log = noLog, noLog
	}
	s.unlogged = now.unlogged
	return s == now
}

// sameContent reports whether the file with stamp now has the row's content although its
// mode may differ: a rename (or chmod) of the file the row was read from, which needs no
// reading.
func (s fileStamp) sameContent(now fileStamp) bool {
	s.mode = now.mode
	return s.unchanged(now)
}

// stamp returns the stamp of an indexed file.
func (r *indexedFile) stamp() fileStamp {
	return fileStamp{r.inode, r.fileSize, r.mode, r.mtimeNs, logStamp{r.logSize, r.logMtime}, false}
}

// fileStamp returns the stamp Sync loaded for a row.
func (s stamp) fileStamp() fileStamp {
	return fileStamp{s.inode, s.size, s.mode, s.mtimeNs, logStamp{s.logSize, s.logMtimeNs}, false}
}

// walkLogStamp turns the spool's log stamp, zero for none, into a logStamp.
func walkLogStamp(st mqsql.LogStamp) logStamp {
	if st == (mqsql.LogStamp{}) {
		return noLog
	}
	return logStamp{st.Size, st.ModTimeNanos}
}
