package index

import "sync/atomic"

// eventCounts counts the events rows an Index has written since it was opened, by kind. The
// events table cannot serve as a counter: retention prunes it, and a Prometheus counter must
// never go down. It is updated after the refresh transaction commits, so a rolled-back refresh
// counts nothing.
type eventCounts struct {
	arrived, moved, left, changed atomic.Int64
}

// add counts the rows of one committed refresh.
func (c *eventCounts) add(changes []change) {
	for _, ch := range changes {
		switch ch.kind {
		case EventArrived:
			c.arrived.Add(1)
		case EventMoved:
			c.moved.Add(1)
		case EventLeft:
			c.left.Add(1)
		case EventChanged:
			c.changed.Add(1)
		}
	}
}

// EventCounts returns how many events rows of each kind (EventArrived, EventMoved, EventLeft,
// EventChanged; every kind present, 0 when none) this Index has written since Open, whoever
// wrote them through it: its Watcher or a Reconcile. The counts only grow, which is what the
// mqsql_events_total metric needs whatever the events table's retention deletes.
func (ix *Index) EventCounts() map[string]int64 {
	return map[string]int64{
		EventArrived: ix.events.arrived.Load(),
		EventMoved:   ix.events.moved.Load(),
		EventLeft:    ix.events.left.Load(),
		EventChanged: ix.events.changed.Load(),
	}
}
