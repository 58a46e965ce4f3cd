package mqsql

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
	"time"

	"github.com/mqsql/mqsql/internal/safefile"
)

// AuditName is the audit log's file name, beside the backup folders.
const AuditName = "audit.log"

// AuditRecord is one executed write statement: who ran what, what it planned, and how each
// part ended. One JSON object per line, appended, so the log reads like a journal.
type AuditRecord struct {
	// ID names the record, so that a program's report of a write can point at it: the
	// time in UTC and a random part, e.g. "20261201T214500Z-3f9a1c2b".
	ID          string                    `json:"id"`
	Time        time.Time                 `json:"time"`
	User        string                    `json:"user"`
	SQL         string                    `json:"sql"`
	Spool       string                    `json:"spool"`
	Backend     string                    `json:"backend"`
	Plan        map[string]map[string]int `json:"plan"`     // op -> queue -> messages
	Outcomes    map[string]int            `json:"outcomes"` // done / skipped / failed -> messages
	Backup      string                    `json:"backup,omitempty"`
	Interrupted bool                      `json:"interrupted,omitempty"`
	Error       string                    `json:"error,omitempty"`
	// Restored lists, for a restore, each message put back and its new queue ID.
	Restored []RestoredID `json:"restored,omitempty"`
}

// NewAuditID returns a new audit record ID for a record made at t.
func NewAuditID(t time.Time) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// AppendAudit appends rec to the audit log in base (created 0600), filling in the user and,
// when it has none, the ID. The log is opened relative to base, checked as NewBackup checks
// it, and never through a link: root appending to whatever an audit.log link points at would
// let anyone who can plant one grow any file.
func AppendAudit(base string, rec AuditRecord) error {
	dir, err := safefile.MkdirPrivate(base)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	defer dir.Close()
	if rec.ID == "" {
		rec.ID = NewAuditID(rec.Time)
	}
	if rec.User == "" {
		rec.User = CurrentUser()
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	f, err := dir.OpenFile(AuditName, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("audit log: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("audit log: %w", err)
	}
	return f.Close()
}

// RestoredID is one line of restore's record: which message came back under which ID.
type RestoredID struct {
	QueueID    string `json:"queue_id"`
	Queue      string `json:"queue"`
	NewQueueID string `json:"new_queue_id,omitempty"`
	Maildrop   string `json:"maildrop_name,omitempty"`
	// Path is the control file a restore put the message back into, relative to the queue
	// directory, for MTAs that take restored files in place (Sendmail); "" for Postfix,
	// whose pickup copies the file from maildrop (Maildrop).
	Path  string `json:"path,omitempty"`
	Held  bool   `json:"held_again,omitempty"`
	Error string `json:"error,omitempty"`
}

// CurrentUser names who ran a statement, for manifests and the audit log.
func CurrentUser() string {
	uid := strconv.Itoa(syscall.Getuid())
	if u, err := user.LookupId(uid); err == nil {
		return u.Username + " (uid " + uid + ")"
	}
	return "uid " + uid
}

// DefaultBackupBase is where DELETE keeps its backup folders and the audit log, and where
// restore looks for the audit log, unless --backup names another base.
const DefaultBackupBase = "/var/lib/mqsql/quarantine"
