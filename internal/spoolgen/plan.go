package spoolgen

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// planner decides messages. Message i depends only on the options and i, so that any number of
// workers produce the same population.
type planner struct {
	opt        *Options
	queues     []string
	queueCum   []float64
	now        int64
	rcptDomain int // size of the recipient domain pool
}

func newPlanner(opt *Options) *planner {
	p := &planner{opt: opt, now: opt.Now.Unix()}
	p.queues, p.queueCum = opt.queueShares()
	p.rcptDomain = max(len(bigDomains)+10, opt.Senders/2)
	return p
}

// maxQueueAge is Postfix's default maximal_queue_lifetime: nothing older stays queued.
const maxQueueAge = 5 * 24 * time.Hour

// plan decides message i: everything but the queue ID, which the file's inode decides.
func (p *planner) plan(i int) *Message {
	rng := rand.New(rand.NewPCG(p.opt.Seed, uint64(i)))
	m := &Message{Queue: p.pickQueue(rng), bodySeed: rng.Uint64()}
	m.LongID = rng.Float64() >= p.opt.ShortIDs
	p.times(rng, m)
	switch r := rng.Float64(); {
	case m.Queue == "maildrop":
		m.Kind = Postdrop
	case r < p.opt.Bounces:
		m.Kind = Bounce
	case r < p.opt.Bounces+p.opt.Local:
		m.Kind = Local
	}
	rank := p.senderRank(rng)
	p.envelope(rng, m, rank)
	p.recipients(rng, m, rank)
	p.content(rng, m, rank)
	p.finish(rng, m)
	return m
}

func (p *planner) pickQueue(rng *rand.Rand) string {
	r := rng.Float64()
	for i, c := range p.queueCum {
		if r < c {
			return p.queues[i]
		}
	}
	return p.queues[len(p.queues)-1]
}

// times sets the arrival time (mostly recent, a tail up to the five-day queue lifetime) and
// the ID time a few milliseconds later.
func (p *planner) times(rng *rand.Rand, m *Message) {
	age := time.Duration(rng.ExpFloat64() * float64(12*time.Hour))
	if age > maxQueueAge {
		age = time.Duration(rng.Int64N(int64(maxQueueAge)))
	}
	if m.Queue == "incoming" || m.Queue == "active" || m.Queue == "maildrop" {
		age = time.Duration(rng.Int64N(int64(10 * time.Minute)))
	}
	at := p.opt.Now.Add(-age - time.Second)
	m.ArrivalSec, m.ArrivalUsec = at.Unix(), int64(at.Nanosecond()/1000)
	id := at.Add(time.Duration(1+rng.IntN(50)) * time.Millisecond)
	m.IDSec, m.IDUsec = id.Unix(), int64(id.Nanosecond()/1000)
}

// senderRank draws a sender: rank 0 is the busiest.
func (p *planner) senderRank(rng *rand.Rand) int {
	if p.opt.Senders <= 1 {
		return 0
	}
	return int(rand.NewZipf(rng, 1.1, 1, uint64(p.opt.Senders-1)).Uint64())
}

// envelope sets the sender and how the message reached Postfix.
func (p *planner) envelope(rng *rand.Rand, m *Message, rank int) {
	m.SMTPUTF8 = m.Kind == SMTP && rng.IntN(100) == 0
	m.EightBit = m.SMTPUTF8 || rng.IntN(4) == 0
	switch m.Kind {
	case Bounce:
		return
	case Local, Postdrop:
		m.Sender = firstNames[rank%len(firstNames)] + "@" + senderDomain(rank/5)
		m.FullName = strings.ToUpper(m.Sender[:1]) + m.Sender[1:strings.IndexByte(m.Sender, '@')]
		return
	}
	m.Sender = senderAddress(rank)
	if m.SMTPUTF8 {
		m.Sender = utf8Locals[rank%len(utf8Locals)] + "@" + senderDomain(rank/5)
	}
	if rank == 0 || rng.IntN(10) == 0 {
		m.SASLUsername = m.Sender // submission with the account's password
	}
	a, b := rank%200+1, rng.IntN(250)+1
	if m.SASLUsername != "" && rank == 0 {
		b = rng.IntN(16) + 1 // a stolen password used from a botnet
	}
	m.ClientAddress = "10.51." + strconv.Itoa(a) + "." + strconv.Itoa(b)
	m.ClientName = "host-" + strconv.Itoa(a) + "-" + strconv.Itoa(b) + ".client.test"
	if rng.IntN(5) == 0 {
		m.ClientName = "unknown"
	}
	m.HeloName = strings.TrimPrefix(m.ClientName, "unknown")
	if m.HeloName == "" {
		m.HeloName = "[" + m.ClientAddress + "]"
	}
	m.ClientPort = 1024 + rng.IntN(64000)
	if rng.IntN(50) == 0 {
		m.EnvelopeID, m.RetFlags = "envid-"+strconv.Itoa(rng.IntN(1e6)), 1+rng.IntN(2)
	}
}

// recipients picks how many recipients and who: mostly one, a tail of dozens for spam, at
// Zipf-distributed domains.
func (p *planner) recipients(rng *rand.Rand, m *Message, rank int) {
	n := 1
	switch r := rng.IntN(100); {
	case m.Kind == Bounce || m.Kind == Postdrop:
		n = 1 + rng.IntN(2)
	case r < 60:
	case r < 85:
		n = 2 + rng.IntN(2)
	case r < 97:
		n = 4 + rng.IntN(7)
	default:
		n = 11 + rng.IntN(40)
	}
	zipf := rand.NewZipf(rng, 1.2, 1, uint64(p.rcptDomain-1))
	extracted := m.Kind == Local && rng.IntN(10) == 0 // sendmail -t
	partly := n > 1 && m.Queue != "maildrop" && rng.IntN(20) == 0
	notify := 0
	if m.EnvelopeID != "" {
		notify = []int{1, 14, 8, 6}[rng.IntN(4)]
	}
	seen := map[string]bool{}
	for j := range n {
		addr := localPart(rng, m.SMTPUTF8) + "@" + recipientDomain(int(zipf.Uint64()))
		if m.Kind == Bounce {
			addr = senderAddress(rng.IntN(p.opt.Senders))
		}
		if seen[strings.ToLower(addr)] {
			continue // cleanup drops duplicate recipients
		}
		seen[strings.ToLower(addr)] = true
		r := Recipient{Address: addr, Extracted: extracted, NotifyFlags: notify}
		if m.Kind != Postdrop {
			r.Orig = addr
			if m.Kind != Bounce {
				r.DSNOrig = "rfc822;" + addr
			}
		}
		r.Done = partly && j == 0
		m.Recipients = append(m.Recipients, r)
	}
	if len(m.Recipients) == 1 {
		m.Recipients[0].Done = false // Postfix removes a message once every recipient is done
	}
}

// content decides the headers' subject and sender and how many body lines make the size.
func (p *planner) content(rng *rand.Rand, m *Message, rank int) {
	utf8 := m.SMTPUTF8 || rng.IntN(30) == 0
	m.Subject = subjectFor(rng, rank == 0 || rank%11 == 4, utf8)
	if m.Kind == Bounce {
		m.Subject = "Undelivered Mail Returned to Sender"
	}
	if rng.IntN(200) == 0 {
		m.Subject = "" // no Subject header at all
	}
	m.subjectEncoded = utf8 && !m.SMTPUTF8
	m.mailer = mailers[rng.IntN(len(mailers))]
	if rng.IntN(3) > 0 {
		m.MessageID = "<" + strconv.Itoa(int(m.ArrivalSec)) + "." + strconv.Itoa(rng.IntN(1e9)) + "@" + domainOf(m.Sender, "client.test") + ">"
	}
	m.targetSize = p.size(rng)
	if rng.IntN(50) == 0 {
		m.LongLines = 1 + rng.IntN(3) // HTML without line breaks
	}
	m.attachment = m.targetSize > 8<<10
}

// size draws a file size: log-normal around MedianSize for ordinary mail, and for one
// message in 200 a heavier log-normal around 100 KB, documents and images that reach
// megabytes; never below 1 KB or above MaxSize.
func (p *planner) size(rng *rand.Rand) int {
	median, sigma := float64(p.opt.MedianSize), 1.0
	if rng.IntN(200) == 0 {
		median, sigma = 100<<10, 1.5
	}
	s := math.Exp(math.Log(median) + sigma*rng.NormFloat64())
	return int(min(max(s, 1<<10), float64(p.opt.MaxSize)))
}

// finish sets the file mode, mtime and defer-log entries that follow from the queue.
func (p *planner) finish(rng *rand.Rand, m *Message) {
	m.Mode = 0o700
	if m.Kind == Postdrop {
		m.Mode = 0o744
	} else if rng.IntN(500) == 0 {
		m.Mode = 0o710 // postsuper -e
	}
	m.MTime = m.IDSec
	deferred := false
	switch m.Queue {
	case "deferred":
		deferred = true
	case "hold":
		deferred = rng.IntN(10) < 7
	case "active":
		m.MTime = m.IDSec + int64(rng.IntN(60))
	}
	if m.Queue == "deferred" || m.Queue == "hold" {
		m.MTime = p.retryTime(rng)
	}
	if !deferred {
		return
	}
	attempt := min(p.now-1, m.ArrivalSec+int64(1+rng.IntN(3600)))
	m.LogMTime = attempt
	for j := range m.Recipients {
		r := &m.Recipients[j]
		if r.Done {
			continue
		}
		d := deferralFor(domainOf(r.Address, ""))
		r.Deferred = true
		r.DSNStatus, r.Reason, r.DiagType, r.DiagText, r.MTAName = d.status, d.reason, d.diagType, d.diagText, d.mta
	}
}

func (p *planner) retryTime(rng *rand.Rand) int64 {
	if !p.opt.RetryTime.IsZero() {
		return p.opt.RetryTime.Unix()
	}
	return p.now + 300 + int64(rng.IntN(4*3600))
}

// domainOf returns the domain of addr, or def when it has none.
func domainOf(addr, def string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(addr[i+1:])
	}
	return def
}
