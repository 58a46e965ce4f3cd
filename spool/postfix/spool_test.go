package postfix_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/spool/postfix"
)

func openSpool(t *testing.T, dir string) *postfix.Spool {
	t.Helper()
	sp := testspool.Open(t, dir)
	sp.Warn = func(err error) { t.Logf("warning: %v", err) }
	return sp
}

// readAll walks a spool and reads every message.
func readAll(t *testing.T, sp *postfix.Spool) []*mqsql.Message {
	t.Helper()
	var msgs []*mqsql.Message
	err := sp.Walk(context.Background(), func(e postfix.Entry) error {
		m, err := sp.Read(e)
		if err != nil {
			t.Errorf("read %s: %v", e.File.Path, err)
			return nil
		}
		msgs = append(msgs, m)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

type wantRcpt struct {
	addr   string
	status mqsql.RecipientStatus
	offset int64
	reason string // prefix of the delay reason; "" = no defer-log entry
}

const refused = "delivery temporarily suspended: connect to 127.0.0.1[127.0.0.1]:2526: Connection refused"

func TestReadSamples(t *testing.T) {
	tests := []struct {
		sample  string
		queue   mqsql.Queue
		id      string
		arrival int64
		size    int64
		sender  string
		subject string
		from    string
		client  string
		ident   string // log_ident: smtpd writes the queue ID; local submissions have none
		helo    string
		rcpts   []wantRcpt
	}{
		{sample: "m3", queue: mqsql.Deferred, id: "4jc7PP1W6fzdXSJ", arrival: 1795865417, size: 350, sender: "brief3r@x.test",
			subject: "three recipients test", from: "Brief <brief3r@x.test>",
			rcpts: []wantRcpt{{"root@localhost", mqsql.Done, 238, ""}, {"r2@remote.test", mqsql.Pending, 307, refused}, {"r3@remote.test", mqsql.Pending, 376, refused}}},
		{sample: "m3-held", queue: mqsql.Hold, id: "4jc7PP1W6fzdXSJ", arrival: 1795865417, size: 350, sender: "brief3r@x.test",
			subject: "three recipients test", from: "Brief <brief3r@x.test>",
			rcpts: []wantRcpt{{"root@localhost", mqsql.Done, 238, ""}, {"r2@remote.test", mqsql.Pending, 307, refused}, {"r3@remote.test", mqsql.Pending, 376, refused}}},
		{sample: "null", queue: mqsql.Deferred, id: "4jc7Pl6TNDzdZKr", arrival: 1795865435, size: 343, sender: "",
			subject: "null sender", from: "MAILER-DAEMON@x.test", client: "127.0.0.1", ident: "4jc7Pl6TNDzdZKr", helo: "briefclient.test",
			rcpts: []wantRcpt{{"nullsender@remote.test", mqsql.Pending, 644, refused}}},
		{sample: "utf8", queue: mqsql.Deferred, id: "4jc7Pl4JPWzdZKp", arrival: 1795865435, size: 474, sender: "brief-ütf8@x.test",
			subject: "Grüße SMTPUTF8", from: "Brief <brief-ütf8@x.test>", client: "127.0.0.1", ident: "4jc7Pl4JPWzdZKp", helo: "briefclient.test",
			rcpts: []wantRcpt{{"rcpt-ü@remote.test", mqsql.Pending, 671, refused}, {"плохой@remote.test", mqsql.Pending, 765, refused}}},
		{sample: "quoted", queue: mqsql.Deferred, id: "4jc7X10sgpzdZKs", arrival: 1795865761, size: 328, sender: "brief sp@x.test",
			subject: "quoted", from: `"brief sp"@x.test`, client: "127.0.0.1", ident: "4jc7X10sgpzdZKs", helo: "briefclient.test",
			rcpts: []wantRcpt{{"quoted rcpt@remote.test", mqsql.Pending, 663, refused}}},
		{sample: "brief-t", queue: mqsql.Deferred, id: "4jc7Q04hWyzdZKs", arrival: 1795865448, size: 326, sender: "brief-t@x.test",
			subject: "sendmail -t test", from: "brief-t@x.test",
			rcpts: []wantRcpt{{"t1@remote.test", mqsql.Pending, 568, refused}, {"root@localhost", mqsql.Done, 637, ""}, {"t2@remote.test", mqsql.Pending, 706, refused}, {"t3@remote.test", mqsql.Pending, 775, refused}}},
		{sample: "brief-long", queue: mqsql.Deferred, id: "4jc7Q05hx6zdZKt", arrival: 1795865448, size: 10570, sender: "brief-long@x.test",
			subject: "long header and lines", from: "brief-long@x.test",
			rcpts: []wantRcpt{{"long@remote.test", mqsql.Pending, 245, refused}}},
		{sample: "long-requeued", queue: mqsql.Maildrop, id: "4jc7Q05hx6zdZKt", arrival: 1795865448, size: 10570, sender: "brief-long@x.test",
			subject: "long header and lines", from: "brief-long@x.test",
			rcpts: []wantRcpt{{"long@remote.test", mqsql.Pending, 245, refused}}},
		{sample: "milter", queue: mqsql.Deferred, id: "4jc7WC0jyrzdlqj", arrival: 1795865719, size: 258, sender: "brief-milter2@x.test",
			subject: "changed by milter", from: "brief-milter2@x.test", client: "127.0.0.1", ident: "4jc7WC0jyrzdlqj", helo: "milter.test",
			rcpts: []wantRcpt{{"keep@remote.test", mqsql.Pending, 642, refused}, {"del@remote.test", mqsql.Removed, 715, ""}, {"added@remote.test", mqsql.Pending, 1104, refused}}},
		{sample: "dsn", queue: mqsql.Deferred, id: "4jc7Pl5MHQzdZKq", arrival: 1795865435, size: 322, sender: "brief-dsn@x.test",
			subject: "dsn test", from: "brief-dsn@x.test", client: "127.0.0.1", ident: "4jc7Pl5MHQzdZKq", helo: "briefclient.test",
			rcpts: []wantRcpt{{"dsn1@remote.test", mqsql.Pending, 712, refused}, {"dsn2@remote.test", mqsql.Pending, 803, refused}}},
	}
	for _, tt := range tests {
		t.Run(tt.sample, func(t *testing.T) {
			msgs := readAll(t, openSpool(t, testspool.Copy(t, testspool.Dir(t, filepath.Join("samples", tt.sample)))))
			if len(msgs) != 1 {
				t.Fatalf("got %d messages, want 1", len(msgs))
			}
			m := msgs[0]
			if m.Error != "" {
				t.Errorf("Error = %q, want none", m.Error)
			}
			if m.Queue != tt.queue || m.QueueID != tt.id {
				t.Errorf("queue/id = %s/%s, want %s/%s", m.Queue, m.QueueID, tt.queue, tt.id)
			}
			if m.ArrivalTime != tt.arrival || m.Size != tt.size || m.Sender != tt.sender {
				t.Errorf("arrival/size/sender = %d/%d/%q, want %d/%d/%q", m.ArrivalTime, m.Size, m.Sender, tt.arrival, tt.size, tt.sender)
			}
			if m.Subject != tt.subject || m.FromHeader != tt.from {
				t.Errorf("subject/from = %q/%q, want %q/%q", m.Subject, m.FromHeader, tt.subject, tt.from)
			}
			if m.ClientAddress != tt.client || m.HeloName != tt.helo {
				t.Errorf("client/helo = %q/%q, want %q/%q", m.ClientAddress, m.HeloName, tt.client, tt.helo)
			}
			if m.LogIdent != tt.ident {
				t.Errorf("LogIdent = %q, want %q", m.LogIdent, tt.ident)
			}
			if m.ForcedExpire {
				t.Errorf("ForcedExpire = true for mode %o", m.File.Mode)
			}
			checkRecipients(t, m.Recipients, tt.rcpts)
		})
	}
}

func checkRecipients(t *testing.T, got []mqsql.Recipient, want []wantRcpt) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d recipients %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Address != w.addr || g.Status != w.status || g.Offset != w.offset {
			t.Errorf("recipient %d = %q %s @%d, want %q %s @%d", i, g.Address, g.Status, g.Offset, w.addr, w.status, w.offset)
		}
		if g.Deferred != (w.reason != "") || !strings.HasPrefix(g.DelayReason, w.reason) {
			t.Errorf("recipient %d reason = %q (deferred %v), want %q", i, g.DelayReason, g.Deferred, w.reason)
		}
		if g.Deferred && g.DSNStatus != "4.4.1" {
			t.Errorf("recipient %d dsn status = %q, want 4.4.1", i, g.DSNStatus)
		}
	}
}
