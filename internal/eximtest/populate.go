package eximtest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// sessionSize is how many messages one SMTP session over -bs submits: one exim process
// queues them all, which keeps a population of thousands within seconds.
const sessionSize = 50

// Populate queues n varied messages into the spool through Exim's own paths: SMTP sessions
// over -bs as from a remote client (with and without AUTH, DSN options, ACL variables whose
// values hold newlines, null and UTF-8 senders with SMTPUTF8, RFC 2047 subjects, long folded
// headers, bodies up to 300 KB, quoted local parts, several recipients, local ones among
// them) and local -t submissions with Bcc. Then it tries a tenth of them once (remote
// recipients defer against the closed port, local ones are delivered: partly delivered mail),
// freezes a twentieth, moves a fiftieth to the named queue slowq, and adds bounces that Exim
// freezes itself. It returns the IDs queued.
func (e *Exim) Populate(t testing.TB, n int) []string {
	t.Helper()
	bulk := n - n/20
	for s := 0; s*sessionSize < bulk; s++ {
		e.MustRun(t, session(s, min(sessionSize, bulk-s*sessionSize)), "-odq", "-bs",
			"-oMa", fmt.Sprintf("192.0.2.%d.%d", s%250+1, 1024+s), "-oMs", fmt.Sprintf("client%d.example", s))
	}
	for i := bulk; i < n; i++ {
		e.MustRun(t, dashT(i), "-odq", "-t", "-f", fmt.Sprintf("local%d@mqsql.test", i))
	}
	ids := e.IDs(t)
	var tried, frozen, moved []string
	for i, id := range ids {
		switch {
		case i%10 == 3:
			tried = append(tried, id)
		case i%20 == 7:
			frozen = append(frozen, id)
		case i%50 == 11:
			moved = append(moved, id)
		}
	}
	e.inBatches(t, tried, "-M")
	e.inBatches(t, frozen, "-Mf")
	e.inBatches(t, moved, "-MG", "slowq")
	e.FrozenByExim(t, max(n/400, 1))
	return e.IDs(t)
}

// FrozenByExim queues k bounces (null sender) to an address that fails for good and tries
// them: Exim freezes a bounce it cannot deliver ("*** Frozen (delivery error message)" in
// the msglog and the main log). It returns their IDs.
func (e *Exim) FrozenByExim(t testing.TB, k int) []string {
	t.Helper()
	before := map[string]bool{}
	for _, id := range e.IDs(t) {
		before[id] = true
	}
	for i := 0; i < k; i++ {
		e.MustRun(t, []byte("Subject: undeliverable bounce\n\nbody\n"), "-odq", "-f", "<>", fmt.Sprintf("nobody%d@fail.test", i))
	}
	var fresh []string
	for _, id := range e.IDs(t) {
		if !before[id] {
			fresh = append(fresh, id)
		}
	}
	e.inBatches(t, fresh, "-M")
	return fresh
}

// inBatches runs exim with args and up to 200 IDs at a time. Exim's exit status is not
// checked: -M exits non-zero when a delivery defers.
func (e *Exim) inBatches(t testing.TB, ids []string, args ...string) {
	for len(ids) > 0 {
		k := min(len(ids), 200)
		e.Run(nil, append(append([]string{}, args...), ids[:k]...)...)
		ids = ids[k:]
	}
}

// IDs lists the message IDs of the spool's -H files in every input directory, read straight
// from the directories.
func (e *Exim) IDs(t testing.TB) []string {
	t.Helper()
	var ids []string
	filepath.WalkDir(e.Spool, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, "-H") && strings.Contains(p, "/input/") {
			ids = append(ids, strings.TrimSuffix(d.Name(), "-H"))
		}
		return nil
	})
	sort.Strings(ids)
	return ids
}

// session is the client side of SMTP session s with k messages.
func session(s, k int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "EHLO client%d.example\r\n", s)
	authed := s%2 == 0
	if authed {
		fmt.Fprintf(&b, "AUTH PLAIN %s\r\n", base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("\x00user%d\x00secret", s))))
	}
	for j := 0; j < k; j++ {
		writeTransaction(&b, s*sessionSize+j, authed)
	}
	b.WriteString("QUIT\r\n")
	return b.Bytes()
}

// writeTransaction writes one MAIL, its RCPTs and DATA; i picks the variations.
func writeTransaction(b *bytes.Buffer, i int, authed bool) {
	sender := fmt.Sprintf("user%d@client.example", i)
	params := ""
	switch {
	case i%13 == 0:
		sender = ""
	case i%17 == 0:
		sender, params = fmt.Sprintf("jürgen%d@client.example", i), " SMTPUTF8"
	}
	if i%3 == 0 {
		params += fmt.Sprintf(" RET=HDRS ENVID=env-%d", i)
	}
	if authed && sender != "" && !strings.Contains(params, "SMTPUTF8") {
		params += " AUTH=<" + sender + ">"
	}
	fmt.Fprintf(b, "MAIL FROM:<%s>%s\r\n", sender, params)
	rcpts := recipients(i)
	for k, r := range rcpts {
		p := ""
		if i%5 == 0 && k == 0 {
			p = " NOTIFY=SUCCESS,DELAY ORCPT=rfc822;orig-" + strings.ReplaceAll(r, "\"", "")
		}
		fmt.Fprintf(b, "RCPT TO:<%s>%s\r\n", r, p)
	}
	b.WriteString("DATA\r\n")
	for _, line := range strings.Split(message(i, sender, rcpts), "\n") {
		if strings.HasPrefix(line, ".") {
			line = "." + line
		}
		b.WriteString(line + "\r\n")
	}
	b.WriteString(".\r\n")
}

// recipients are message i's envelope recipients.
func recipients(i int) []string {
	out := []string{fmt.Sprintf("r%d@remote.test", i)}
	for k := 1; k < 1+i%4; k++ {
		out = append(out, fmt.Sprintf("r%d-%d@Other%d.TEST", i, k, k))
	}
	if i%11 == 0 {
		out = append(out, fmt.Sprintf(`"quoted sp%d"@remote.test`, i))
	}
	if i%7 == 0 {
		out = append(out, fmt.Sprintf("l%d@local.test", i))
	}
	if i%9 == 0 {
		out = append(out, fmt.Sprintf("p%d@pipe.test", i))
	}
	return out
}

// message is message i's header and body (LF line ends, not yet dot-stuffed).
func message(i int, sender string, rcpts []string) string {
	var b strings.Builder
	from := sender
	if from == "" {
		from = "MAILER-DAEMON@client.example"
	}
	fmt.Fprintf(&b, "From: Sender %d <%s>\nTo: %s\n", i, from, strings.Join(rcpts, ", "))
	if i%6 == 0 {
		fmt.Fprintf(&b, "Subject: =?UTF-8?B?%s?=\n", base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("Grüße Nr. %d", i))))
	} else {
		fmt.Fprintf(&b, "Subject: message %d\n", i)
	}
	if i%8 != 0 {
		fmt.Fprintf(&b, "Message-ID: <m%d@client.example>\n", i)
	}
	if i%19 == 0 {
		b.WriteString("X-Long: start")
		for k := 0; k < 60; k++ {
			fmt.Fprintf(&b, "\n\tcontinued line %d of a long folded header", k)
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	lines := 3
	if i%23 == 0 {
		lines = 5000
	}
	for k := 0; k < lines; k++ {
		fmt.Fprintf(&b, "body line %d of message %d, padded to sixty bytes or so.....\n", k, i)
	}
	b.WriteString(".leading dot line\nlast line")
	return b.String()
}

// dashT is a local submission read with -t, with a Bcc: that Exim keeps as a deleted header.
func dashT(i int) []byte {
	return []byte(fmt.Sprintf("From: local%d@mqsql.test\nTo: t%d@remote.test\nBcc: hidden%d@remote.test\nSubject: -t %d\n\nbody\n", i, i, i, i))
}
