// Package logtest runs a driver's mail-log parser over a file of real log lines and prints
// what it made of each, for the drivers' golden tests: one place for the format, so that the
// three MTAs' results read alike in review.
package logtest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/mqsql/mqsql"
)

// Render parses every line of file with p and returns, per line that made records or an
// error, the line number and each record or the error, then the totals.
func Render(t testing.TB, p mqsql.LogParser, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	n, records, bad := 0, 0, 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		n++
		recs, err := p.Parse(sc.Bytes(), nil)
		if err != nil {
			bad++
			fmt.Fprintf(&b, "%d: error: %v\n", n, err)
		}
		for _, r := range recs {
			records++
			fmt.Fprintf(&b, "%d: %s\n", n, Format(r))
		}
	}
	fmt.Fprintf(&b, "lines %d, records %d, unreadable %d\n", n, records, bad)
	return b.Bytes()
}

// Format writes one record as its table's columns, unknown ones left out.
func Format(r mqsql.LogRecord) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s time=%s queue_id=%s", kind(r.Kind), strconv.FormatFloat(r.Time, 'f', -1, 64), r.QueueID)
	str := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, " %s=%q", k, v)
		}
	}
	str("host", r.Host)
	str("instance", r.Instance)
	if r.Kind == mqsql.LogDelivery {
		d := r.Delivery
		fmt.Fprintf(&b, " status=%s recipient=%q", d.Status, d.Recipient)
		str("orig_recipient", d.OrigRecipient)
		str("relay", d.Relay)
		if d.Delay >= 0 {
			fmt.Fprintf(&b, " delay=%s", strconv.FormatFloat(d.Delay, 'f', -1, 64))
		}
		str("dsn", d.DSN)
		str("response", d.Response)
		return b.String()
	}
	m := r.Message
	if m.HasSender {
		fmt.Fprintf(&b, " sender=%q", m.Sender)
	}
	if m.Size >= 0 {
		fmt.Fprintf(&b, " size=%d", m.Size)
	}
	if m.Nrcpt >= 0 {
		fmt.Fprintf(&b, " nrcpt=%d", m.Nrcpt)
	}
	str("client_address", m.ClientAddress)
	str("sasl_username", m.SASLUsername)
	str("message_id", m.MessageID)
	if m.Removed {
		b.WriteString(" removed")
	}
	return b.String()
}

func kind(k mqsql.LogRecordKind) string {
	if k == mqsql.LogDelivery {
		return "delivery"
	}
	return "message"
}
