package postfixtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"mime"
	"strconv"
	"strings"
	"testing"
)

// Manifest summarizes what Population injected, so tests can check a reader's totals
// against what was sent as well as against postqueue -j.
type Manifest struct {
	// Messages is the number of messages Postfix accepted (every injection path).
	Messages int
	// Senders counts accepted messages per envelope sender as sent ("" = null sender).
	Senders map[string]int
	// Recipients is the number of envelope recipients sent, including the local one that
	// gets delivered.
	Recipients int
	// SMTP, SMTPSource, Sendmail count messages per injection path.
	SMTP, SMTPSource, Sendmail int
	// MultiRecipient counts messages sent with more than one recipient.
	MultiRecipient int
	// Held counts messages put on hold with postsuper -h (HeldIDs lists them).
	Held    int
	HeldIDs []string
	// NullSender counts messages with MAIL FROM:<>.
	NullSender int
	// SMTPUTF8 counts messages sent with the SMTPUTF8 parameter.
	SMTPUTF8 int
	// Authenticated counts messages sent after SASL AUTH (AuthUser or spammer@mqsql.test).
	Authenticated int
	// AuthUser is the SASL user of the hijacked-account traffic.
	AuthUser string
	// PartlyDelivered counts messages with a local recipient (delivered) and remote ones.
	PartlyDelivered int
	// IDs maps notable cases to their queue IDs: "null", "partial", "large", "long-header",
	// "rfc2047-b", "rfc2047-q", "rfc2047-latin1", "utf8", "quoted", "dsn", "auth-plain",
	// "auth-login", "held", "sendmail-t", "sendmail".
	IDs map[string]string
}

// Sender addresses of Population's notable messages; each is used by exactly one message
// so its queue ID can be found in postqueue -j output.
const (
	popSenderPartial   = "partial@sender.test"
	popSenderLarge     = "large@sender.test"
	popSenderLong      = "long-header@sender.test"
	popSenderUTF8      = "ütf8-sender@sender.test"
	popSenderQuoted    = `"brief sp"@x.test`
	popSenderDSN       = "dsn@sender.test"
	popSenderSendmailT = "sendmail-t@sender.test"
	popSenderSendmail  = "local-submit@sender.test"
	popSenderHeld      = "held@sender.test"
)

var remoteDomains = []string{"remote.test", "example.net", "example.org", "mail.remote.test", "customers.example.com"}

// Population fills the queue with a varied, realistic mix of about n messages and waits
// for Postfix to settle: bulk senders with a Zipf-like share (several smtp-source runs
// plus the Go client over one reused connection), multi-recipient mail, held messages,
// the null sender, sendmail -t with To/Cc/Bcc, SMTPUTF8 addresses, a partly delivered
// message (root@localhost delivered, remote recipients pending), a ~5 MB message, long
// and folded header lines, RFC 2047 subjects, quoted local parts, DSN parameters and
// SASL-authenticated spam from hijacked@mqsql.test. It is deterministic apart from queue
// IDs and times. Call Reset first if the counts must describe the whole queue. Any
// failure fails t.
func (p *Postfix) Population(ctx context.Context, t testing.TB, n int) Manifest {
	t.Helper()
	m := Manifest{Senders: map[string]int{}, IDs: map[string]string{}, AuthUser: SASLUsers[1]}
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	count := func(from string, rcpts int) {
		m.Messages++
		m.Senders[from]++
		m.Recipients += rcpts
		if rcpts > 1 {
			m.MultiRecipient++
		}
		if from == "" {
			m.NullSender++
		}
	}

	// --- notable messages over one plain connection -----------------------------------
	c, err := p.Dial(ctx, "notable.client.test")
	if err != nil {
		t.Fatalf("Population: %v", err)
	}
	send := func(name string, msg *Message) string {
		t.Helper()
		id, err := c.Send(ctx, msg)
		if err != nil {
			t.Fatalf("Population: send %s: %v", name, err)
		}
		if err := c.Reset(ctx); err != nil {
			t.Fatalf("Population: %v", err)
		}
		if name != "" {
			m.IDs[name] = id
		}
		count(msg.From, len(msg.To))
		m.SMTP++
		if msg.SMTPUTF8 {
			m.SMTPUTF8++
		}
		return id
	}
	nullCount := max(1, n/100)
	for i := range nullCount {
		name := ""
		if i == 0 {
			name = "null"
		}
		send(name, &Message{
			From: "",
			To:   []string{fmt.Sprintf("bounce-target%d@%s", i, remoteDomains[i%len(remoteDomains)])},
			Header: []HeaderField{
				{"From", "MAILER-DAEMON@mqsql.test (Mail Delivery System)"},
				{"Subject", "Undelivered Mail Returned to Sender"},
				{"Message-ID", fmt.Sprintf("<null-%d@mqsql.test>", i)},
			},
			Body: []byte("This is the mail system at host mqsql.test.\n\nI'm sorry to have to inform you...\n"),
		})
	}
	send("partial", &Message{
		From:   popSenderPartial,
		To:     []string{"root@localhost", "pending1@remote.test", "pending2@example.net"},
		Header: std(popSenderPartial, "partly delivered: one local, two remote", "partial"),
		Body:   []byte("root@localhost gets this now; the others wait.\n"),
	})
	send("large", &Message{
		From:     popSenderLarge,
		To:       []string{"big@remote.test"},
		Header:   std(popSenderLarge, "a 5 MB message", "large"),
		BodySize: 5 << 20,
	})
	var refs []string
	for i := range 60 {
		refs = append(refs, fmt.Sprintf("<ref-%03d-%s@thread.example.net>", i, strings.Repeat("x", 20)))
	}
	send("long-header", &Message{
		From: popSenderLong,
		To:   []string{"long@remote.test", "long2@example.org"},
		Header: append(std(popSenderLong, "long header lines", "long-header"),
			HeaderField{"X-Long-Header", strings.Repeat("h", 5000)},
			HeaderField{"References", strings.Join(refs, "\n\t")},
			HeaderField{"X-Folded", "first part of a folded header\n second part\n\tthird part"},
		),
		Body: []byte("short line\n" + strings.Repeat("b", 3000) + "\n.leading dot line\n"),
	})
	for i, s := range []struct{ name, subject string }{
		{"rfc2047-b", mime.BEncoding.Encode("UTF-8", "Привет, мир: счёт №42")},
		{"rfc2047-q", mime.QEncoding.Encode("UTF-8", "Café crème, prix réduit ✓")},
		{"rfc2047-latin1", "=?ISO-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?="},
	} {
		from := fmt.Sprintf("rfc2047-%d@sender.test", i)
		send(s.name, &Message{
			From:   from,
			To:     []string{fmt.Sprintf("enc%d@%s", i, remoteDomains[i%len(remoteDomains)])},
			Header: std(from, s.subject, s.name),
			Body:   []byte("encoded subject\n"),
		})
	}
	send("utf8", &Message{
		From:       popSenderUTF8,
		To:         []string{"плохой@remote.test", "δοκιμή@example.net", "ascii@remote.test"},
		SMTPUTF8:   true,
		MailParams: []string{"BODY=8BITMIME"},
		Header:     std(popSenderUTF8, "Grüße aus Köln ✓ — "+mime.BEncoding.Encode("UTF-8", "日本語の件名"), "utf8"),
		Body:       []byte("Unicode body: Ελληνικά, русский, 日本語.\n"),
	})
	send("quoted", &Message{
		From:   popSenderQuoted,
		To:     []string{`"quoted rcpt"@remote.test`, `"a..b"@example.net`},
		Header: std(popSenderQuoted, "quoted local parts", "quoted"),
		Body:   []byte("quoted\n"),
	})
	send("dsn", &Message{
		From:       popSenderDSN,
		To:         []string{"dsn-rcpt@remote.test"},
		MailParams: []string{"RET=HDRS", "ENVID=mqsql-envid-1"},
		RcptParams: []string{"NOTIFY=SUCCESS,DELAY,FAILURE", "ORCPT=rfc822;original@remote.test"},
		Header:     std(popSenderDSN, "DSN parameters", "dsn"),
		Body:       []byte("dsn\n"),
	})
	heldID := send("held", &Message{
		From:   popSenderHeld,
		To:     []string{"held1@remote.test", "held2@example.org"},
		Header: std(popSenderHeld, "this one goes on hold", "held"),
		Body:   []byte("held\n"),
	})
	m.HeldIDs = append(m.HeldIDs, heldID)

	// --- sendmail: local submission through maildrop and pickup --------------------
	sendmailT := "From: Local Sender <sendmail-t@sender.test>\n" +
		"To: t1@remote.test, Second <t2@example.net>\n" +
		"Cc: c1@example.org\n" +
		"Bcc: b1@remote.test\n" +
		"Subject: sendmail -t with To, Cc and Bcc\n\nbody of -t\n"
	if _, err := p.Sendmail(ctx, []string{"-t", "-f", popSenderSendmailT}, []byte(sendmailT)); err != nil {
		t.Fatalf("Population: %v", err)
	}
	count(popSenderSendmailT, 4)
	m.Sendmail++
	plain := "Subject: local submission\n\nsubmitted with sendmail -f\n"
	if _, err := p.Sendmail(ctx, []string{"-f", popSenderSendmail, "lr1@remote.test", "lr2@example.net"}, []byte(plain)); err != nil {
		t.Fatalf("Population: %v", err)
	}
	count(popSenderSendmail, 2)
	m.Sendmail++

	// --- SASL-authenticated spam from a hijacked account ------------------------------
	authCount := max(3, n/20)
	ac, err := p.Dial(ctx, "hijacked-pc.customer.test")
	if err != nil {
		t.Fatalf("Population: %v", err)
	}
	if err := ac.Auth(ctx, m.AuthUser, SASLPassword); err != nil {
		t.Fatalf("Population: %v", err)
	}
	spamFrom := []string{m.AuthUser, m.AuthUser, m.AuthUser, "security@bank.example.org", "no-reply@parcel.example.net"}
	for i := range authCount {
		from := spamFrom[i%len(spamFrom)]
		nr := 1 + rng.IntN(8)
		var to []string
		for j := range nr {
			to = append(to, fmt.Sprintf("victim%d-%d@%s", i, j, remoteDomains[(i+j)%len(remoteDomains)]))
		}
		id, err := ac.Send(ctx, &Message{
			From:   from,
			To:     to,
			Header: std(from, "You have won a prize", fmt.Sprintf("spam-%d", i)),
			Body:   []byte("Click here.\n"),
		})
		if err != nil {
			t.Fatalf("Population: authenticated message %d: %v", i, err)
		}
		if err := ac.Reset(ctx); err != nil {
			t.Fatalf("Population: %v", err)
		}
		if i == 0 {
			m.IDs["auth-plain"] = id
		}
		if i == 1 {
			m.HeldIDs = append(m.HeldIDs, id)
		}
		count(from, nr)
		m.SMTP++
		m.Authenticated++
	}
	if err := ac.Quit(ctx); err != nil {
		t.Fatalf("Population: %v", err)
	}
	lc, err := p.Dial(ctx, "spammer.client.test")
	if err != nil {
		t.Fatalf("Population: %v", err)
	}
	if err := lc.AuthLogin(ctx, SASLUsers[0], SASLPassword); err != nil {
		t.Fatalf("Population: %v", err)
	}
	id, err := lc.Send(ctx, &Message{
		From:   SASLUsers[0],
		To:     []string{"login-victim@remote.test"},
		Header: std(SASLUsers[0], "sent after AUTH LOGIN", "auth-login"),
		Body:   []byte("auth login\n"),
	})
	if err != nil {
		t.Fatalf("Population: AUTH LOGIN message: %v", err)
	}
	m.IDs["auth-login"] = id
	count(SASLUsers[0], 1)
	m.SMTP++
	m.Authenticated++
	if err := lc.Quit(ctx); err != nil {
		t.Fatalf("Population: %v", err)
	}

	// --- bulk: Zipf-like senders through the Go client and smtp-source ----------------
	bulk := max(n-m.Messages, 0)
	viaSource := bulk * 55 / 100
	viaClient := bulk - viaSource

	clientSenders := make([]string, 30)
	for i := range clientSenders {
		clientSenders[i] = fmt.Sprintf("user%02d@%s", i+1, []string{"shop.example.com", "sender.test", "lists.example.org"}[i%3])
	}
	weights := zipf(len(clientSenders))
	extraHeld := max(0, n/50-len(m.HeldIDs))
	for i := range viaClient {
		from := clientSenders[pick(rng, weights)]
		nr := 1
		switch r := rng.IntN(10); {
		case r >= 9:
			nr = 6 + rng.IntN(25)
		case r >= 6:
			nr = 2 + rng.IntN(4)
		}
		var to []string
		for j := range nr {
			to = append(to, fmt.Sprintf("rcpt%d.%d@%s", i, j, remoteDomains[rng.IntN(len(remoteDomains))]))
		}
		subject := fmt.Sprintf("Bulk message %d", i)
		if i%7 == 3 {
			subject = mime.QEncoding.Encode("UTF-8", fmt.Sprintf("Angebot Nr. %d für Sie – jetzt zugreifen", i))
		}
		id := send("", &Message{
			From:     from,
			To:       to,
			Header:   std(from, subject, fmt.Sprintf("bulk-%d", i)),
			BodySize: 200 + rng.IntN(20000),
		})
		if i < extraHeld {
			m.HeldIDs = append(m.HeldIDs, id)
		}
	}
	if err := c.Quit(ctx); err != nil {
		t.Fatalf("Population: %v", err)
	}

	sourceSenders := []string{
		"newsletter@news.example.com", "alerts@monitor.example.net", "billing@shop.example.com",
		"noreply@social.example.org", "promo@deals.example.net", "digest@lists.example.org",
		"admin@intranet.sender.test", "robot@ci.example.com",
	}
	sw := zipf(len(sourceSenders))
	alloc := allocate(viaSource, sw)
	for i, cnt := range alloc {
		if cnt == 0 {
			continue
		}
		rcpts := 1 + i%3
		args := []string{
			"-s", strconv.Itoa(min(4, cnt)), "-m", strconv.Itoa(cnt), "-r", strconv.Itoa(rcpts), "-N",
			"-f", sourceSenders[i], "-t", "subscriber@" + remoteDomains[i%len(remoteDomains)],
			"-M", fmt.Sprintf("bulk%d.source.test", i), "-S", "smtp-source bulk " + strconv.Itoa(i),
			"-l", strconv.Itoa(500 + 700*i),
		}
		if _, err := p.SMTPSource(ctx, args...); err != nil {
			t.Fatalf("Population: %v", err)
		}
		for range cnt {
			count(sourceSenders[i], rcpts)
		}
		m.SMTPSource += cnt
	}

	if err := p.Settle(ctx); err != nil {
		t.Fatalf("Population: %v", err)
	}

	// Messages are held only once they have been tried and deferred, like an admin would.
	args := []string{}
	for _, id := range m.HeldIDs {
		args = append(args, "-h", id)
	}
	if out, err := p.Postsuper(ctx, args...); err != nil {
		t.Fatalf("Population: hold: %v", err)
	} else if want := fmt.Sprintf("Placed on hold: %d message", len(m.HeldIDs)); !strings.Contains(string(out), want) {
		t.Fatalf("Population: postsuper %v: want %q, got %q", args, want, out)
	}
	m.Held = len(m.HeldIDs)

	// Queue IDs of the messages submitted with sendmail, found by their unique sender.
	entries, err := p.PostqueueJSON(ctx)
	if err != nil {
		t.Fatalf("Population: %v", err)
	}
	for _, e := range entries {
		switch {
		case e.Sender == popSenderSendmailT:
			m.IDs["sendmail-t"] = e.QueueID
		case e.Sender == popSenderSendmail:
			m.IDs["sendmail"] = e.QueueID
		case e.QueueID == m.IDs["partial"]:
			// root@localhost must really have been delivered, leaving the 2 remote ones.
			if len(e.Recipients) != 2 {
				t.Fatalf("Population: partly delivered message %s lists %d recipients, want the 2 remote ones",
					e.QueueID, len(e.Recipients))
			}
			m.PartlyDelivered++
		}
	}
	if m.PartlyDelivered != 1 {
		t.Fatalf("Population: partly delivered message %s not found in postqueue -j", m.IDs["partial"])
	}
	for _, k := range []string{"sendmail-t", "sendmail"} {
		if m.IDs[k] == "" {
			t.Fatalf("Population: %s message not found in postqueue -j", k)
		}
	}
	t.Logf("postfixtest: population of %d messages (%d SMTP, %d smtp-source, %d sendmail, %d held)",
		m.Messages, m.SMTP, m.SMTPSource, m.Sendmail, m.Held)
	return m
}

// std returns the usual From/To-less header set of a test message.
func std(from, subject, tag string) []HeaderField {
	if from == "" {
		from = "MAILER-DAEMON@mqsql.test"
	}
	return []HeaderField{
		{"From", from},
		{"Subject", subject},
		{"Message-ID", "<" + tag + "@mqsql.test>"},
		{"Date", "Sat, 28 Nov 2026 12:00:00 +0000"},
		{"X-Mqsql-Test", tag},
	}
}

// zipf returns weights 1/k for k = 1..n, the skew of real sender populations.
func zipf(n int) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 1 / float64(i+1)
	}
	return w
}

// pick draws an index with probability proportional to its weight.
func pick(rng *rand.Rand, w []float64) int {
	var sum float64
	for _, x := range w {
		sum += x
	}
	r := rng.Float64() * sum
	for i, x := range w {
		if r < x {
			return i
		}
		r -= x
	}
	return len(w) - 1
}

// allocate splits total into integer shares proportional to w (largest shares first get
// the remainder), so the totals add up exactly.
func allocate(total int, w []float64) []int {
	var sum float64
	for _, x := range w {
		sum += x
	}
	out := make([]int, len(w))
	given := 0
	for i, x := range w {
		out[i] = int(float64(total) * x / sum)
		given += out[i]
	}
	for i := 0; given < total; i = (i + 1) % len(out) {
		out[i]++
		given++
	}
	return out
}
