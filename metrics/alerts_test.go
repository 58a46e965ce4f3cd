package metrics_test

import (
	"os"
	"os/exec"
	"testing"
)

// requirePrometheus returns the path of a Prometheus program, skipping the test when it is not
// installed, or failing it when MQSQL_REQUIRE_PROMETHEUS=1 (CI installs Debian's prometheus).
func requirePrometheus(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("MQSQL_REQUIRE_PROMETHEUS") == "1" {
			t.Fatalf("MQSQL_REQUIRE_PROMETHEUS=1 but %s is not installed: %v", name, err)
		}
		t.Skipf("%s is not installed (apt-get install prometheus)", name)
	}
	return path
}

// TestAlertRules checks the shipped alerting rules with promtool: that they load, and that
// they fire, and only fire, as their unit tests (docs/alerts_test.yml) say.
func TestAlertRules(t *testing.T) {
	promtool := requirePrometheus(t, "promtool")
	for _, args := range [][]string{
		{"check", "rules", "alerts.yml"},
		{"test", "rules", "alerts_test.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "../docs"
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}
