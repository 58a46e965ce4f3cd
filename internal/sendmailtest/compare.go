package sendmailtest

import (
	"fmt"
	"strings"
	"time"
)

// Read is what a reader made of one message, in the terms mailq shows: Sender and
// addresses without <>, "" for the null sender, Arrival in unix seconds, Reasons one per
// recipient ("" for none).
type Read struct {
	ID         string
	Size       int64
	Arrival    int64
	Sender     string
	Recipients []string
	Reasons    []string
}

// truncatedAt is the shortest column width mailq cuts addresses to: an address listed this
// long or longer may be the start of a longer one.
const truncatedAt = 30

// Compare returns "" when r agrees with what mailq listed in l, else what differs: size,
// time (to the minute, as listed in UTC), sender (one <> pair stripped, MAILER-DAEMON and <>
// both the null sender), recipients in order and, with reasons (a -v listing), each
// recipient's status line, which is the recipient's own or, when it has none, the envelope's
// (listed only once Sendmail tried the message).
func Compare(l Listed, r Read, reasons bool) string {
	var diffs []string
	add := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }
	if l.ID != r.ID {
		add("id %q, mailq %q", r.ID, l.ID)
	}
	if l.Size != r.Size {
		add("size %d, mailq %d", r.Size, l.Size)
	}
	if at := time.Unix(r.Arrival, 0).UTC().Format("Jan _2 15:04"); at != l.Time {
		add("time %s, mailq %s", at, l.Time)
	}
	if s := NullSender(l.Sender); !sameAddress(s, r.Sender) {
		add("sender %q, mailq %q", r.Sender, l.Sender)
	}
	if len(l.Recipients) != len(r.Recipients) {
		add("%d recipients %q, mailq %d %v", len(r.Recipients), r.Recipients, len(l.Recipients), l.Recipients)
		return strings.Join(diffs, "; ")
	}
	for i, lr := range l.Recipients {
		if !sameAddress(Unbracket(lr.Address), r.Recipients[i]) {
			add("recipient %d %q, mailq %q", i, r.Recipients[i], lr.Address)
		}
		if !reasons || i >= len(r.Reasons) {
			continue
		}
		want := lr.Message
		if want == "" {
			want = l.Message
		}
		if r.Reasons[i] != want {
			add("recipient %d reason %q, mailq %q (envelope %q)", i, r.Reasons[i], lr.Message, l.Message)
		}
	}
	return strings.Join(diffs, "; ")
}

// sameAddress compares a listed address with a read one, allowing for mailq's column cut.
func sameAddress(listed, read string) bool {
	return listed == read || (len(listed) >= truncatedAt && strings.HasPrefix(read, listed))
}

// Unbracket strips one pair of <>.
func Unbracket(s string) string {
	if len(s) >= 2 && s[0] == '<' && s[len(s)-1] == '>' {
		return s[1 : len(s)-1]
	}
	return s
}

// NullSender is a listed sender as mqsql stores it: without <>, and "" for the null sender,
// which Sendmail lists as <> (given so) or MAILER-DAEMON (its own bounces).
func NullSender(s string) string {
	s = Unbracket(s)
	if strings.EqualFold(s, "MAILER-DAEMON") {
		return ""
	}
	return s
}
