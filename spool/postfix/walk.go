package postfix

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/saferoot"
	"golang.org/x/sys/unix"
)

// maxHashDepth bounds how deep a walk descends into one-character subdirectories.
const maxHashDepth = 16

// Walk lists the messages of every queue in mqsql.AllQueues and calls fn for each, in showq's
// queue order. In message queues it lists what showq lists: regular files named like queue
// IDs whose owner rwx bits are set (Postfix's "complete" flag); files being written are not
// messages yet. In corrupt it lists every regular file. Symbolic links and other non-files
// are skipped with a warning and never followed.
//
// A directory or file it cannot open, list or lstat for a reason other than its absence
// (mqsql.Absent) does not stop it: it goes on, and returns an *mqsql.UnreadableError for each
// such place at its end (errors.Join), so that no caller takes what it could not see for
// empty.
func (s *Spool) Walk(ctx context.Context, fn func(Entry) error) error {
	var unseen []error
	for _, q := range mqsql.AllQueues {
		err := s.WalkQueue(ctx, q, fn)
		if err != nil && !mqsql.OnlyUnreadable(err) {
			return err
		}
		unseen = append(unseen, err)
	}
	return errors.Join(unseen...)
}

// WalkParallel lists what Walk lists, but with several goroutines listing and lstat-ing
// directories at once and in no particular order: on a big queue the lstat of each file is
// most of a walk's cost, and an index does not need showq's order. fn is called from several
// goroutines at once; the first error it returns stops the walk and is returned.
func (s *Spool) WalkParallel(ctx context.Context, fn func(Entry) error) error {
	return s.walkQueuesParallel(ctx, true, fn)
}

// WalkForRead is WalkParallel for a caller that reads every entry: it takes each file's type
// from the directory listing instead of lstat-ing it, which on a big queue saves a system call
// per file. Entry.File then has only Path; Read fills in the rest from the opened file and
// returns ErrIncomplete for what the walk would have skipped as still being written.
func (s *Spool) WalkForRead(ctx context.Context, fn func(Entry) error) error {
	return s.walkQueuesParallel(ctx, false, fn)
}

// walkQueuesParallel walks every queue of mqsql.AllQueues with walkParallel.
func (s *Spool) walkQueuesParallel(ctx context.Context, stat bool, fn func(Entry) error) error {
	roots := make([]walkRoot, len(mqsql.AllQueues))
	for i, q := range mqsql.AllQueues {
		roots[i] = walkRoot{rel: string(q), queue: q}
	}
	return s.walkParallel(ctx, roots, stat, func(r *walkRoot, path, name string, st *unix.Stat_t) error {
		return s.queueFile(r.queue, path, name, st, fn)
	})
}

// WalkQueue is Walk for one queue. A queue directory that does not exist has no messages.
// What it cannot see it reports as Walk does.
func (s *Spool) WalkQueue(ctx context.Context, q mqsql.Queue, fn func(Entry) error) error {
	var u mqsql.Unreadables
	err := s.walkFiles(ctx, string(q), 0, &u, func(path, name string, st *unix.Stat_t) error {
		return s.queueFile(q, path, name, st, fn)
	})
	if err != nil {
		return err
	}
	return u.Err()
}

// LogStamp is a log file's stamp (mqsql.LogStamp).
type LogStamp = mqsql.LogStamp

// LogStamps lists the logs in the named log directory (defer, bounce) by queue ID, so that an
// index can tell which messages have new delay reasons without opening every log.
func (s *Spool) LogStamps(ctx context.Context, dir string) (map[string]LogStamp, error) {
	stamps := map[string]LogStamp{}
	var mu sync.Mutex
	err := s.EachLogStamp(ctx, dir, func(id string, st LogStamp) {
		mu.Lock()
		stamps[id] = st
		mu.Unlock()
	})
	return stamps, err
}

// EachLogStamp calls fn for each log LogStamps lists, with its queue ID, instead of building
// a map: a caller with a million logs may keep them more compactly. fn may be called from
// several goroutines at once.
func (s *Spool) EachLogStamp(ctx context.Context, dir string, fn func(id string, st LogStamp)) error {
	return s.walkParallel(ctx, []walkRoot{{rel: dir}}, true, func(_ *walkRoot, path, name string, st *unix.Stat_t) error {
		if ls, ok := logStamp(st); ok && ValidQueueID(name) && s.cfg.isRelPath(dir, name, path) {
			fn(name, ls)
		}
		return nil
	})
}

// walkFiles calls fn for every regular file below rel, descending into one-character
// subdirectories as showq does. Other non-files are skipped with a warning; what cannot be
// opened, listed or lstat'ed goes to u (a directory that does not exist has no files).
func (s *Spool) walkFiles(ctx context.Context, rel string, depth int, u *mqsql.Unreadables, fn func(path, name string, st *unix.Stat_t) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d, ok := s.openDir(rel, u)
	if !ok {
		return nil
	}
	defer d.Close()
	for {
		names, err := d.Readdirnames(1024)
		for _, name := range names {
			if err := s.visit(ctx, d, rel, name, depth, u, fn); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			u.Add(rel, err)
			return nil
		}
	}
}

// openDir opens the directory rel of a walk. A directory that does not exist has no files
// (Postfix prunes hash directories); a link in its place is no part of the spool and is
// warned about; any other failure (too many open files, an I/O error, permission) goes to u,
// since what it holds is unknown.
func (s *Spool) openDir(rel string, u *mqsql.Unreadables) (*os.File, bool) {
	d, err := s.root.Open(rel, true)
	switch {
	case err == nil:
		return d, true
	case errors.Is(err, fs.ErrNotExist):
	case mqsql.Absent(err): // a link, or no directory
		s.warn(fmt.Errorf("skip %s: %w", rel, err))
	case errors.Is(err, fs.ErrPermission):
		u.Add(rel, &PermissionError{Path: rel, Err: err})
	default:
		u.Add(rel, err)
	}
	return nil, false
}

func (s *Spool) visit(ctx context.Context, d *os.File, rel, name string, depth int, u *mqsql.Unreadables, fn func(path, name string, st *unix.Stat_t) error) error {
	path, st, kind := s.inspect(d, rel, name, depth, u)
	switch kind {
	case subdir:
		return s.walkFiles(ctx, path, depth+1, u, fn)
	case regular:
		return fn(path, name, &st)
	}
	return nil
}

// entryKind is what a walk does with a directory entry.
type entryKind int

const (
	skip    entryKind = iota // gone, or not something a walk lists (warned about)
	subdir                   // a hash directory to descend into
	regular                  // a regular file
)

// inspect lstats one entry of the directory d (at rel) and says what it is, warning about
// what the spool should not hold. An entry it cannot lstat for a reason other than its
// absence goes to u.
func (s *Spool) inspect(d *os.File, rel, name string, depth int, u *mqsql.Unreadables) (string, unix.Stat_t, entryKind) {
	path := rel + "/" + name
	st, err := lstatAt(d, name)
	if err != nil {
		u.Add(path, err) // unless it is gone since listing
		return "", st, skip
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if IsHashDir(name, depth) {
			return path, st, subdir
		}
		s.warn(fmt.Errorf("skip %s: unexpected directory", path))
		return path, st, skip
	case unix.S_IFREG:
		return path, st, regular
	default:
		s.warn(fmt.Errorf("skip %s: not a regular file (%s)", path, saferoot.FileType(st.Mode)))
		return path, st, skip
	}
}

// queueFile decides whether a regular file in queue q is a message, and passes it on. st is
// nil for a file WalkForRead did not lstat: its name is a queue ID (or it is in corrupt), and
// Read checks whether it is complete.
func (s *Spool) queueFile(q mqsql.Queue, path, name string, st *unix.Stat_t, fn func(Entry) error) error {
	e := Entry{Queue: q, QueueID: name, File: mqsql.FileInfo{Path: path}, Lazy: st == nil, NoLog: !HasDelayLog(q, name)}
	if st != nil {
		e.File, e.ForcedExpire = fileInfo(path, st), forcedExpire(st.Mode)
	}
	if q != mqsql.Corrupt {
		if !ValidQueueID(name) {
			if st != nil && complete(st.Mode) && name != ".gitkeep" {
				s.warn(fmt.Errorf("skip %s: not a queue ID", path))
			}
			return nil
		}
		if st != nil && !complete(st.Mode) {
			return nil // still being written
		}
		if !s.cfg.isRelPath(string(q), name, path) {
			e.Misplaced = s.cfg.RelPath(string(q), name)
		}
	}
	return fn(e)
}

// walkRoot is a directory a parallel walk starts from, and the queue its files belong to.
type walkRoot struct {
	rel   string
	queue mqsql.Queue
}

// dirTask is one directory for a parallel walk to list.
type dirTask struct {
	root  *walkRoot
	rel   string
	depth int
}

// walkers is how many goroutines a parallel walk uses: lstat is a system call that keeps a
// core busy, and some spare ones cover the waits for the disk.
func walkers() int { return 2 * runtime.GOMAXPROCS(0) }

// walkParallel is walkFiles over several roots, with walkers goroutines taking directories
// from a shared queue; hash subdirectories found are queued, not descended into. A root that
// does not exist has no files. fn may be called from several goroutines at once. Without stat,
// fn gets a nil st for regular files whose name is a queue ID (or that are in corrupt) when
// the directory listing says what they are. What it cannot see it returns at its end, as
// Walk does.
func (s *Spool) walkParallel(parent context.Context, roots []walkRoot, stat bool, fn func(root *walkRoot, path, name string, st *unix.Stat_t) error) error {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	q := newDirQueue()
	q.unseen = &mqsql.Unreadables{}
	for i := range roots {
		q.push(dirTask{root: &roots[i], rel: roots[i].rel})
	}
	var wg sync.WaitGroup
	for range walkers() {
		wg.Go(func() {
			for t, ok := q.pop(ctx); ok; t, ok = q.pop(ctx) {
				if err := s.walkDir(ctx, t, q, stat, fn); err != nil {
					cancel(err)
				}
				q.done()
			}
		})
	}
	wg.Wait()
	if err := parent.Err(); err != nil {
		// context.Canceled, not the parent's cause ("interrupt signal received"), which
		// callers could not tell from a failure.
		return err
	}
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return q.unseen.Err()
}

// walkDir lists one directory of a parallel walk, with walkFiles's rules.
func (s *Spool) walkDir(ctx context.Context, t dirTask, q *dirQueue, stat bool, fn func(root *walkRoot, path, name string, st *unix.Stat_t) error) error {
	d, ok := s.openDir(t.rel, q.unseen)
	if !ok {
		return nil
	}
	defer d.Close()
	buf := direntBuffers.Get().(*[]byte)
	defer direntBuffers.Put(buf)
	var ents []dirent
	var err error
	for {
		ents, err = readDirents(int(d.Fd()), *buf, ents[:0])
		for _, ent := range ents {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := s.walkEntry(d, t, q, ent, stat, fn); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			q.unseen.Add(t.rel, err)
			return nil
		}
	}
}

// walkEntry handles one entry of a directory of a parallel walk: a hash directory is queued,
// a file passed to fn, anything else warned about.
func (s *Spool) walkEntry(d *os.File, t dirTask, q *dirQueue, ent dirent, stat bool, fn func(root *walkRoot, path, name string, st *unix.Stat_t) error) error {
	lazy := !stat && ent.typ != unix.DT_UNKNOWN && (t.root.queue == mqsql.Corrupt || ValidQueueID(ent.name))
	if lazy && ent.typ == unix.DT_REG {
		return fn(t.root, t.rel+"/"+ent.name, ent.name, nil)
	}
	var path string
	var st unix.Stat_t
	var kind entryKind
	if lazy {
		path, kind = s.inspectType(t.rel, ent.name, t.depth, ent.typ)
	} else {
		path, st, kind = s.inspect(d, t.rel, ent.name, t.depth, q.unseen)
	}
	switch kind {
	case subdir:
		q.push(dirTask{root: t.root, rel: path, depth: t.depth + 1})
	case regular:
		return fn(t.root, path, ent.name, &st)
	}
	return nil
}

// inspectType is inspect for an entry whose type the directory listing gave.
func (s *Spool) inspectType(rel, name string, depth int, typ uint8) (string, entryKind) {
	path := rel + "/" + name
	switch typ {
	case unix.DT_DIR:
		if IsHashDir(name, depth) {
			return path, subdir
		}
		s.warn(fmt.Errorf("skip %s: unexpected directory", path))
	case unix.DT_REG:
		return path, regular
	default:
		s.warn(fmt.Errorf("skip %s: not a regular file (%s)", path, saferoot.FileType(direntMode[typ])))
	}
	return path, skip
}

// direntMode maps the file types of directory entries to the mode bits lstat gives.
var direntMode = map[uint8]uint32{
	unix.DT_LNK: unix.S_IFLNK, unix.DT_FIFO: unix.S_IFIFO, unix.DT_SOCK: unix.S_IFSOCK,
	unix.DT_CHR: unix.S_IFCHR, unix.DT_BLK: unix.S_IFBLK,
}

// dirent is a directory entry and the file type the file system recorded for it
// (unix.DT_UNKNOWN when it records none).
type dirent struct {
	name string
	typ  uint8
}

// direntBuffers hold the buffers getdents fills.
var direntBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// readDirents appends the entries one getdents64 call returns to out; io.EOF at the end of the
// directory. "." and ".." are left out.
func readDirents(fd int, buf []byte, out []dirent) ([]dirent, error) {
	n, err := unix.Getdents(fd, buf)
	for err == unix.EINTR {
		n, err = unix.Getdents(fd, buf)
	}
	if err != nil {
		return out, err
	}
	if n == 0 {
		return out, io.EOF
	}
	// struct linux_dirent64: d_ino (8 bytes), d_off (8), d_reclen (2), d_type (1), d_name.
	for off := 0; off+19 <= n; {
		reclen := int(binary.NativeEndian.Uint16(buf[off+16:]))
		if reclen < 19 || off+reclen > n {
			return out, fmt.Errorf("getdents: bad record length %d", reclen)
		}
		ino := binary.NativeEndian.Uint64(buf[off:])
		typ := buf[off+18]
		name := buf[off+19 : off+reclen]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		off += reclen
		if ino == 0 || string(name) == "." || string(name) == ".." {
			continue
		}
		out = append(out, dirent{name: string(name), typ: typ})
	}
	return out, nil
}

// dirQueue is the unbounded queue of directories of a parallel walk. It knows how many
// directories are queued or being listed, so that pop can tell "wait" from "all done".
type dirQueue struct {
	unseen  *mqsql.Unreadables // what the walk could not see
	mu      sync.Mutex
	cond    *sync.Cond
	tasks   []dirTask
	pending int
}

func newDirQueue() *dirQueue {
	q := &dirQueue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *dirQueue) push(t dirTask) {
	q.mu.Lock()
	q.tasks = append(q.tasks, t)
	q.pending++
	q.mu.Unlock()
	q.cond.Signal()
}

// pop takes a directory to list; ok is false when every directory has been listed or the
// walk was stopped.
func (q *dirQueue) pop(ctx context.Context) (t dirTask, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.tasks) == 0 && q.pending > 0 && ctx.Err() == nil {
		q.cond.Wait()
	}
	if len(q.tasks) == 0 || ctx.Err() != nil {
		return dirTask{}, false
	}
	t = q.tasks[len(q.tasks)-1]
	q.tasks = q.tasks[:len(q.tasks)-1]
	return t, true
}

// done marks a popped directory as listed.
func (q *dirQueue) done() {
	q.mu.Lock()
	q.pending--
	q.mu.Unlock()
	q.cond.Broadcast()
}

// isRelPath reports whether path is c.RelPath(queue, id), without building it: a walk asks
// this of every file, and RelPath allocates.
func (c Config) isRelPath(queue, id, path string) bool {
	rest, ok := strings.CutPrefix(path, queue+"/")
	if !ok {
		return false
	}
	if c.hashed(queue) && c.HashQueueDepth > 0 {
		for i := range c.HashQueueDepth {
			if len(rest) < 2 || rest[0] != hashChar(id, i) || rest[1] != '/' {
				return false
			}
			rest = rest[2:]
		}
	}
	return rest == id
}

// appendDir appends to b the directory, relative to the queue directory, where Postfix keeps
// queue ID id in the named directory: RelPath without the ID, built without allocating.
func (c Config) appendDir(b []byte, queue, id string) []byte {
	b = append(b, queue...)
	if c.hashed(queue) {
		for i := range c.HashQueueDepth {
			b = append(b, '/', hashChar(id, i))
		}
	}
	return b
}

// hashChar is character i of hashKey(id), '_' past its end, as hashDirs uses it.
func hashChar(id string, i int) byte {
	sep := longIDSeparator(id)
	if sep < 0 {
		if i < len(id) {
			return id[i]
		}
		return '_'
	}
	usec := 0
	for j := sep - 4; j < sep; j++ {
		v := strings.IndexByte(longIDAlphabet, id[j])
		if v < 0 { // not a long ID after all: hashKey hashes the ID itself
			if i < len(id) {
				return id[i]
			}
			return '_'
		}
		usec = usec*52 + v
	}
	// hashKey formats the microseconds as %05X: five digits, or more for a number that
	// needs them.
	digits := 5
	for v := usec >> 20; v > 0; v >>= 4 {
		digits++
	}
	if i >= digits {
		return '_'
	}
	return "0123456789ABCDEF"[(usec>>(4*(digits-1-i)))&0xf]
}
