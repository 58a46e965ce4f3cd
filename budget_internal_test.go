package mqsql

import (
	"errors"
	"testing"
	"time"
)

// TestRecipientBudget checks that the allowance for big messages is held by one message at a
// time, passes on when that message is released, and that a wait ends with the run.
func TestRecipientBudget(t *testing.T) {
	done := make(chan struct{})
	b := NewRecipientBudget(done)
	first, second, third := &Message{}, &Message{}, &Message{}
	if err := b.acquire(first); err != nil || !b.Holds(first) {
		t.Fatalf("acquire: %v, holds %v", err, b.Holds(first))
	}
	got := make(chan error)
	go func() { got <- b.acquire(second) }()
	select {
	case err := <-got:
		t.Fatalf("second message took the allowance while the first held it (%v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	b.Release(second) // not the holder: nothing happens
	b.Release(first)
	if err := <-got; err != nil || !b.Holds(second) || b.Holds(first) {
		t.Fatalf("after release: %v, holds first %v, second %v", err, b.Holds(first), b.Holds(second))
	}
	go func() { got <- b.acquire(third) }()
	close(done)
	if err := <-got; !errors.Is(err, ErrBudgetCanceled) {
		t.Fatalf("wait after the run ended: %v, want ErrBudgetCanceled", err)
	}
}
