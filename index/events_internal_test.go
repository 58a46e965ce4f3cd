package index

import (
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/testspool"
)

func TestClassify(t *testing.T) {
	at := time.Unix(1795865417, 0)
	layout := testspool.Open(t, testspool.Dir(t, "spool"))
	def := state{mqsql.Deferred, "a@x.test", 350}
	hold := state{mqsql.Hold, "a@x.test", 350}
	none := state{}
	tests := []struct {
		name          string
		before, after state
		touched       bool
		hints         []string
		want          string // "" = no event
		from, to      string
		unknown       bool
	}{
		{name: "arrived", before: none, after: def, touched: true, want: EventArrived, to: "deferred"},
		{name: "moved", before: def, after: hold, touched: true, want: EventMoved, from: "deferred", to: "hold"},
		{name: "left", before: def, after: none, touched: true, want: EventLeft, from: "deferred"},
		{name: "changed", before: def, after: def, touched: true, want: EventChanged, from: "deferred", to: "deferred"},
		{name: "untouched", before: def, after: def},
		{name: "never there", before: none, after: none, hints: []string{"incoming/X"}},
		{name: "came and went", before: none, after: none, hints: []string{"incoming/X", "active/X", "incoming/X"},
			want: EventLeft, from: "active", unknown: true},
		{name: "maildrop proves nothing", before: none, after: none, hints: []string{"maildrop/X"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := classify(layout, "X", &dirtyID{since: at, hints: tt.hints}, tt.before, tt.after, tt.touched)
			if !ok {
				if tt.want != "" {
					t.Fatalf("no event, want %s", tt.want)
				}
				return
			}
			if c.kind != tt.want || c.from != tt.from || c.to != tt.to || c.unknown != tt.unknown || !c.at.Equal(at) {
				t.Errorf("got %+v, want %s %q→%q unknown=%v", c, tt.want, tt.from, tt.to, tt.unknown)
			}
			if tt.want == EventLeft && !tt.unknown && (c.sender != def.sender || c.size != def.size) {
				t.Errorf("left event carries sender %q size %d, want the old row's", c.sender, c.size)
			}
		})
	}
}

// TestDebouncer checks that a burst is applied once it is quiet, and that a constant stream
// is still applied within the maximum delay.
func TestDebouncer(t *testing.T) {
	const quiet, maxDelay = 20 * time.Millisecond, 80 * time.Millisecond
	t0 := time.Unix(0, 0)
	tests := []struct {
		name   string
		events []time.Duration // offsets from t0
		fireAt time.Duration
		due    bool
	}{
		{"quiet after one event", []time.Duration{0}, 20 * time.Millisecond, true},
		{"still busy", []time.Duration{0, 15 * time.Millisecond}, 20 * time.Millisecond, false},
		{"quiet after burst", []time.Duration{0, 15 * time.Millisecond}, 35 * time.Millisecond, true},
		{"constant stream hits the bound", []time.Duration{0, 20 * time.Millisecond, 40 * time.Millisecond, 60 * time.Millisecond, 79 * time.Millisecond}, 80 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDebouncer(quiet, maxDelay)
			defer d.timer.Stop()
			for _, e := range tt.events {
				d.event(t0.Add(e))
			}
			if got := d.fire(t0.Add(tt.fireAt)); got != tt.due {
				t.Errorf("fire at %v: due %v, want %v", tt.fireAt, got, tt.due)
			}
		})
	}
}
