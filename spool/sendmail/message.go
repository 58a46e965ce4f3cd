package sendmail

import (
	"mime"
	"regexp"
	"strings"

	"github.com/mqsql/mqsql"
	"golang.org/x/sys/unix"
)

// fill sets the columns of m from the control file f (sendmail-queue.md §8). Columns with no
// Sendmail equivalent stay zero: forced_expire (expiry is a queue-run option), next_attempt
// (Sendmail keeps no retry time), sasl_username (the A line is the AUTH= parameter, not a
// login) and log_ident.
func (s *Spool) fill(m *mqsql.Message, f *qfile, locked bool) {
	m.Queue = queueOf(m.Queue, f, locked)
	if s.msp && m.Queue != mqsql.Hold && m.Queue != mqsql.Corrupt {
		m.Queue = mqsql.Maildrop
	}
	m.ArrivalTime = f.created
	if m.ArrivalTime == 0 {
		m.ArrivalTime = m.File.ModTimeNanos / 1e9
	}
	m.Sender, m.NoSender = senderOf(f.sender), !f.hasSender
	m.Size = s.dataSize(s.partRel(m.File.Path, f, letterData, m.QueueID))
	if d, ok := s.dirOf(m.File.Path); ok {
		m.QueueName = d.group
	}
	m.ClientAddress = clientAddress(f.authInfo)
	m.HeloName = f.helo
	m.HoldReason = f.quarantine
	for _, h := range f.headers {
		v := func() string { return headerValue(h.value) }
		switch strings.ToLower(h.name) {
		case "subject":
			setOnce(&m.Subject, v)
		case "from":
			setOnce(&m.FromHeader, v)
		case "message-id":
			setOnce(&m.MessageID, v)
		}
	}
	for i := range m.Recipients {
		r := &m.Recipients[i]
		if r.DelayReason == "" && f.tries > 0 {
			r.DelayReason = f.message
		}
		if r.DelayReason != "" {
			r.Deferred = true
			r.DSNStatus, r.DiagText = dsnStatus(r.DelayReason), diagText(r.DelayReason)
		}
	}
}

// queueOf is the queue of a control file: hf is hold, Qf corrupt; a qf is active while a queue
// runner holds its lock, deferred once Sendmail tried it (N > 0), incoming before. (In the
// MSP's queue every qf is maildrop: see OpenMaildrop.)
func queueOf(q mqsql.Queue, f *qfile, locked bool) mqsql.Queue {
	switch {
	case q == mqsql.Hold || q == mqsql.Corrupt:
		return q
	case locked:
		return mqsql.Active
	case f.tries > 0:
		return mqsql.Deferred
	}
	return mqsql.Incoming
}

func setOnce(dst *string, v func() string) {
	if *dst == "" {
		*dst = v()
	}
}

// senderOf is the envelope sender with one pair of <> stripped; the null sender is "" in both
// of Sendmail's spellings: S<> as given, and MAILER-DAEMON, which Sendmail stores for its own
// bounces but sends as MAIL FROM:<>.
func senderOf(s string) string {
	s = unbracket(s)
	if strings.EqualFold(s, "MAILER-DAEMON") {
		return ""
	}
	return s
}

// dataSize is the size of the df file at rel, which is what mailq shows as the message's
// size; 0 when there is none.
func (s *Spool) dataSize(rel string) int64 {
	st, err := s.root.Lstat(rel)
	if err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0
	}
	return st.Size
}

// clientAddress is the address in brackets of the $_ macro ("host [192.0.2.1]", "[::1]",
// maybe followed by " (may be forged)"); "" for local submissions ("root@localhost").
func clientAddress(authInfo string) string {
	i := strings.IndexByte(authInfo, '[')
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(authInfo[i:], ']')
	if j < 0 {
		return ""
	}
	addr := authInfo[i+1 : i+j]
	return strings.TrimPrefix(addr, "IPv6:")
}

// headerValue is a header's value as an admin reads it: unfolded, Sendmail's macro bytes
// (\x81 and the macro's name) dropped, RFC 2047 words decoded, trimmed, valid UTF-8.
func headerValue(raw []byte) string {
	v := strings.TrimSpace(unfold(dropMacros(string(raw))))
	if strings.Contains(v, "=?") {
		if d, err := wordDecoder.DecodeHeader(v); err == nil {
			v = d
		}
	}
	return strings.ToValidUTF8(v, "\uFFFD")
}

// unfold joins continuation lines: each newline and the blanks after it become one space.
func unfold(s string) string {
	if !strings.Contains(s, "\n") {
		return s
	}
	var b strings.Builder
	for i, part := range strings.Split(s, "\n") {
		if i > 0 {
			b.WriteByte(' ')
			part = strings.TrimLeft(part, " \t")
		}
		b.WriteString(part)
	}
	return b.String()
}

// macroByte starts a macro reference in a stored header (MACROEXPAND): \x81 and a one-byte
// name, or \x81{name}.
const macroByte = 0x81

func dropMacros(s string) string {
	if strings.IndexByte(s, macroByte) < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != macroByte {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '{' {
			if j := strings.IndexByte(s[i:], '}'); j >= 0 {
				i += j
				continue
			}
		}
		i++ // the one-byte macro name
	}
	return b.String()
}

var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

var dsnPattern = regexp.MustCompile(`\b[245]\.\d{1,3}\.\d{1,3}\b`)

// dsnStatus is the enhanced status code in a delay reason (4.2.2); "" for reasons such as a
// refused connection that carry none.
func dsnStatus(reason string) string { return dsnPattern.FindString(reason) }

// diagText is the remote server's reply in a delay reason: what follows "Deferred: " when it
// starts with an SMTP reply code; "" otherwise.
func diagText(reason string) string {
	rest := strings.TrimPrefix(reason, "Deferred: ")
	if len(rest) >= 4 && rest[0] >= '2' && rest[0] <= '5' && isDigit(rest[1]) && isDigit(rest[2]) && rest[3] == ' ' {
		return rest
	}
	return ""
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
