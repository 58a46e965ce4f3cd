// Package postfixtest lets mqsql's tests run against the real Postfix installed on the
// machine instead of against hand-made files: it fills the live queue with mail through
// SMTP, sendmail and smtp-source, waits for Postfix to settle, and reads back what
// Postfix itself reports (postqueue -j), so readers can be checked against an oracle.
//
// The Postfix must have been configured by .ci/postfix-setup, which makes sure that mail
// can never leave the machine (every remote recipient defers against a closed port on
// 127.0.0.1). Tests call Require first; it skips the test when that Postfix is not
// available (or fails it when MQSQL_REQUIRE_POSTFIX=1, as in CI) and serializes all
// tests of all packages on the one shared queue with a file lock.
//
// This package must not import other mqsql packages, so that any of them can use it.
package postfixtest

// Marker is the line .ci/postfix-setup writes into main.cf. Require (and so Reset, which
// deletes the whole queue) refuses to touch a Postfix whose main.cf lacks it: that
// Postfix may be carrying somebody's real mail.
const Marker = "# mqsql-test-config"

// RequireEnv names the environment variable that turns Require's skips into failures.
// CI sets it to 1 so that a broken Postfix setup cannot make the suite pass by skipping.
const RequireEnv = "MQSQL_REQUIRE_POSTFIX"

// LockFile is the file Require flocks so that test binaries of different packages,
// which go test runs in parallel, never use the shared queue at the same time.
const LockFile = "/run/mqsql-postfixtest.lock"

// SMTPAddr is where .ci/postfix-setup makes smtpd listen (loopback only).
const SMTPAddr = "127.0.0.1:25"

// SASLPassword is the password .ci/postfix-setup gives every user in SASLUsers in
// /etc/sasldb2. It is a test secret on a machine whose mail cannot leave it; tests use it
// to send authenticated mail so that queue files carry sasl_method/sasl_username.
const SASLPassword = "mqsql-test-password"

// SASLUsers are the SASL login names .ci/postfix-setup creates (realm mqsql.test).
// hijacked@mqsql.test plays a compromised account sending spam, the case the tool
// exists to investigate; spammer@mqsql.test is a second account for contrast.
var SASLUsers = []string{"spammer@mqsql.test", "hijacked@mqsql.test"}

// SetupCommand is how a developer enables the Postfix-backed tests on this machine.
const SetupCommand = "sudo bash .ci/postfix-setup"
