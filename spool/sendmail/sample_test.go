package sendmail_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/sendmailtest"
	"github.com/mqsql/mqsql/spool/sendmail"
)

const samples = "../../testdata/sendmail"

// readAll opens dir and reads every message a walk lists, by queue ID.
func readAll(t *testing.T, dir string) map[string]*mqsql.Message {
	t.Helper()
	sp, err := sendmail.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	sp.Warn = func(err error) { t.Errorf("warning: %v", err) }
	out := map[string]*mqsql.Message{}
	err = sp.Walk(context.Background(), func(e mqsql.Entry) error {
		m, err := sp.Read(e)
		if err != nil {
			t.Errorf("read %s: %v", e.File.Path, err)
			return nil
		}
		if out[m.QueueID] != nil {
			t.Errorf("%s listed twice", m.QueueID)
		}
		out[m.QueueID] = m
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// listing parses one of the sample listings.
func listing(t *testing.T, name string, verbose bool) map[string]sendmailtest.Listed {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samples, name))
	if err != nil {
		t.Fatal(err)
	}
	msgs, total, err := sendmailtest.ParseMailq(string(b), verbose)
	if err != nil {
		t.Fatal(err)
	}
	if total != len(msgs) {
		t.Fatalf("%s: header counts %d requests, %d listed", name, total, len(msgs))
	}
	out := map[string]sendmailtest.Listed{}
	for _, m := range msgs {
		out[m.ID] = m
	}
	return out
}

// TestSamplesAgreeWithMailq checks every sample message against what mailq -bp -v (qf),
// -bp -qQ (hf) and -bp -qL (Qf) listed for it: ID, size, time, sender, recipients and the
// delay reasons; and that nothing else is read.
func TestSamplesAgreeWithMailq(t *testing.T) {
	got := readAll(t, filepath.Join(samples, "mqueue"))
	want := map[string]sendmailtest.Listed{}
	for _, l := range []struct {
		file    string
		verbose bool
	}{{"mailq-v.txt", true}, {"mailq-qQ.txt", false}, {"mailq-qL.txt", false}} {
		for id, m := range listing(t, l.file, l.verbose) {
			want[id] = m
		}
	}
	if len(got) != len(want) || len(want) != 12 {
		t.Errorf("read %d messages, mailq lists %d (want 12)", len(got), len(want))
	}
	for id, l := range want {
		m := got[id]
		if m == nil {
			t.Errorf("%s: listed by mailq, not read", id)
			continue
		}
		if diff := sendmailtest.Compare(l, sendmailtest.Read{
			ID: m.QueueID, Size: m.Size, Arrival: m.ArrivalTime, Sender: m.Sender,
			Recipients: recipients(m), Reasons: reasons(m),
		}, true); diff != "" {
			t.Errorf("%s: %s", id, diff)
		}
	}
}

func recipients(m *mqsql.Message) []string {
	var out []string
	for _, r := range m.Recipients {
		out = append(out, r.Address)
	}
	return out
}

func reasons(m *mqsql.Message) []string {
	var out []string
	for _, r := range m.Recipients {
		out = append(out, r.DelayReason)
	}
	return out
}

// TestSampleColumns checks, sample by sample, the columns mailq does not show, as
// sendmail-queue.md §8 maps them.
func TestSampleColumns(t *testing.T) {
	got := readAll(t, filepath.Join(samples, "mqueue"))
	tests := []struct {
		name, id                       string
		queue                          mqsql.Queue
		subject, from, messageID, helo string
		errPart, quarantine            string
		// the first recipient's orig_address, delay reason, DSN status and diagnostic
		orig, reason, dsn, diag string
	}{
		{name: "01-plain", id: "6B1Jtw3U007621", queue: mqsql.Incoming, subject: "plain test",
			from: "Alice <alice@sender.example>", messageID: "<plain-1@sender.example>"},
		{name: "02-multi", id: "6B1Jtwth007632", queue: mqsql.Incoming, subject: "three recipients",
			from: "Alice <alice@sender.example>", messageID: "<multi-1@sender.example>"},
		{name: "03-smtp", id: "6B1JtwXL007643", queue: mqsql.Incoming, subject: "via SMTP",
			from: "Carol <carol@remote.example>", messageID: "<smtp-1@remote.example>", helo: "client.example",
			orig: "Dave.Orig@dest.example"},
		{name: "04-null-sender", id: "6B1Ju3XN007873", queue: mqsql.Incoming,
			subject: "Returned mail: see transcript for details",
			from:    "Mail Delivery Subsystem <MAILER-DAEMON@smtest.example>", messageID: "<null-1@smtest.example>"},
		{name: "05-rfc2047", id: "6B1Ju3MW007884", queue: mqsql.Incoming, subject: "Grüße aus München – € 100",
			from: "Jörg Müller <joerg@sender.example>", messageID: "<rfc2047-1@sender.example>"},
		{name: "06-large", id: "6B1Ju3lg007895", queue: mqsql.Incoming, subject: "large",
			from: "alice@sender.example", messageID: "<large-1@sender.example>"},
		{name: "07-quarantined", id: "6B1Ju3vJ007906", queue: mqsql.Hold, subject: "to be held",
			from: "alice@sender.example", messageID: "<hold-1@sender.example>", quarantine: "held by mqsql sample"},
		{name: "08-deferred", id: "6B1Ju3Si007919", queue: mqsql.Deferred, subject: "will defer",
			from: "alice@sender.example", messageID: "<defer-1@sender.example>",
			reason: "Deferred: Connection refused by [127.0.0.1]"},
		{name: "09-bounce", id: "6B1Ju6fD007982", queue: mqsql.Deferred, subject: "Returned mail: see transcript for details",
			from: "Mail Delivery Subsystem <MAILER-DAEMON>", messageID: "<202612011956.6B1Ju6fD007982@smtest.example>",
			helo: "localhost", reason: "Deferred: Connection refused by [127.0.0.1]"},
		{name: "10-lost", id: "6B1KaaaA999999", queue: mqsql.Corrupt, subject: "corrupt",
			errPart: `lost: Sendmail set this control file aside as Qf and will not deliver it: line 8: unknown line type 'X' ("Xbogus line")`},
		{name: "11-remote-tempfail", id: "6B1Ju6Ju007997", queue: mqsql.Deferred, subject: "remote tempfail",
			from: "alice@sender.example", messageID: "<xf-1@sender.example>",
			reason: "Deferred: 452 4.2.2 <temp@dest.example>: mailbox full, try later", dsn: "4.2.2",
			diag: "452 4.2.2 <temp@dest.example>: mailbox full, try later"},
		{name: "12-per-rcpt-replies", id: "6B1Ju6in008058", queue: mqsql.Deferred, subject: "per-recipient replies",
			from: "alice@sender.example", messageID: "<replies-1@sender.example>",
			reason: "Deferred: 452 4.2.2 <temp@dest.example>: mailbox full, try later", dsn: "4.2.2",
			diag: "452 4.2.2 <temp@dest.example>: mailbox full, try later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := got[tt.id]
			if m == nil {
				t.Fatalf("%s not read", tt.id)
			}
			check := func(what, got, want string) {
				if got != want {
					t.Errorf("%s = %q, want %q", what, got, want)
				}
			}
			check("queue", string(m.Queue), string(tt.queue))
			check("subject", m.Subject, tt.subject)
			check("from", m.FromHeader, tt.from)
			check("message_id", m.MessageID, tt.messageID)
			check("helo_name", m.HeloName, tt.helo)
			check("error", m.Error, tt.errPart)
			check("quarantine reason", m.HoldReason, tt.quarantine)
			check("client_address", m.ClientAddress, "")
			check("sasl_username", m.SASLUsername, "")
			if m.NextAttempt != 0 || m.ForcedExpire {
				t.Errorf("next_attempt %d, forced_expire %v: Sendmail has neither", m.NextAttempt, m.ForcedExpire)
			}
			r := m.Recipients[0]
			check("orig_address", r.OrigAddress, tt.orig)
			check("delay_reason", r.DelayReason, tt.reason)
			check("dsn_status", r.DSNStatus, tt.dsn)
			check("diag_text", r.DiagText, tt.diag)
			if r.Status != mqsql.Pending || r.Deferred != (tt.reason != "") {
				t.Errorf("status %s, deferred %v", r.Status, r.Deferred)
			}
			if !strings.HasSuffix(m.File.Path, "f"+tt.id) || m.File.Inode == 0 || m.File.Size == 0 {
				t.Errorf("file %+v", m.File)
			}
		})
	}
}
