package sqlfuncs

import (
	"database/sql/driver"
	"strings"

	"github.com/mqsql/mqsql"
	"modernc.org/sqlite"
)

// QshapeBuckets are the column names of Postfix qshape's default age buckets, as qshape heads
// its columns: each is the upper limit of its bucket in minutes, geometrically doubling from 5,
// and "1280+" holds everything older. They are also the values qshape_bucket returns.
var QshapeBuckets = []string{"5", "10", "20", "40", "80", "160", "320", "640", "1280", "1280+"}

// qshapeBucketFunc is qshape_bucket(age_seconds): the qshape column a message of that age is
// counted in. NULL stays NULL.
func qshapeBucketFunc(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	age, ok, err := integer("qshape_bucket", args[0])
	if !ok {
		return nil, err
	}
	return QshapeBuckets[qshapeBucket(age)], nil
}

// qshapeBucket returns the index in QshapeBuckets of a message age in seconds. qshape computes
// 2 + int(log2(minutes / 5)); comparing with the bucket limits in whole seconds gives the same
// buckets without rounding trouble at their edges. Ages from the future count as fresh, as in
// qshape.
func qshapeBucket(age int64) int {
	const first = 5 * 60
	b := 0
	for limit := int64(first); b < len(QshapeBuckets)-1 && age >= limit; limit *= 2 {
		b++
	}
	return b
}

// qshapeDomainFunc is qshape_domain(address): the domain qshape counts an address under.
func qshapeDomainFunc(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	a, ok := text(args[0])
	if !ok {
		return nil, nil
	}
	return qshapeDomain(a), nil
}

// qshapeDomain files an address the way qshape's Perl does, so that the qshape views count
// exactly what qshape counts, after mqsql.AddrSpec has taken the address out of what the MTA
// stored (a Sendmail recipient "Name <user@example.com>" counts under example.com; Postfix
// stores bare addresses, which it leaves alone): lower-case ASCII letters only (Perl's lc on bytes), the null
// address as MAILER-DAEMON, everything up to the last '@' removed (an address without one is
// its own domain), ".." made ".", then one leading and one trailing dot removed.
func qshapeDomain(a string) string {
	a = asciiLower(mqsql.AddrSpec(a))
	if a == "" {
		a = "MAILER-DAEMON"
	}
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		a = a[i+1:]
	}
	a = strings.ReplaceAll(a, "..", ".")
	if len(a) >= 2 && a[0] == '.' {
		a = a[1:]
	}
	if len(a) >= 2 && a[len(a)-1] == '.' {
		a = a[:len(a)-1]
	}
	return a
}

// asciiLower lower-cases A-Z and leaves every other byte alone, valid UTF-8 or not.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
