package index_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mqsql/mqsql/index"
)

// TestOwner checks the claim a live watcher holds on an index file.
func TestOwner(t *testing.T) {
	db := filepath.Join(t.TempDir(), "index.db")
	if _, ok, err := index.IndexOwner(db); err != nil || ok {
		t.Fatalf("owner of a new file: %v, %v", ok, err)
	}
	o, err := index.ClaimIndex(db)
	if err != nil {
		t.Fatal(err)
	}
	if info, ok, err := index.IndexOwner(db); err != nil || !ok || info.PID != os.Getpid() || info.State != index.OwnerLoading {
		t.Fatalf("owner while loading: %+v %v %v", info, ok, err)
	}
	if _, err := index.ClaimIndex(db); !errors.Is(err, index.ErrOwned) {
		t.Fatalf("second claim: %v, want ErrOwned", err)
	}
	ready := make(chan index.OwnerInfo)
	go func() {
		info, _, _ := index.WaitForOwner(context.Background(), db, nil)
		ready <- info
	}()
	time.Sleep(150 * time.Millisecond)
	if err := o.SetState(index.OwnerReady); err != nil {
		t.Fatal(err)
	}
	if info := <-ready; info.State != index.OwnerReady {
		t.Errorf("WaitForOwner returned %+v before the owner was ready", info)
	}
	if err := o.Release(); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := index.IndexOwner(db); err != nil || ok {
		t.Fatalf("owner after release: %v, %v", ok, err)
	}
	o2, err := index.ClaimIndex(db)
	if err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	o2.Release()
}
