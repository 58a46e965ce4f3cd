// Command genlog writes a Postfix mail log of -lines lines in the format postlogd writes
// (maillog_file), for measuring mqsql's history ingest beside pflogsumm: each message is an
// smtpd connection (connect, client= with a SASL login for a third, disconnect), cleanup's
// message-id, qmgr's from=, one to three delivery attempts (80 % sent, 15 % deferred then
// sent, 5 % bounced) and qmgr's removed. Deterministic for a given -seed.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"time"
)

func main() {
	lines := flag.Int("lines", 5_000_000, "lines to write")
	seed := flag.Int64("seed", 1, "random seed")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	g := &gen{w: w, rng: rand.New(rand.NewSource(*seed)), t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	for g.n < *lines {
		g.message(*lines)
	}
}

type gen struct {
	w   *bufio.Writer
	rng *rand.Rand
	t   time.Time
	n   int
	id  int
}

func (g *gen) line(prog, format string, args ...any) {
	g.n++
	fmt.Fprintf(g.w, "%s mx1 postfix/%s[%d]: ", g.t.Format(time.Stamp), prog, 1000+g.rng.Intn(9000))
	fmt.Fprintf(g.w, format, args...)
	g.w.WriteByte('\n')
}

func (g *gen) message(max int) {
	g.t = g.t.Add(time.Duration(g.rng.Intn(200)) * time.Millisecond)
	g.id++
	id := fmt.Sprintf("4jk%07dz%04X", g.id, g.id%65536)
	client := fmt.Sprintf("198.51.%d.%d", g.rng.Intn(256), g.rng.Intn(256))
	sender := fmt.Sprintf("user%d@example.com", g.rng.Intn(5000))
	rcpt := fmt.Sprintf("rcpt%d@dest%d.example", g.rng.Intn(100000), g.rng.Intn(300))
	g.line("smtpd", "connect from unknown[%s]", client)
	if g.rng.Intn(3) == 0 {
		g.line("smtpd", "%s: client=unknown[%s], sasl_method=PLAIN, sasl_username=user%d", id, client, g.rng.Intn(500))
	} else {
		g.line("smtpd", "%s: client=unknown[%s]", id, client)
	}
	g.line("cleanup", "%s: message-id=<%s@example.com>", id, id)
	g.line("qmgr", "%s: from=<%s>, size=%d, nrcpt=1 (queue active)", id, sender, 500+g.rng.Intn(50000))
	g.line("smtpd", "disconnect from unknown[%s] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5", client)
	relay := fmt.Sprintf("mx.dest.example[192.0.2.%d]:25", g.rng.Intn(256))
	switch r := g.rng.Intn(100); {
	case r < 5:
		g.line("smtp", "%s: to=<%s>, relay=%s, delay=0.4, delays=0.1/0/0.1/0.2, dsn=5.1.1, status=bounced (host said: 550 5.1.1 <%s>: Recipient address rejected: User unknown (in reply to RCPT TO command))", id, rcpt, relay, rcpt)
	case r < 20:
		g.line("smtp", "%s: to=<%s>, relay=%s, delay=1.2, delays=0.1/0/1/0.1, dsn=4.7.1, status=deferred (host said: 450 4.7.1 <%s>: Recipient address rejected: greylisted (in reply to RCPT TO command))", id, rcpt, relay, rcpt)
		fallthrough
	default:
		g.line("smtp", "%s: to=<%s>, relay=%s, delay=0.9, delays=0.1/0/0.3/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4F%d)", id, rcpt, relay, g.id)
	}
	g.line("qmgr", "%s: removed", id)
}
