package sendmail

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/mqsql/mqsql"

	"golang.org/x/sys/unix"
)

// A queue runner holds flock(LOCK_EX) on a message's qf for its whole delivery attempt;
// mailq marks such messages with "*". mqsql must see that without taking the lock itself
// (reading never changes the queue, and a reader holding a lock would make Sendmail skip the
// message), and flock locks cannot be tested without trying to take them. /proc/locks lists
// every lock the kernel holds, with the device and inode of its file: that is where mqsql
// looks.

// locksPath is the kernel's list of file locks.
const locksPath = "/proc/locks"

// lockMaxAge is how long a snapshot of /proc/locks answers reads: a walk of a big queue reads
// thousands of files, which must not each read the whole list.
const lockMaxAge = 250 * time.Millisecond

// fileKey names a file as /proc/locks does: its device and inode.
type fileKey struct {
	dev uint64
	ino uint64
}

func keyOf(st *unix.Stat_t) fileKey { return fileKey{dev: uint64(st.Dev), ino: st.Ino} }

// lockSet is the files someone holds a write (exclusive) lock on.
type lockSet map[fileKey]bool

// lockCache keeps the last snapshot of /proc/locks.
type lockCache struct {
	mu   sync.Mutex
	set  lockSet
	at   time.Time
	path string // locksPath; tests point it elsewhere
}

// current returns a snapshot no older than lockMaxAge (fresh when fresh is set).
func (c *lockCache) current(fresh bool) (lockSet, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !fresh && c.set != nil && time.Since(c.at) < lockMaxAge {
		return c.set, nil
	}
	set, err := readLocks(c.path)
	if err != nil {
		return nil, err
	}
	c.set, c.at = set, time.Now()
	return set, nil
}

// readLocks reads the exclusive locks held (not waited for) in a /proc/locks file.
func readLocks(path string) (lockSet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s (to see which messages a queue runner holds): %w", path, err)
	}
	set := lockSet{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		if k, ok := parseLockLine(sc.Bytes()); ok {
			set[k] = true
		}
	}
	return set, sc.Err()
}

// parseLockLine reads one line of /proc/locks, such as
// "1: FLOCK  ADVISORY  WRITE 24295 fe:00:753791 0 EOF". Lines of waiters ("1: -> FLOCK …")
// and shared locks are no hold.
func parseLockLine(line []byte) (fileKey, bool) {
	f := bytes.Fields(line)
	if len(f) < 6 || string(f[1]) == "->" {
		return fileKey{}, false
	}
	switch string(f[1]) {
	case "FLOCK", "POSIX", "OFDLCK":
	default:
		return fileKey{}, false
	}
	if string(f[3]) != "WRITE" {
		return fileKey{}, false
	}
	parts := bytes.Split(f[5], []byte(":"))
	if len(parts) != 3 {
		return fileKey{}, false
	}
	major, err1 := strconv.ParseUint(string(parts[0]), 16, 32)
	minor, err2 := strconv.ParseUint(string(parts[1]), 16, 32)
	ino, err3 := strconv.ParseUint(string(parts[2]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return fileKey{}, false
	}
	return fileKey{dev: unix.Mkdev(uint32(major), uint32(minor)), ino: ino}, true
}

// lockedNow reports whether a queue runner holds the lock of the control file st of queue q
// in the snapshot locks: the Stamp's Locked, since taking or dropping it makes the message
// active or not without touching the file. Lost (Qf) files are never run.
func lockedNow(locks lockSet, q mqsql.Queue, st *unix.Stat_t) bool {
	return q != mqsql.Corrupt && locks[keyOf(st)]
}
