package postfix

import (
	"bytes"
	"io"
	"io/fs"
	"os/user"
	"strconv"
	"syscall"
)

func bytesReaderAt(b []byte) io.ReaderAt { return bytes.NewReader(b) }

func inodeOf(st fs.FileInfo) uint64 {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return s.Ino
	}
	return 0
}

// currentUser names who ran a statement, for manifests and the audit log.
func currentUser() string {
	uid := strconv.Itoa(syscall.Getuid())
	if u, err := user.LookupId(uid); err == nil {
		return u.Username + " (uid " + uid + ")"
	}
	return "uid " + uid
}
