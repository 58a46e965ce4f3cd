package spoolgen

import (
	"math/rand/v2"
	"mime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// myHostname is the generated Postfix's myhostname, named in Received headers and in the
// Message-Id headers cleanup adds.
const myHostname = "mx.mqsql.test"

// Encode returns the queue file of m, whose QueueID must be set, exactly as Postfix 3.7's
// cleanup would have written it (or postdrop, for Kind Postdrop). It fills in what follows from
// the bytes: Headers, the recipients' offsets, ContentSize, DataOffset and FileSize.
func Encode(m *Message) []byte {
	f := &fileBuf{b: make([]byte, 0, max(2048, m.targetSize+2048))}
	m.BodyLines = 0
	if m.Kind != Postdrop {
		f.rec(recSize, sizePayload([6]int64{})) // rewritten below, as cleanup does at the end
	}
	f.rec(recTime, strconv.FormatInt(m.ArrivalSec, 10)+" "+strconv.FormatInt(m.ArrivalUsec, 10))
	encodeEnvelope(f, m)
	for i := range m.Recipients {
		if !m.Recipients[i].Extracted {
			encodeRecipient(f, m, &m.Recipients[i])
		}
	}
	f.rec(recMesg, "")
	m.DataOffset = f.off()
	m.Headers = headers(m)
	for _, h := range m.Headers {
		f.line(h)
	}
	f.line("")
	writeBody(f, m)
	x := f.rec(recXtra, "")
	m.ContentSize = x - m.DataOffset
	if m.EightBit && m.Kind == SMTP {
		f.attr("encoding", "8bit")
	}
	for i := range m.Recipients {
		if m.Recipients[i].Extracted {
			encodeRecipient(f, m, &m.Recipients[i])
		}
	}
	f.rec(recEnd, "")
	if m.Kind != Postdrop {
		rewriteSize(f, m)
	} else {
		m.ContentSize = 0
	}
	m.FileSize = f.off()
	return f.b
}

// encodeEnvelope writes the records between T and the first recipient, in the order cleanup
// writes them for each way mail arrives.
func encodeEnvelope(f *fileBuf, m *Message) {
	if m.Kind == Postdrop {
		f.attr("rewrite_context", "local")
		f.rec(recFullName, m.FullName)
		f.rec(recFrom, m.Sender)
		return
	}
	f.attr("create_time", strconv.FormatInt(m.ArrivalSec, 10))
	if m.Kind == SMTP {
		f.attr("log_ident", m.QueueID)
	}
	f.attr("rewrite_context", map[bool]string{true: "remote", false: "local"}[m.Kind == SMTP])
	switch m.Kind {
	case Local:
		f.rec(recFullName, m.FullName)
		f.rec(recFrom, m.Sender)
		return
	case Bounce:
		f.rec(recFrom, "")
		return
	}
	if m.SASLUsername != "" {
		f.attr("sasl_method", "PLAIN")
		f.attr("sasl_username", m.SASLUsername)
	}
	if m.EnvelopeID != "" {
		f.attr("envelope_id", m.EnvelopeID)
		f.attr("ret_flags", strconv.Itoa(m.RetFlags))
	}
	f.rec(recFrom, m.Sender)
	if m.EightBit {
		f.attr("encoding", "8bit")
	}
	clientAttributes(f, m)
}

// clientAttributes writes what smtpd tells cleanup about the SMTP client, logging copies
// first.
func clientAttributes(f *fileBuf, m *Message) {
	port := strconv.Itoa(m.ClientPort)
	origin := m.ClientName + "[" + m.ClientAddress + "]"
	proto := protocol(m)
	for _, a := range [...][2]string{
		{"log_client_name", m.ClientName}, {"log_client_address", m.ClientAddress},
		{"log_client_port", port}, {"log_message_origin", origin}, {"log_helo_name", m.HeloName},
		{"log_protocol_name", proto}, {"client_name", m.ClientName}, {"reverse_client_name", m.ClientName},
		{"client_address", m.ClientAddress}, {"client_port", port}, {"server_address", "192.0.2.25"},
		{"server_port", "25"}, {"helo_name", m.HeloName}, {"protocol_name", proto}, {"client_address_type", "2"},
	} {
		f.attr(a[0], a[1])
	}
}

// protocol is what smtpd names the session: ESMTP, with A after AUTH, UTF8SMTP for SMTPUTF8.
func protocol(m *Message) string {
	p := "ESMTP"
	if m.SMTPUTF8 {
		p = "UTF8SMTP"
	}
	if m.SASLUsername != "" {
		p += "A"
	}
	return p
}

// encodeRecipient writes one recipient group: notify_flags, dsn_orig_rcpt, O, then R (or D for
// a delivered one), remembering the R record's offset for the defer log.
func encodeRecipient(f *fileBuf, m *Message, r *Recipient) {
	if r.NotifyFlags != 0 {
		f.attr("notify_flags", strconv.Itoa(r.NotifyFlags))
	}
	if r.DSNOrig != "" {
		f.attr("dsn_orig_rcpt", r.DSNOrig)
	}
	if r.Orig != "" {
		f.rec(recOrigRcpt, r.Orig)
	}
	typ := byte(recRcpt)
	if r.Done {
		typ = recDone
	}
	r.Offset = f.rec(typ, r.Address)
}

// rewriteSize fills the C record now that the segments' positions are known: content size,
// data offset, recipient count, qmgr flags (the DSN NOTIFY bits), content size again, and the
// SMTPUTF8 flags.
func rewriteSize(f *fileBuf, m *Message) {
	notify := 0
	for _, r := range m.Recipients {
		notify |= r.NotifyFlags
	}
	utf8Flags := 0
	if m.SMTPUTF8 {
		utf8Flags = 1
		for _, h := range m.Headers {
			if !ascii(h) {
				utf8Flags |= 2
				break
			}
		}
		if !ascii(m.Sender) {
			utf8Flags |= 4
		}
	}
	payload := sizePayload([6]int64{m.ContentSize, m.DataOffset, int64(len(m.Recipients)), int64(notify << 1), m.ContentSize, int64(utf8Flags)})
	copy(f.b[2:], payload)
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// headers renders the primary header block, folded lines as separate entries, and fills in
// the Message-Id cleanup adds to local mail and bounces.
func headers(m *Message) []string {
	date := rfc2822(m.ArrivalSec)
	var h []string
	switch m.Kind {
	case SMTP:
		with := "with " + protocol(m) + " id " + m.QueueID
		h = append(h, "Received: from "+m.HeloName+" ("+m.ClientName+" ["+m.ClientAddress+"])",
			"\tby "+myHostname+" (Postfix) "+with)
		if len(m.Recipients) == 1 {
			h = append(h, "\tfor <"+quoteLocal(m.Recipients[0].Address)+">; "+date)
		} else {
			h[1] += ";"
			h = append(h, "\t"+date)
		}
	case Local:
		h = append(h, "Received: by "+myHostname+" (Postfix, from userid 1000)", "\tid "+m.QueueID+"; "+date)
	case Bounce:
		h = append(h, "Received: by "+myHostname+" (Postfix)", "\tid "+m.QueueID+"; "+date)
	}
	if m.MessageID == "" && m.Kind != SMTP && m.Kind != Postdrop {
		m.MessageID = "<" + m.QueueID + "@" + myHostname + ">"
	}
	h = append(h, fromHeader(m), "To: "+toHeader(m))
	if m.Subject != "" {
		h = append(h, "Subject: "+subjectHeader(m))
	}
	if m.MessageID != "" {
		h = append(h, "Message-ID: "+m.MessageID)
	}
	h = append(h, "Date: "+rfc2822(m.ArrivalSec-2))
	return append(h, mimeHeaders(m)...)
}

func fromHeader(m *Message) string {
	switch {
	case m.Kind == Bounce:
		m.From = "MAILER-DAEMON@" + myHostname + " (Mail Delivery System)"
	case m.FullName != "":
		m.From = m.FullName + " <" + m.Sender + ">"
	default:
		name := m.Sender[:strings.IndexByte(m.Sender, '@')]
		m.From = `"` + strings.ReplaceAll(name, `"`, "") + `" <` + m.Sender + ">"
	}
	return "From: " + m.From
}

func toHeader(m *Message) string {
	if len(m.Recipients) > 3 && m.Kind != Local {
		return "undisclosed-recipients:;"
	}
	addrs := make([]string, len(m.Recipients))
	for i, r := range m.Recipients {
		addrs[i] = quoteLocal(r.Address)
	}
	return strings.Join(addrs, ", ")
}

func subjectHeader(m *Message) string {
	if m.subjectEncoded {
		return mime.BEncoding.Encode("UTF-8", m.Subject)
	}
	return m.Subject
}

func mimeHeaders(m *Message) []string {
	cte := "7bit"
	if m.EightBit {
		cte = "8bit"
	}
	h := []string{"MIME-Version: 1.0"}
	switch {
	case m.Kind == Bounce:
		h = append(h, "Content-Type: multipart/report; report-type=delivery-status;",
			"\tboundary=\""+boundary(m)+"\"", "Auto-Submitted: auto-replied")
	case m.attachment:
		h = append(h, "Content-Type: multipart/mixed; boundary=\""+boundary(m)+"\"")
	default:
		h = append(h, "Content-Type: text/plain; charset=utf-8")
	}
	h = append(h, "Content-Transfer-Encoding: "+cte)
	if m.Kind == SMTP {
		h = append(h, "X-Mailer: "+m.mailer)
	}
	return h
}

func boundary(m *Message) string {
	return "=_" + strconv.FormatUint(m.bodySeed, 36)
}

func rfc2822(sec int64) string {
	return time.Unix(sec, 0).UTC().Format("Mon, 2 Jan 2006 15:04:05 -0700 (MST)")
}

// writeBody writes body lines until the file reaches its planned size: text, and for bigger
// messages an attachment in base64, with LongLines lines longer than line_length_limit among
// them. It sets BodyLines.
func writeBody(f *fileBuf, m *Message) {
	rng := rand.New(rand.NewPCG(m.bodySeed, 1))
	pool := linePools()
	// What follows the body: the X record, the extracted segment's few records and E, and the
	// closing MIME boundary; about 100 bytes are left for them.
	end := max(int64(m.targetSize)-100, f.off())
	line := func(s string) {
		f.line(s)
		m.BodyLines++
	}
	multipart := m.attachment || m.Kind == Bounce
	if multipart {
		line("--" + boundary(m))
		line("Content-Type: text/plain; charset=utf-8")
		line("")
	}
	for i := 0; i < 6 || !multipart && f.off() < end; i++ {
		line(pool.text[rng.IntN(len(pool.text))])
	}
	for range m.LongLines {
		line(pool.long[rng.IntN(len(pool.long))])
	}
	if !multipart {
		return
	}
	line("--" + boundary(m))
	line("Content-Type: application/octet-stream; name=\"scan" + strconv.Itoa(rng.IntN(1000)) + ".pdf\"")
	line("Content-Transfer-Encoding: base64")
	line("")
	for f.off() < end {
		line(pool.b64[rng.IntN(len(pool.b64))])
	}
	line("--" + boundary(m) + "--")
}

// pools are body lines made once: generating 60 lines for each of a million messages would
// cost more than writing them.
type pools struct {
	text, b64, long []string
}

var linePools = sync.OnceValue(func() *pools {
	rng := rand.New(rand.NewPCG(7, 7))
	p := &pools{}
	for range 1024 {
		p.text = append(p.text, textLine(rng, 50+rng.IntN(24)))
		p.b64 = append(p.b64, base64Line(rng))
	}
	for range 16 {
		var b strings.Builder
		b.WriteString("<html><body><table>")
		for b.Len() < lineLimit+100+rng.IntN(8000) {
			b.WriteString("<tr><td>" + textLine(rng, 40) + "</td></tr>")
		}
		b.WriteString("</table></body></html>")
		p.long = append(p.long, b.String())
	}
	return p
})

// quoteLocal quotes the local part of an address when it is not a dot-atom, as Postfix's
// quote_822_local does before logging or showing it.
func quoteLocal(addr string) string {
	local, rest := addr, ""
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		local, rest = addr[:i], addr[i:]
	}
	if dotAtom(local) {
		return addr
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(local); i++ {
		if local[i] == '"' || local[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(local[i])
	}
	b.WriteByte('"')
	return b.String() + rest
}

func dotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f || strings.IndexByte(`()<>@,;:\"[]`, c) >= 0 {
			return false
		}
	}
	return true
}
