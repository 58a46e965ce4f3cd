package postfix_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mqsql/mqsql/spool/postfix"
)

// TestLoadConfigIgnoresPlantedPostconf puts a postconf of someone else's first in PATH, as a
// shell a user shaped (sudo -E) would have it: mqsql asks the system's /usr/sbin/postconf,
// never the planted one.
func TestLoadConfigIgnoresPlantedPostconf(t *testing.T) {
	if _, err := os.Stat("/usr/sbin/postconf"); err != nil {
		if os.Getenv("MQSQL_REQUIRE_POSTFIX") == "1" {
			t.Fatalf("MQSQL_REQUIRE_POSTFIX=1 but /usr/sbin/postconf: %v", err)
		}
		t.Skip("Postfix is not installed")
	}
	planted := t.TempDir()
	script := "#!/bin/sh\nprintf '/tmp/planted\\nno\\n1\\n'\n"
	if err := os.WriteFile(filepath.Join(planted, "postconf"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", planted+":"+os.Getenv("PATH"))
	cfg, err := postfix.LoadConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.QueueDirectory == "/tmp/planted" {
		t.Errorf("mqsql ran the postconf planted in PATH")
	}
}
