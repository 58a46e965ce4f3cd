package spool

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// AuditName is the audit log's file name, beside the backup folders.
const AuditName = "audit.log"

// AuditRecord is one executed write statement: who ran what, what it planned, and how each
// part ended. One JSON object per line, appended, so the log reads like a journal.
type AuditRecord struct {
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

// AppendAudit appends rec to the audit log in base (created 0600), filling in the user.
func AppendAudit(base string, rec AuditRecord) error {
	if err := os.MkdirAll(base, 0o700); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	if rec.User == "" {
		rec.User = currentUser()
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(base, AuditName), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
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
