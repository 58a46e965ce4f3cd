package metrics

import (
	"fmt"
	"runtime/debug"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

// validUTF8 returns s with each byte that is not part of valid UTF-8 written as the text
// \xHH, as mqsql's output shows it (output.Escape): the Prometheus client refuses a label
// value that is not UTF-8, and mail data is bytes (a sender byte 0xff is accepted by Postfix's
// cleanup, a remote server's reply is stored raw in a Sendmail queue file).
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	const hex = "0123456789abcdef"
	out := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			out = append(out, '\\', 'x', hex[s[i]>>4], hex[s[i]&0xf])
			i++
			continue
		}
		out = append(out, s[i:i+size]...)
		i += size
	}
	return string(out)
}

// validLabels is validUTF8 of each label value.
func validLabels(values []string) []string {
	for i, v := range values {
		values[i] = validUTF8(v)
	}
	return values
}

// sendConst sends one series of desc, its label values made valid UTF-8 first. A series the
// client still refuses is left out of the scrape and reported through fail, never a panic:
// nothing read from mail may stop the watcher (prometheus.MustNewConstMetric panics, in a
// goroutine of the client's that no one recovers).
func sendConst(ch chan<- prometheus.Metric, fail func(error), desc *prometheus.Desc, vt prometheus.ValueType, v float64, labels ...string) {
	m, err := prometheus.NewConstMetric(desc, vt, v, validLabels(labels)...)
	if err != nil {
		fail(err)
		return
	}
	ch <- m
}

// recovered turns a panic of the calling goroutine into an error given to fail, so that one
// metric that fails costs its own series and no other: client_golang runs each collector in a
// goroutine of its own and does not recover them, and a panic there ends the process. Call it
// deferred, first thing in every goroutine of this package.
func recovered(fail func(error)) {
	if r := recover(); r != nil {
		fail(fmt.Errorf("panic: %v\n%s", r, debug.Stack()))
	}
}
