package write

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/mqsql/mqsql"
)

// JSONReport is a write as programs read it (--format json or jsonl): the whole plan, what
// happened to each message, the backup folder and the audit record. One object per statement.
type JSONReport struct {
	SQL     string `json:"sql"`
	Backend string `json:"backend"`
	DryRun  bool   `json:"dry_run"`
	// Executed is true when the plan was carried out (confirmed, or --yes).
	Executed bool `json:"executed"`
	// All is true when the plan covers every message the statement could act on (Eligible).
	All       bool          `json:"all"`
	Eligible  int           `json:"eligible"`
	Plan      []JSONGroup   `json:"plan"`
	LeftAlone []JSONOutcome `json:"left_alone"`
	// Outcomes, Counts, Backup and AuditID are set once the plan was carried out.
	Outcomes []JSONOutcome  `json:"outcomes,omitempty"`
	Counts   map[string]int `json:"counts,omitempty"`
	Backup   string         `json:"backup,omitempty"`
	AuditID  string         `json:"audit_id,omitempty"`
	Error    string         `json:"error,omitempty"`
}

// JSONGroup is one operation on the messages of one queue, as one command runs it.
type JSONGroup struct {
	Op       mqsql.Op      `json:"op"`
	Queue    mqsql.Queue   `json:"queue"`
	Command  string        `json:"command"`
	Count    int           `json:"count"`
	Messages []JSONMessage `json:"messages"`
}

// JSONMessage is one planned message.
type JSONMessage struct {
	QueueID     string      `json:"queue_id"`
	Queue       mqsql.Queue `json:"queue"`
	Sender      string      `json:"sender"`
	ArrivalTime int64       `json:"arrival_time"`
	Subject     string      `json:"subject"`
	Recipients  []string    `json:"recipients"`
}

// JSONOutcome is what happened, or will not happen, to one message.
type JSONOutcome struct {
	QueueID string       `json:"queue_id"`
	Queue   mqsql.Queue  `json:"queue"`
	Op      mqsql.Op     `json:"op"`
	Result  mqsql.Result `json:"result"`
	Detail  string       `json:"detail"`
}

// JSON builds the report of plan p and, when it was carried out, of rep; err is how the
// write ended, if not well.
func (w *Writer) JSON(p *Plan, rep *Report, dryRun bool, err error) JSONReport {
	r := JSONReport{SQL: p.SQL, Backend: w.Backend, DryRun: dryRun, All: p.All, Eligible: p.Eligible,
		Plan: []JSONGroup{}, LeftAlone: jsonOutcomes(p.skipped())}
	for _, g := range p.Groups {
		jg := JSONGroup{Op: g.Op, Queue: g.Queue, Command: w.Executor.Command(g.Op, g.Queue), Count: len(g.Targets), Messages: []JSONMessage{}}
		for _, t := range g.Targets {
			rcpts := p.Recipients[t.Path]
			if rcpts == nil {
				rcpts = []string{}
			}
			jg.Messages = append(jg.Messages, JSONMessage{QueueID: t.QueueID, Queue: t.Queue, Sender: t.Sender,
				ArrivalTime: t.ArrivalTime, Subject: t.Subject, Recipients: rcpts})
		}
		r.Plan = append(r.Plan, jg)
	}
	if rep != nil {
		r.Executed = rep.Counts != nil
		r.Outcomes, r.Counts, r.Backup, r.AuditID = jsonOutcomes(rep.Outcomes), rep.Counts, rep.Backup, rep.AuditID
	}
	if err != nil {
		r.Error = err.Error()
	}
	return r
}

func jsonOutcomes(outs []mqsql.Outcome) []JSONOutcome {
	list := []JSONOutcome{}
	for _, o := range outs {
		list = append(list, JSONOutcome{QueueID: o.QueueID, Queue: o.Queue, Op: o.Op, Result: o.Result, Detail: o.Detail})
	}
	return list
}

// WriteJSON writes r as one JSON object: indented for json, on one line for jsonl. Every
// character outside printable ASCII is written as a \u escape, so that mail's control and
// bidi characters reach no terminal raw and a JSON reader still gets them back exactly.
func WriteJSON(out io.Writer, r JSONReport, oneLine bool) error {
	var b []byte
	var err error
	if oneLine {
		b, err = json.Marshal(r)
	} else {
		b, err = json.MarshalIndent(r, "", "  ")
	}
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	_, err = io.WriteString(out, asciiJSON(b)+"\n")
	return err
}

// asciiJSON escapes every byte of encoded JSON outside printable ASCII; encoding/json leaves
// such bytes only inside strings, where \u escapes mean the same.
func asciiJSON(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		switch {
		case r == '\n' || r >= 0x20 && r < 0x7f:
			sb.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(&sb, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			fmt.Fprintf(&sb, `\u%04x`, r)
		}
	}
	return sb.String()
}
