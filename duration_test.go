package mqsql_test

import (
	"testing"

	"github.com/mqsql/mqsql"
)

func TestCompactDuration(t *testing.T) {
	tests := []struct {
		sec  int64
		want string
	}{
		{0, "0s"}, {45, "45s"}, {60, "1m"}, {90, "1m30s"}, {3600, "1h"}, {3660, "1h1m"},
		{3661, "1h1m"}, {86400, "1d"}, {3*86400 + 4*3600 + 59, "3d4h"}, {400 * 86400, "400d"},
	}
	for _, tt := range tests {
		if got := mqsql.CompactDuration(tt.sec); got != tt.want {
			t.Errorf("CompactDuration(%d) = %q, want %q", tt.sec, got, tt.want)
		}
	}
}
