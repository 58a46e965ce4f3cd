package sqlfuncs_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/sqlfuncs"
	"modernc.org/sqlite"
)

// connector opens an in-memory database on a driver of the test's own.
type connector struct{ d *sqlite.Driver }

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(":memory:") }
func (c connector) Driver() driver.Driver                        { return c.d }

// testNow is the time the tests' clock shows: an hour after the sample spool's mail arrived.
var testNow = time.Unix(1795865417+3600, 0)

// openDB returns a database whose connections carry mqsql's functions, reading messages
// through src, with the clock stopped at testNow.
func openDB(t *testing.T, src *sqlfuncs.Source) *sql.DB {
	t.Helper()
	return openDBWithClock(t, src, mqsql.FixedClock(testNow))
}

// openDBWithClock is openDB with the functions reading clock.
func openDBWithClock(t *testing.T, src *sqlfuncs.Source, clock mqsql.Clock) *sql.DB {
	t.Helper()
	d := &sqlite.Driver{}
	if err := sqlfuncs.Register(d, src, clock); err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector{d})
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// queryValue runs a one-value query and returns the value as text, "NULL" for NULL.
func queryValue(t *testing.T, db *sql.DB, query string, args ...any) (string, error) {
	t.Helper()
	var v sql.NullString
	if err := db.QueryRow(query, args...).Scan(&v); err != nil {
		return "", err
	}
	if !v.Valid {
		return "NULL", nil
	}
	return v.String, nil
}

func TestFunctions(t *testing.T) {
	db := openDB(t, nil)
	tests := []struct{ query, want string }{
		{"SELECT domain('User@Example.NET')", "example.net"},
		{"SELECT localpart('User@Example.NET')", "User"},
		{"SELECT 'invoice 42' REGEXP '(?i)INVOICE'", "1"},
		{"SELECT human_size(0)", "0B"},
		{"SELECT human_size(1023)", "1023B"},
		{"SELECT human_size(1024)", "1.0K"},
		{"SELECT human_size(5740)", "5.6K"},
		{"SELECT human_size(10240)", "10K"},
		{"SELECT human_size(1048575)", "1.0M"},
		{"SELECT human_size(21 * 1048576)", "21M"},
		{"SELECT human_size(3 * 1073741824 / 2)", "1.5G"},
		{"SELECT human_size(-2048)", "-2.0K"},
		{"SELECT human_size('5740')", "5.6K"},
		{"SELECT human_size(NULL)", "NULL"},
		{"SELECT now()", "1795869017"},
		{"SELECT ago(now() - 3*86400 - 4*3600 - 30)", "3d4h"},
		{"SELECT ago(now() - 3*86400 - 30)", "3d"},
		{"SELECT ago(now() + 12*3600 + 20*60 + 30)", "in 12h20m"},
		{"SELECT ago(NULL)", "NULL"},
		{"SELECT age(now() - 100)", "100"},
		{"SELECT age(1795865417)", "3600"},
		{"SELECT age(NULL)", "NULL"},
		{"SELECT qshape_bucket(0)", "5"},
		{"SELECT qshape_bucket(299)", "5"},
		{"SELECT qshape_bucket(300)", "10"},
		{"SELECT qshape_bucket(599)", "10"},
		{"SELECT qshape_bucket(600)", "20"},
		{"SELECT qshape_bucket(76799)", "1280"},
		{"SELECT qshape_bucket(76800)", "1280+"},
		{"SELECT qshape_bucket(-60)", "5"},
		{"SELECT qshape_bucket(NULL)", "NULL"},
		{"SELECT qshape_domain('')", "MAILER-DAEMON"},
		{"SELECT qshape_domain('User@Mail.Example.COM.')", "mail.example.com"},
		{"SELECT qshape_domain('root')", "root"},
		// Sendmail keeps a recipient as written: the address's own domain and local part.
		{"SELECT qshape_domain('Donkey <admin@DockerDonkey.com>')", "dockerdonkey.com"},
		{"SELECT domain('Donkey <admin@DockerDonkey.com>')", "dockerdonkey.com"},
		{"SELECT localpart('Donkey <admin@DockerDonkey.com>')", "admin"},
	}
	for _, tt := range tests {
		got, err := queryValue(t, db, tt.query)
		if err != nil {
			t.Errorf("%s: %v", tt.query, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s = %q, want %q", tt.query, got, tt.want)
		}
	}
	for _, q := range []string{"SELECT age('yesterday')", "SELECT header('4jc7PP1W6fzdXSJ', 'Subject')"} {
		if _, err := queryValue(t, db, q); err == nil {
			t.Errorf("%s: no error", q)
		}
	}
}

// TestSystemClock checks that without a clock of their own the functions tell the system's
// time, as in every real run.
func TestSystemClock(t *testing.T) {
	db := openDBWithClock(t, nil, nil)
	for _, q := range []string{"SELECT age(unixepoch() - 100) BETWEEN 100 AND 102", "SELECT now() - unixepoch() BETWEEN -1 AND 1"} {
		if got, err := queryValue(t, db, q); err != nil || got != "1" {
			t.Errorf("%s = %q, %v; want 1", q, got, err)
		}
	}
}

// perlQshape is qshape's own code for the two rules the views must follow exactly: how an
// address becomes the domain it is counted under, and which bucket an age falls in (minutes,
// 5-minute first bucket, 10 buckets). The test feeds it one input a line.
const perlQshape = `
while (my $in = <STDIN>) {
	chomp $in;
	my ($kind, $v) = split(/ /, $in, 2);
	if ($kind eq "d") {
		my $a = lc($v);
		$a = "MAILER-DAEMON" if ($a eq "");
		$a =~ s/.*\@//;
		$a =~ s/\.\././g;
		$a =~ s/\.?(.+?)\.?$/$1/;
		print "$a\n";
	} else {
		my $m = $v / 300;
		my $b = ($m < 1) ? 1 : 2 + int(log($m) / log(2));
		$b = 10 if ($b > 10);
		print "$b\n";
	}
}
`

// TestQshapeRulesMatchPerl runs qshape's rules in Perl and qshape_domain and qshape_bucket on
// the same inputs, bucket edges and odd addresses included.
func TestQshapeRulesMatchPerl(t *testing.T) {
	perl, err := exec.LookPath("perl")
	if err != nil {
		t.Skip("perl is not installed")
	}
	addrs := []string{"", "a@B.test", "USER@Example.COM", "x@.lead.test", "x@trail.test.", "x@a..b...c",
		"x@.", "x@..", "x@", "local", "a@b@C.test", "Ünï@ÉXAMPLE.test", ".", "a@.x.", "MAILER-DAEMON", "x@x"}
	var ages []int64
	for edge := int64(300); edge <= 300*512; edge *= 2 {
		ages = append(ages, edge-1, edge, edge+1)
	}
	ages = append(ages, 0, 1, -300, 299, 1e7)
	var in strings.Builder
	for _, a := range addrs {
		fmt.Fprintf(&in, "d %s\n", a)
	}
	for _, a := range ages {
		fmt.Fprintf(&in, "b %d\n", a)
	}
	cmd := exec.Command(perl, "-e", perlQshape)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("perl: %v", err)
	}
	want := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	db := openDB(t, nil)
	for i, a := range addrs {
		got, err := queryValue(t, db, "SELECT qshape_domain(?)", a)
		if err != nil || got != want[i] {
			t.Errorf("qshape_domain(%q) = %q, %v; qshape: %q", a, got, err, want[i])
		}
	}
	for i, a := range ages {
		got, err := queryValue(t, db, "SELECT qshape_bucket(?)", a)
		w := sqlfuncs.QshapeBuckets[atoi(t, want[len(addrs)+i])-1]
		if err != nil || got != w {
			t.Errorf("qshape_bucket(%d) = %q, %v; qshape: %q", a, got, err, w)
		}
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return n
}

func TestMessageFunctions(t *testing.T) {
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	sp := testspool.Open(t, dir)
	src := &sqlfuncs.Source{}
	db := openDB(t, src)
	if _, err := queryValue(t, db, "SELECT header('4jc7PP1W6fzdXSJ', 'Subject')"); err == nil || !strings.Contains(err.Error(), "no spool") {
		t.Errorf("before Set: err = %v, want one saying there is no spool", err)
	}
	src.Set(sp)
	tests := []struct{ query, want string }{
		{"SELECT header('4jc7PP1W6fzdXSJ', 'subject')", "three recipients test"},
		{"SELECT header('4jc7PP1W6fzdXSJ', 'From')", "Brief <brief3r@x.test>"},
		{"SELECT header('4jc7Pl4JPWzdZKp', 'Subject')", "Grüße SMTPUTF8"},
		{"SELECT header('4jc7PP1W6fzdXSJ', 'X-Missing')", "NULL"},
		{"SELECT header('4jcGONE1LEz5xx1', 'Subject')", "NULL"},
		{"SELECT header('not/an id', 'Subject')", "NULL"},
		{"SELECT body('4jc7PP1W6fzdXSJ')", "Hello body line 1\nline 2"},
		{"SELECT body('4jcGONE1LEz5xx1')", "NULL"},
		{"SELECT postcat('4jc7PP1W6fzdXSJ', '-b')", "\nHello body line 1\nline 2\n"},
		{"SELECT length(body('4jc7Q05hx6zdZKt')) <= 65536", "1"},
	}
	for _, tt := range tests {
		got, err := queryValue(t, db, tt.query)
		if err != nil || got != tt.want {
			t.Errorf("%s = %q, %v; want %q", tt.query, got, err, tt.want)
		}
	}
	if _, err := queryValue(t, db, "SELECT postcat('4jc7PP1W6fzdXSJ', '-x')"); err == nil {
		t.Error("postcat with an unknown option: no error")
	}
}
