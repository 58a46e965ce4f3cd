// Package sendmailtest lets mqsql's tests run against a real Sendmail 8.17 instead of
// hand-made files: Debian's packages unpacked (never installed: installing sendmail-bin
// removes Postfix) by .ci/sendmail-setup, run with a private queue-only config. It submits
// mail into a private queue per test, runs queue runs against a scripted SMTP peer on the
// loopback, and parses what mailq (sendmail -bp) lists, so readers can be checked against
// Sendmail's own view of its queue.
//
// Tests call Require first; it skips the test when that Sendmail is not set up (or fails
// it when MQSQL_REQUIRE_SENDMAIL=1, as in CI) and serializes the tests of all packages with
// a file lock, since the config's one relay port (127.0.0.1:2599) is shared.
//
// This package must not import other mqsql packages, so that any of them can use it.
package sendmailtest
