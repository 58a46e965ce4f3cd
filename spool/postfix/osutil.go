package postfix

import (
	"bytes"
	"io"
	"io/fs"
	"syscall"
)

func bytesReaderAt(b []byte) io.ReaderAt { return bytes.NewReader(b) }

func inodeOf(st fs.FileInfo) uint64 {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return s.Ino
	}
	return 0
}
