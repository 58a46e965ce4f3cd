package exim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/backupfolder"
	"golang.org/x/sys/unix"
)

// An Exim spool is a mqsql.Restorer: restore puts a message's saved -D, -J, msglog and -H back
// into the input directory it was deleted from (its split subdirectory, its named queue's
// input/, Finput/), as Exim itself would have left them, and the next queue run delivers it.
// Exim has nothing like Postfix's pickup: a queue runner reads every -H it finds.
var _ mqsql.Restorer = (*Spool)(nil)

// maxSavedFile bounds the size of one restored -D, -J or msglog, which is streamed to disk:
// far above Exim's usual message_size_limit (50 MB).
const maxSavedFile = 1 << 30

// defaultSpoolMode is the mode Exim gives its spool files (SPOOL_MODE), for a backup that kept
// none; inputDirMode that of the directories it makes (INPUT_DIRECTORY_MODE).
const (
	defaultSpoolMode = 0o640
	inputDirMode     = 0o750
)

// The kinds of file a message has, by the suffix its -H, -D and -J names end in; a msglog is
// 'L'. publish puts them in place in this order, the -H last.
var restoreOrder = []byte{'D', 'J', 'L', 'H'}

// restoreRun is one mqsql restore into an Exim spool.
type restoreRun struct {
	sp     *Spool
	intend func(mqsql.Intent)
}

// BeginRestore implements mqsql.Restorer.
func (s *Spool) BeginRestore(ctx context.Context, intend func(mqsql.Intent)) (mqsql.RestoreRun, error) {
	return &restoreRun{sp: s, intend: intend}, nil
}

// Backend implements mqsql.RestoreRun: the files go back into the spool by file operations.
func (r *restoreRun) Backend() string { return "direct" }

// Folder implements mqsql.RestoreRun with Restore.
func (r *restoreRun) Folder(dir string, j mqsql.RestoreJournal) ([]mqsql.Restored, error) {
	return r.sp.Restore(dir, r.intend, j)
}

// Finish implements mqsql.RestoreRun. Nothing is waited for: the files are in the spool and
// frozen mail is still frozen (its -H says so); it only says where each message is.
func (r *restoreRun) Finish(ctx context.Context, restored []mqsql.Restored, wait time.Duration) {
	for i := range restored {
		res := &restored[i]
		res.Where = res.NewQueueID
		if res.NewQueueID != res.QueueID {
			res.Where += " (a new message ID: " + res.QueueID + " is in use in the spool)"
		}
	}
}

// Restore puts every message of a backup folder back into the spool: its -D, its -J and
// msglog when it had them, and its -H last (a -H without its -D is a corrupt message to Exim),
// each with the mode it had and its directory's owner (the Exim user), so that Exim takes them
// as its own; frozen mail stays frozen, its -H keeping its -frozen line. It refuses a folder
// not made of this spool or writable by others, and each message whose copies' checksums
// differ from the manifest's, or whose -H does not parse or names another sender or other
// recipients than the manifest. The copies are streamed from the archive in one pass. intend
// (nil: none) is told each message's ID right before its -H appears; j (mqsql.RestoreJournal)
// before and after, and a message it says an earlier run put back, or was putting back, is
// left alone.
//
// A message keeps its ID when no file of that ID is in the spool. The ID is what the admin, the
// backup's record and Exim's logs know the message by, and it cannot collide with new mail:
// Exim makes an ID of the time it is made and its process ID, and waits for the clock to pass
// the ID's time before using it, so it never makes an ID of the past again. When the ID is taken
// (the message was restored already, or never left), the message gets a new ID made the same
// way from the current time and this process's ID, which no Exim process can have while mqsql
// runs; its -H and -D, whose first lines name the ID, are given the new one (the copies are
// checked against the manifest before that), and it goes into the new ID's split
// subdirectory.
func (s *Spool) Restore(dir string, intend func(mqsql.Intent), j mqsql.RestoreJournal) ([]mqsql.Restored, error) {
	var m Manifest
	if err := backupfolder.ReadManifest(dir, &m); err != nil {
		return nil, err
	}
	if err := backupfolder.CheckSpool(dir, m.Header, s.Dir(), "exim"); err != nil {
		return nil, err
	}
	out := make([]mqsql.Restored, len(m.Messages))
	pend := make([]pendingRestore, len(m.Messages))
	parts := map[string]partRef{}
	for i, msg := range m.Messages {
		out[i] = mqsql.Restored{RestoredID: mqsql.RestoredID{QueueID: msg.QueueID, Queue: msg.Queue}, Folder: dir}
		kinds, err := checkEntry(msg)
		if err != nil {
			out[i].Err = err
			continue
		}
		if backupfolder.SkipEarlier(j, msg.QueueID, &out[i]) {
			continue
		}
		out[i].Err = errors.New("the saved copy is missing from the backup")
		pend[i] = pendingRestore{s: s, msg: msg, kinds: len(kinds)}
		for name, kind := range kinds {
			parts[name] = partRef{i, kind}
		}
	}
	defer func() {
		for i := range pend {
			pend[i].discard()
		}
	}()
	err := backupfolder.EachFile(dir, m.Archive, func(name string, r io.Reader, size int64) {
		ref, ok := parts[name]
		if !ok {
			return
		}
		delete(parts, name) // a name listed twice in a forged archive is restored once
		p := &pend[ref.i]
		if p.failed {
			return
		}
		if err := p.receive(ref.kind, name, r, size); err != nil {
			p.failed, out[ref.i].Err = true, err
			p.discard()
			return
		}
		if p.complete() {
			res := &out[ref.i]
			res.NewQueueID, res.Path, res.Err = p.publish(intend, j)
			_, frozen := p.h.options["frozen"]
			res.Held = res.Err == nil && frozen
		}
	})
	return out, err
}

// partRef is what an archive entry is: the manifest's message i, and which of its files.
type partRef struct {
	i    int
	kind byte
}

// checkEntry refuses a manifest entry that would name a file outside the spool's input and
// msglog directories or of another message: its -H must be in an input directory Exim keeps
// its ID's -H in, and its copies named after that -H. It returns the kind of each copy by its
// name in the archive.
func checkEntry(msg BackedUpMessage) (map[string]byte, error) {
	id, h := msg.QueueID, hpath(msg.OriginalPath)
	if !ValidQueueID(id) || !isInputPath(id, msg.OriginalPath) {
		return nil, fmt.Errorf("backup entry %q: invalid message ID or original path %q", id, msg.OriginalPath)
	}
	names := map[string]byte{}
	for _, k := range restoreOrder {
		names[id+"/"+h.ofKind(k)] = k
	}
	kinds := map[string]byte{}
	for _, f := range msg.Files {
		k, ok := names[f]
		if !ok {
			return nil, fmt.Errorf("backup entry %q: invalid file name %q", id, f)
		}
		if msg.SHA256[f] == "" {
			return nil, fmt.Errorf("%w: backup entry %q keeps no checksum of %s (made by an earlier mqsql): extract it with tar if you trust it", backupfolder.ErrRefused, id, f)
		}
		kinds[f] = k
	}
	if _, ok := kinds[id+"/"+h.ofKind('H')]; !ok {
		return nil, fmt.Errorf("backup entry %q: the backup holds no -H", id)
	}
	if _, ok := kinds[id+"/"+h.ofKind('D')]; !ok {
		return nil, fmt.Errorf("%w: backup entry %q holds no -D: Exim would take its -H alone for a corrupt message; extract it with tar if you want it", backupfolder.ErrRefused, id)
	}
	return kinds, nil
}

// isInputPath reports whether rel is where Exim keeps id's -H: input/, Finput/ or a named
// queue's NAME/input/, flat or in id's split subdirectory.
func isInputPath(id, rel string) bool {
	h := hpath(rel)
	if path.Base(rel) != id+"-H" || path.Clean(rel) != rel {
		return false
	}
	dir := h.dir()
	if path.Base(dir) == splitDir(id) {
		dir = path.Dir(dir)
	}
	switch first, rest, nested := cutFirst(dir); {
	case !nested:
		return first == inputDir || first == frozenInputDir
	default:
		return rest == inputDir && isQueueName(first)
	}
}

func cutFirst(p string) (string, string, bool) {
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			return p[:i], p[i+1:], true
		}
	}
	return p, "", false
}

// isQueueName reports whether name may be a named queue's directory: letters, digits, '-'
// and '_', and none of the spool's own directories.
func isQueueName(name string) bool {
	if name == "" || slices.Contains(reservedTops, name) {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isBase62(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// ofKind is the path of the message's file of kind k ('H', 'D', 'J', or 'L' for its msglog).
func (h hpath) ofKind(k byte) string {
	switch k {
	case 'H':
		return string(h)
	case 'L':
		return h.msglog()
	}
	return h.sibling(string(k))
}

// forID is the -H path of the message under the ID id: in the same input directory, in id's
// split subdirectory when the message was in one.
func (h hpath) forID(id string) hpath {
	dir := h.dir()
	if old := h.id(); path.Base(dir) == splitDir(old) {
		dir = path.Join(path.Dir(dir), splitDir(id))
	}
	return hpath(dir + "/" + id + "-H")
}

// pendingRestore is one message of a backup while its files arrive from the archive: the
// checked -H in memory, the other files already in hidden files in the spool.
type pendingRestore struct {
	s      *Spool
	msg    BackedUpMessage
	kinds  int    // how many files the manifest lists
	header []byte // the -H, once it arrived and was checked
	h      *hfile
	temps  map[byte]string // kind -> hidden file (relative to the spool) holding its copy
	failed bool
}

// receive takes the message's file name of kind k from the archive and checks it.
func (p *pendingRestore) receive(k byte, name string, r io.Reader, size int64) error {
	id, want := p.msg.QueueID, p.msg.SHA256[name]
	if k == 'H' {
		if size > maxFile {
			return fmt.Errorf("%w: saved -H of %s is %d bytes, over the %d-byte limit", backupfolder.ErrRefused, id, size, maxFile)
		}
		data, err := io.ReadAll(io.LimitReader(r, size))
		if err != nil {
			return fmt.Errorf("read saved -H of %s: %w", id, err)
		}
		if backupfolder.SHA256(data) != want {
			return fmt.Errorf("saved -H of %s does not match its checksum: not restored", id)
		}
		p.header = data
		return p.checkHeader()
	}
	if size > maxSavedFile {
		return fmt.Errorf("%w: saved %s is %d bytes, over the %d-byte limit", backupfolder.ErrRefused, name, size, int64(maxSavedFile))
	}
	tmp, err := p.s.writeHidden(hpath(p.msg.OriginalPath).ofKind(k), r, want, p.msg.Mode)
	if err != nil {
		return fmt.Errorf("restore %s: %w", name, err)
	}
	if p.temps == nil {
		p.temps = map[byte]string{}
	}
	p.temps[k] = tmp
	return nil
}

// checkHeader refuses a saved -H that Exim would not read, or whose sender and pending
// recipients are not the manifest's: a checksum says the bytes are the ones listed, not that
// they are mail.
func (p *pendingRestore) checkHeader() error {
	id := p.msg.QueueID
	h, err := parseH(p.header, id)
	if err != nil {
		return fmt.Errorf("%w: saved -H of %s does not parse (%v): it was corrupt when deleted; extract it with tar if you want it", backupfolder.ErrRefused, id, err)
	}
	if h.sender != p.msg.Sender {
		return fmt.Errorf("%w: saved -H of %s has sender %q, the manifest says %q", backupfolder.ErrRefused, id, h.sender, p.msg.Sender)
	}
	if rcpts := pendingOf(h); !slices.Equal(rcpts, p.msg.Recipients) {
		return fmt.Errorf("%w: saved -H of %s has recipients %q, the manifest says %q", backupfolder.ErrRefused, id, rcpts, p.msg.Recipients)
	}
	p.h = h
	return nil
}

// complete reports whether every file the manifest lists for the message has arrived.
func (p *pendingRestore) complete() bool { return p.h != nil && len(p.temps)+1 == p.kinds }

// discard removes the hidden files of a message that was not put back.
func (p *pendingRestore) discard() {
	for k, tmp := range p.temps {
		_ = p.s.root.Unlink(tmp)
		delete(p.temps, k)
	}
}

// publish gives the message's files their real names: the -D first, then the -J and msglog,
// the -H last, each with RENAME_NOREPLACE so that nothing in the spool is ever replaced. It
// returns the message ID the message has now and its -H's path.
func (p *pendingRestore) publish(intend func(mqsql.Intent), j mqsql.RestoreJournal) (string, string, error) {
	if err := j.Putting(p.msg.QueueID); err != nil {
		return "", "", err
	}
	orig := hpath(p.msg.OriginalPath)
	for attempt := 0; attempt < 100; attempt++ {
		id := p.msg.QueueID
		if attempt > 0 {
			id = newMessageID(time.Now(), os.Getpid(), attempt, len(id))
		}
		h := orig.forID(id)
		if !p.s.idFree(id, h) {
			continue
		}
		header, err := p.renamed(id)
		if err != nil {
			return "", "", err
		}
		placed, err := p.placeParts(h)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			return "", "", err
		}
		err = p.s.writeHeader(string(h), header, p.msg.Mode, func() {
			if intend != nil {
				intend(mqsql.Intent{QueueID: id})
			}
		})
		if err == nil {
			p.temps = nil
			j.Put(mqsql.RestoredID{QueueID: p.msg.QueueID, Queue: p.msg.Queue, NewQueueID: id, Path: string(h)})
			return id, string(h), nil
		}
		p.unplace(placed)
		if !errors.Is(err, unix.EEXIST) {
			return "", "", err
		}
	}
	return "", "", fmt.Errorf("no free message ID for %s in the spool", p.msg.QueueID)
}

// renamed makes the message's -H and hidden -D name the ID id on their first lines, which
// Exim checks against the file names, and returns the -H.
func (p *pendingRestore) renamed(id string) ([]byte, error) {
	if id == p.msg.QueueID {
		return p.header, nil
	}
	old := []byte(p.msg.QueueID + "-H\n")
	header := append([]byte(id+"-H\n"), p.header[len(old):]...)
	if err := p.s.rewriteFirstLine(p.temps['D'], id+"-D\n"); err != nil {
		return nil, err
	}
	return header, nil
}

// placeParts renames the hidden -D, -J and msglog to their names beside the -H h; on failure
// it puts back what it renamed. It returns the names it gave, for unplace.
func (p *pendingRestore) placeParts(h hpath) (map[byte]string, error) {
	placed := map[byte]string{}
	for _, k := range restoreOrder {
		tmp := p.temps[k]
		if tmp == "" {
			continue
		}
		rel := h.ofKind(k)
		err := p.s.mkdirs(path.Dir(rel))
		if err == nil {
			err = p.s.root.RenameNoReplace(tmp, rel)
		}
		if err != nil {
			p.unplace(placed)
			return nil, err
		}
		placed[k] = rel
	}
	return placed, nil
}

// unplace gives the files placeParts renamed their hidden names again.
func (p *pendingRestore) unplace(placed map[byte]string) {
	for k, rel := range placed {
		_ = p.s.root.RenameNoReplace(rel, p.temps[k])
	}
}

// idFree reports whether no file of message ID id is in the spool: no -H in any input
// directory, flat or split, and no -D, -J, msglog or temporary hdr.ID where the message's
// would go (h being its -H).
func (s *Spool) idFree(id string, h hpath) bool {
	var rels []string
	for _, pl := range s.Locations(id) {
		rels = append(rels, pl.Path)
	}
	rels = append(rels, h.ofKind('D'), h.ofKind('J'), h.ofKind('L'), h.dir()+"/hdr."+id)
	for _, rel := range rels {
		if _, err := s.root.Lstat(rel); !errors.Is(err, os.ErrNotExist) {
			return false
		}
	}
	return true
}

// newMessageID makes a message ID of length n (16: Exim up to 4.96, 23: 4.97 and later) as
// Exim does: the time in seconds, the process ID and the fraction of the second (in Exim's
// units: 1/2000 s, 1/1000000 s), in base 62; seq moves the fraction on for a retry.
func newMessageID(now time.Time, pid, seq, n int) string {
	if n == 23 {
		return base62(now.Unix(), 6) + "-" + base62(int64(pid), 11) + "-" + base62(int64(now.Nanosecond()/1000+seq)%1000000, 4)
	}
	return base62(now.Unix(), 6) + "-" + base62(int64(pid), 6) + "-" + base62(int64(now.Nanosecond()/500000+seq)%2000, 2)
}

// base62 writes v in width base-62 digits (0-9, A-Z, a-z), as Exim's string_base62 does.
func base62(v int64, width int) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		b[i] = digits[v%62]
		v /= 62
	}
	return string(b)
}
