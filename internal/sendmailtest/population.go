package sendmailtest

import (
	"context"
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Population says what Populate made.
type Population struct {
	Submitted int           // messages accepted by sendmail
	Took      time.Duration // submission and queue runs
}

// The sender tokens Populate's queue runs select mail by (sendmail -qS is a case-insensitive
// substring match on the sender).
const (
	tokenHold    = "q-hold"
	tokenRefused = "q-refused"
	tokenPeer    = "q-peer"
	tokenExpire  = "q-expire"
)

// HoldReason is the quarantine reason Populate gives held mail.
const HoldReason = "held by mqsql test"

// Populate fills the queue with about n varied messages, as the oracle asks: plain
// mail, many recipients, the null sender, RFC 2047 headers, large bodies, DSN options,
// quarantined mail (hf), mail deferred by a refused connection, mail with per-recipient 452
// and 550 replies from the scripted peer, Sendmail's own bounces (MAILER-DAEMON) after an
// expiry, and one lost control file (Qf).
func (s *Sendmail) Populate(ctx context.Context, n int) (Population, error) {
	start := time.Now()
	mails := make([]Mail, n)
	for i := range mails {
		mails[i] = mailFor(i)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	submitted := 0
	const sessions = 2
	for k := range sessions {
		wg.Go(func() {
			var part []Mail
			for i := k; i < len(mails); i += sessions {
				part = append(part, mails[i])
			}
			ids, err := s.SubmitSMTP(ctx, fmt.Sprintf("client%d.example", k), part)
			mu.Lock()
			defer mu.Unlock()
			submitted += len(ids)
			if err != nil && firstErr == nil {
				firstErr = err
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return Population{}, firstErr
	}
	local, err := s.submitLocal(ctx)
	if err != nil {
		return Population{}, err
	}
	if err := s.runQueues(ctx); err != nil {
		return Population{}, err
	}
	if err := s.Lose(ctx, "6B2AaaaA999999"); err != nil {
		return Population{}, err
	}
	return Population{Submitted: submitted + local + 1, Took: time.Since(start)}, nil
}

// mailFor is the i-th message of a population.
func mailFor(i int) Mail {
	m := Mail{From: fmt.Sprintf("user%d@sender%d.example", i%37, i%5), To: []string{fmt.Sprintf("rcpt%d@dest%d.example", i, i%13)}}
	subject := fmt.Sprintf("message %d", i)
	from := m.From
	body := fmt.Sprintf("Hello %d.\n", i)
	switch {
	case i%10 == 1:
		m.From = fmt.Sprintf("%s-%d@sender.example", tokenRefused, i%20)
		m.To = append(m.To, fmt.Sprintf("other%d@dest.example", i))
	case i%25 == 2:
		m.From = fmt.Sprintf("%s-%d@sender.example", tokenHold, i%7)
	case i%40 == 3:
		m.From = fmt.Sprintf("%s-%d@sender.example", tokenPeer, i%9)
		m.To = []string{fmt.Sprintf("ok%d@dest.example", i), fmt.Sprintf("temp%d@dest.example", i), fmt.Sprintf("perm%d@dest.example", i)}
	case i%100 == 4:
		m.From = fmt.Sprintf("%s-%d@sender.example", tokenExpire, i%3)
	case i%11 == 0:
		m.From = ""
		from = "MAILER-DAEMON@dest.example"
	}
	switch {
	case i%50 == 0:
		for k := range 30 {
			m.To = append(m.To, fmt.Sprintf("many%d-%d@list%d.example", i, k, k%4))
		}
	case i%7 == 0:
		subject = fmt.Sprintf("=?UTF-8?B?R3LDvMOfZSBhdXMgTcO8bmNoZW4g4oCTIOKCrCAxMDA=?= %d", i)
		from = "=?UTF-8?Q?J=C3=B6rg_M=C3=BCller?= <" + m.From + ">"
		body = "Gr\u00fc\u00dfe \u20ac\n"
	case i%97 == 5:
		body = strings.Repeat(fmt.Sprintf("%063d\n", i), 4096) // 256 KiB
	case i%13 == 6:
		m.FromParams, m.ToParams = "RET=HDRS ENVID=env-"+fmt.Sprint(i), "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Orig"+fmt.Sprint(i)+"@dest.example"
	}
	m.Text = fmt.Sprintf("From: %s\nTo: %s\nSubject: %s\nMessage-ID: <pop-%d@sender.example>\n\n%s", from, m.To[0], subject, i, body)
	return m
}

// submitLocal queues a few messages from the command line, with the options only it has.
func (s *Sendmail) submitLocal(ctx context.Context) (int, error) {
	cases := []struct {
		from  string
		extra []string
	}{
		{"alice@sender.example", nil},
		{"<>", nil},
		{"bob@sender.example", []string{"-N", "success,failure", "-R", "hdrs", "-V", "envid-local"}},
		{"joerg@sender.example", []string{"-B8BITMIME"}},
	}
	for i, c := range cases {
		msg := fmt.Sprintf("From: %s\nSubject: local %d\n\nLocal body %d.\n", c.from, i, i)
		if err := s.Submit(ctx, c.from, []string{"local-rcpt@dest.example", "second@dest.example"}, []byte(msg), c.extra...); err != nil {
			return i, err
		}
	}
	return len(cases), nil
}

// runQueues makes the queue's states: quarantine, a refused connection, the peer's
// per-recipient replies, and an expiry that makes Sendmail bounce mail as MAILER-DAEMON.
func (s *Sendmail) runQueues(ctx context.Context) error {
	if _, err := s.RunQueue(ctx, "-Q"+HoldReason, "-qS"+tokenHold); err != nil {
		return err
	}
	if _, err := s.RunQueue(ctx, "-qS"+tokenRefused); err != nil {
		return err
	}
	if err := s.withPeer(func() error {
		_, err := s.RunQueue(ctx, "-qS"+tokenPeer)
		return err
	}); err != nil {
		return err
	}
	time.Sleep(1100 * time.Millisecond) // older than the 1 s return timeout below
	_, err := s.RunQueue(ctx, "-OTimeout.queuereturn=1s", "-qS"+tokenExpire)
	return err
}

// withPeer runs fn while a scripted peer listens on the relay port.
func (s *Sendmail) withPeer(fn func() error) error {
	p, err := listenPeer()
	if err != nil {
		return err
	}
	defer p.Close()
	return fn()
}

// Lose writes a control file with a line Sendmail does not know, and has a queue run set it
// aside as Qf<id>.
func (s *Sendmail) Lose(ctx context.Context, id string) error {
	qf := fmt.Sprintf("V8\nT%d\nK0\nN0\nP30000\nSlost@sender.example\nRPFD:bob@dest.example\nXbogus line\nH??Subject: corrupt\n.\n", time.Now().Unix())
	qdir, ddir := s.Queue, s.Queue
	if st, err := os.Stat(filepath.Join(s.Queue, "qf")); err == nil && st.IsDir() {
		qdir, ddir = filepath.Join(s.Queue, "qf"), filepath.Join(s.Queue, "df")
	}
	if err := os.WriteFile(filepath.Join(ddir, "df"+id), []byte("body\n"), 0o640); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(qdir, "qf"+id), []byte(qf), 0o640); err != nil {
		return err
	}
	if _, err := s.RunQueue(ctx, "-qI"+id); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(qdir, "Qf"+id)); err != nil {
		return fmt.Errorf("sendmail did not set qf%s aside: %w", id, err)
	}
	return nil
}

// ExpectedSubject is the decoded Subject Populate gave the message with Message-ID id, and
// false for mail Populate did not write (its bounces, local submissions).
func ExpectedSubject(id string) (string, bool) {
	var i int
	if _, err := fmt.Sscanf(id, "<pop-%d@sender.example>", &i); err != nil {
		return "", false
	}
	for _, line := range strings.Split(mailFor(i).Text, "\n") {
		if v, ok := strings.CutPrefix(line, "Subject: "); ok {
			d, err := new(mime.WordDecoder).DecodeHeader(v)
			return d, err == nil
		}
	}
	return "", false
}
