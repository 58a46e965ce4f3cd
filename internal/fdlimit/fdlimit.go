// Package fdlimit lets a test run out of file descriptors for real, the way a process whose
// idle connections hold every descriptor does: opens then fail with EMFILE in the kernel, not
// in a fake. What mqsql does then (keep every row, warn, retry) is a promise of every MTA
// driver and of the index, so the tests of each use it.
package fdlimit

import (
	"syscall"
	"testing"
)

// Exhaust lowers the process's soft limit on open files so that at most spare more can be
// opened (fewer when descriptors above the lowest free one are in use), and returns a function
// that restores the limit; Cleanup restores it too. Nothing else of the test may open files
// meanwhile: the limit is the whole process's.
func Exhaust(t testing.TB, spare int) (restore func()) {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatalf("getrlimit: %v", err)
	}
	low, err := lowestFree()
	if err != nil {
		t.Fatalf("find the lowest free descriptor: %v", err)
	}
	lowered := old
	lowered.Cur = uint64(low + spare)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lowered); err != nil {
		t.Fatalf("setrlimit: %v", err)
	}
	done := false
	restore = func() {
		if done {
			return
		}
		done = true
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
			t.Errorf("restore the open-files limit: %v", err)
		}
	}
	t.Cleanup(restore)
	return restore
}

// lowestFree is the lowest descriptor number not in use: the one the next open gets.
func lowestFree() (int, error) {
	fd, err := syscall.Dup(0)
	if err != nil {
		return 0, err
	}
	return fd, syscall.Close(fd)
}
