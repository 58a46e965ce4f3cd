package sendmail

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
	"github.com/mqsql/mqsql/internal/saferoot"
	"golang.org/x/sys/unix"
)

// A Sendmail queue is a mqsql.Restorer: restore puts a message's saved files back where they
// were, as Sendmail itself would have left them, and the next queue run delivers it. There is
// nothing like Postfix's pickup to go through: a queue run reads every complete control file.
var _ mqsql.Restorer = (*Spool)(nil)

// maxSavedFile bounds the size of one restored df or xf, which is streamed to disk: far above
// Sendmail's usual MaxMessageSize.
const maxSavedFile = 1 << 30

// restoreRun is one mqsql restore into a Sendmail queue.
type restoreRun struct {
	sp     *Spool
	intend func(mqsql.Intent)
}

// BeginRestore implements mqsql.Restorer.
func (s *Spool) BeginRestore(ctx context.Context, intend func(mqsql.Intent)) (mqsql.RestoreRun, error) {
	return &restoreRun{sp: s, intend: intend}, nil
}

// Backend implements mqsql.RestoreRun: the files go back into the queue by file operations.
func (r *restoreRun) Backend() string { return "direct" }

// Folder implements mqsql.RestoreRun with Restore.
func (r *restoreRun) Folder(dir string, j mqsql.RestoreJournal) ([]mqsql.Restored, error) {
	return r.sp.Restore(dir, r.intend, j)
}

// Finish implements mqsql.RestoreRun. Nothing is waited for: the files are in the queue, held
// mail already quarantined; it only says where each message is.
func (r *restoreRun) Finish(ctx context.Context, restored []mqsql.Restored, wait time.Duration) {
	for i := range restored {
		res := &restored[i]
		switch {
		case res.Path != "" && path.Base(res.Path)[0] == letterLost:
			res.Where = res.NewQueueID + " (back as " + res.Path + ": Sendmail had set it aside as lost and does not deliver it)"
		case res.NewQueueID != res.QueueID:
			res.Where = res.NewQueueID + " (a new queue ID: " + res.QueueID + " is in use in the queue)"
		default:
			res.Where = res.NewQueueID
		}
	}
}

// Restore puts every message of a backup folder back into the queue: its control file (qf,
// or hf for quarantined mail, which thus stays on hold with its reason; Qf stays lost), its df
// and any xf, with the mode they had and the queue directory's owner, so that Sendmail trusts
// them. It refuses a folder not made of this queue or writable by others, and each copy whose
// checksum differs from the manifest's or whose control file is not a complete one with the
// manifest's sender and recipients. The copies are streamed from the archive in one pass.
// intend (nil: none) is told each message's queue ID right before its control file appears;
// j (mqsql.RestoreJournal) before and after, and a message it says an earlier run put back,
// or was putting back, is left alone.
//
// A message keeps its queue ID when no file of that ID is in the queue. The ID is what the
// admin, the backup's record and Sendmail's log know the message by, and it cannot collide
// with new mail: Sendmail makes an ID of the time it is made (to the second) and its process
// ID, so it never makes an ID of the past again. When the ID is taken (the message was
// restored already, or never left), the message gets a new one made the same way from the
// current time and this process's ID, which no Sendmail process can have while mqsql runs.
func (s *Spool) Restore(dir string, intend func(mqsql.Intent), j mqsql.RestoreJournal) ([]mqsql.Restored, error) {
	var m Manifest
	if err := backupfolder.ReadManifest(dir, &m); err != nil {
		return nil, err
	}
	if err := backupfolder.CheckSpool(dir, m.Header, s.Dir(), "sendmail"); err != nil {
		return nil, err
	}
	out := make([]mqsql.Restored, len(m.Messages))
	pend := make([]pendingRestore, len(m.Messages))
	parts := map[string]partRef{}
	for i, msg := range m.Messages {
		out[i] = mqsql.Restored{RestoredID: mqsql.RestoredID{QueueID: msg.QueueID, Queue: msg.Queue}, Folder: dir}
		if err := s.checkEntry(msg); err != nil {
			out[i].Err = err
			continue
		}
		if backupfolder.SkipEarlier(j, msg.QueueID, &out[i]) {
			continue
		}
		out[i].Err = errors.New("the saved copy is missing from the backup")
		pend[i].s, pend[i].msg = s, msg
		parts[msg.ControlFile] = partRef{i, 0}
		if msg.DataFile != "" {
			parts[msg.DataFile] = partRef{i, letterData}
		}
		if msg.TranscriptFile != "" {
			parts[msg.TranscriptFile] = partRef{i, letterXscr}
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
		if err := p.receive(ref.letter, r, size); err != nil {
			p.failed, out[ref.i].Err = true, err
			p.discard()
			return
		}
		if p.complete() {
			out[ref.i].NewQueueID, out[ref.i].Path, out[ref.i].Err = p.publish(intend, j)
			out[ref.i].Held = out[ref.i].Err == nil && path.Base(out[ref.i].Path)[0] == letterHold
		}
	})
	return out, err
}

// partRef is what an archive entry is: the manifest's message i, and which of its files
// (0 for the control file).
type partRef struct {
	i      int
	letter byte
}

// checkEntry refuses a manifest entry that would name a file outside the queue or of
// another message: its control file must be one of the places Sendmail keeps its ID's, and
// its copies named after it.
func (s *Spool) checkEntry(msg BackedUpMessage) error {
	id := msg.QueueID
	letter, nameID, ok := parseName(path.Base(msg.OriginalPath))
	_, control := queueOfLetter(letter)
	switch {
	case !ValidQueueID(id) || !ok || !control || nameID != id || !s.isControlPath(id, msg.OriginalPath):
		return fmt.Errorf("backup entry %q: invalid queue ID or original path %q", id, msg.OriginalPath)
	case msg.ControlFile != id+"/"+path.Base(msg.OriginalPath):
		return fmt.Errorf("backup entry %q: invalid control file name %q", id, msg.ControlFile)
	case msg.DataFile != "" && msg.DataFile != id+"/df"+id, msg.TranscriptFile != "" && msg.TranscriptFile != id+"/xf"+id:
		return fmt.Errorf("backup entry %q: invalid data or transcript file name", id)
	case msg.DataFile != "" && msg.DataSHA256 == "", msg.TranscriptFile != "" && msg.TranscriptSHA256 == "":
		return fmt.Errorf("%w: backup entry %q keeps no checksum of its df or xf (made by an earlier mqsql): extract it with tar if you trust it", backupfolder.ErrRefused, id)
	}
	return nil
}

// pendingRestore is one message of a backup while its files arrive from the archive: the
// checked control file in memory, the df and xf already in hidden files in the queue.
type pendingRestore struct {
	s       *Spool
	msg     BackedUpMessage
	control []byte
	qf      qfile
	temps   map[byte]string // letter -> hidden file (relative to the queue) holding its copy
	failed  bool
}

// receive takes one of the message's files from the archive and checks it.
func (p *pendingRestore) receive(letter byte, r io.Reader, size int64) error {
	id := p.msg.QueueID
	if letter == 0 {
		if size > maxControlFile {
			return fmt.Errorf("%w: saved control file of %s is %d bytes, over the %d-byte limit", backupfolder.ErrRefused, id, size, maxControlFile)
		}
		data, err := io.ReadAll(io.LimitReader(r, size))
		if err != nil {
			return fmt.Errorf("read saved control file of %s: %w", id, err)
		}
		if backupfolder.SHA256(data) != p.msg.SHA256 {
			return fmt.Errorf("saved copy of %s does not match its checksum: not restored", id)
		}
		p.control = data
		return p.checkControl()
	}
	if size > maxSavedFile {
		return fmt.Errorf("%w: saved %cf of %s is %d bytes, over the %d-byte limit", backupfolder.ErrRefused, letter, id, size, int64(maxSavedFile))
	}
	want := p.msg.DataSHA256
	if letter == letterXscr {
		want = p.msg.TranscriptSHA256
	}
	dest := p.s.partRel(p.msg.OriginalPath, p.qfile(), letter, id)
	tmp, err := p.s.placer().WriteHidden(dest, r, want, p.msg.Mode)
	if err != nil {
		return fmt.Errorf("restore %cf of %s: %w", letter, id, err)
	}
	if p.temps == nil {
		p.temps = map[byte]string{}
	}
	p.temps[letter] = tmp
	return nil
}

// checkControl refuses a saved control file that is not one Sendmail wrote (a qf or hf must
// be complete; a Qf was set aside for its flaws) or whose sender and recipients are not the
// manifest's: a checksum says the bytes are the ones listed, not that they are mail.
func (p *pendingRestore) checkControl() error {
	id := p.msg.QueueID
	var m mqsql.Message
	problem, _ := parseQF(p.control, &p.qf, &m, nil)
	if path.Base(p.msg.OriginalPath)[0] != letterLost && (problem != nil || !p.qf.hasSender) {
		if problem == nil {
			problem = errors.New("no sender line")
		}
		return fmt.Errorf("%w: saved copy of %s is not a complete Sendmail control file: %v", backupfolder.ErrRefused, id, problem)
	}
	if got := senderOf(p.qf.sender); got != p.msg.Sender {
		return fmt.Errorf("%w: saved copy of %s has sender %q, the manifest says %q", backupfolder.ErrRefused, id, got, p.msg.Sender)
	}
	var rcpts []string
	for _, r := range m.Recipients {
		rcpts = append(rcpts, r.Address)
	}
	if !slices.Equal(rcpts, p.msg.Recipients) {
		return fmt.Errorf("%w: saved copy of %s has recipients %q, the manifest says %q", backupfolder.ErrRefused, id, rcpts, p.msg.Recipients)
	}
	return nil
}

// qfile is the saved control file as parsed, nil until it has arrived: where its df goes
// depends on its d line.
func (p *pendingRestore) qfile() *qfile {
	if p.control == nil {
		return nil
	}
	return &p.qf
}

// complete reports whether every file the manifest lists for the message has arrived.
func (p *pendingRestore) complete() bool {
	return p.control != nil && (p.msg.DataFile == "" || p.temps[letterData] != "") &&
		(p.msg.TranscriptFile == "" || p.temps[letterXscr] != "")
}

// discard removes the hidden files of a message that was not put back.
func (p *pendingRestore) discard() {
	for letter, tmp := range p.temps {
		_ = p.s.root.Unlink(tmp)
		delete(p.temps, letter)
	}
}

// publish gives the message its files' real names: df and xf first, the control file last
// (no control file, no job; a control file without its df would be a message without a
// body), each with RENAME_NOREPLACE so that nothing in the queue is ever replaced. It returns
// the queue ID the message has now and its control file's path.
func (p *pendingRestore) publish(intend func(mqsql.Intent), j mqsql.RestoreJournal) (string, string, error) {
	if err := j.Putting(p.msg.QueueID); err != nil {
		return "", "", err
	}
	s, ctrlName := p.s, path.Base(p.msg.OriginalPath)
	for attempt := 0; attempt < 100; attempt++ {
		id := p.msg.QueueID
		if attempt > 0 {
			id = newQueueID(time.Now(), os.Getpid(), attempt)
		}
		if !s.idFree(p.msg.OriginalPath, p.qfile(), id) {
			continue
		}
		placed, err := p.placeParts(id)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			return "", "", err
		}
		ctrl := s.partRel(p.msg.OriginalPath, nil, ctrlName[0], id)
		err = s.placer().WriteInPlace(ctrl, p.control, p.msg.Mode, func() {
			if intend != nil {
				intend(mqsql.Intent{QueueID: id})
			}
		})
		if err == nil {
			p.temps = nil
			j.Put(mqsql.RestoredID{QueueID: p.msg.QueueID, Queue: p.msg.Queue, NewQueueID: id, Path: ctrl})
			return id, ctrl, nil
		}
		p.unplace(placed)
		if !errors.Is(err, unix.EEXIST) {
			return "", "", err
		}
	}
	return "", "", fmt.Errorf("no free queue ID for %s in the queue", p.msg.QueueID)
}

// placeParts renames the hidden df and xf to their names for queue ID id; on failure it puts
// back what it renamed. It returns the names it gave, for unplace.
func (p *pendingRestore) placeParts(id string) (map[byte]string, error) {
	placed := map[byte]string{}
	for _, letter := range []byte{letterData, letterXscr} {
		tmp := p.temps[letter]
		if tmp == "" {
			continue
		}
		rel := p.s.partRel(p.msg.OriginalPath, p.qfile(), letter, id)
		if err := p.s.root.RenameNoReplace(tmp, rel); err != nil {
			p.unplace(placed)
			return nil, err
		}
		placed[letter] = rel
	}
	return placed, nil
}

// unplace gives the files placeParts renamed their hidden names again.
func (p *pendingRestore) unplace(placed map[byte]string) {
	for letter, rel := range placed {
		_ = p.s.root.RenameNoReplace(rel, p.temps[letter])
	}
}

// idFree reports whether no file of queue ID id is in the queue: no control file (qf, hf,
// Qf, tf, Tf) in any queue directory, and no df or xf where the message's would go.
func (s *Spool) idFree(ctrl string, f *qfile, id string) bool {
	var rels []string
	for _, pl := range s.Locations(id) {
		rels = append(rels, pl.Path)
	}
	for _, letter := range []byte{letterTemp, letterStale, letterData, letterXscr} {
		rels = append(rels, s.partRel(ctrl, f, letter, id))
	}
	for _, rel := range rels {
		if _, err := s.root.Lstat(rel); !errors.Is(err, os.ErrNotExist) {
			return false
		}
	}
	return true
}

// newQueueID makes a queue ID as Sendmail's assign_queueid does: the time in UTC and a
// sequence number in base 60, then the process ID.
func newQueueID(now time.Time, pid, seq int) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwx"
	t := now.UTC()
	seq %= 3600
	b := []byte{digits[t.Year()%60], digits[int(t.Month())-1], digits[t.Day()], digits[t.Hour()],
		digits[t.Minute()], digits[t.Second()], digits[seq/60], digits[seq%60]}
	return fmt.Sprintf("%s%06d", b, pid)
}

// placer writes restored files as Sendmail's own: owned by the queue directory's owner, mode
// 0600 unless the backup saved another.
func (s *Spool) placer() saferoot.Placer { return saferoot.Placer{Root: s.root, DefaultMode: 0o600} }
