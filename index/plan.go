package index

import (
	"context"
	"fmt"

	"github.com/mqsql/mqsql"
)

// Plan runs a write statement through the session's plan triggers and returns what it asks
// for, one action per matched message. Nothing in the index or the spool changes: the
// triggers only record the matched rows and the new values.
func (g *Guard) Plan(ctx context.Context, st Statement) ([]mqsql.Action, error) {
	if st.Kind == Read {
		return nil, fmt.Errorf("plan: %q is not a write statement", st.SQL)
	}
	if err := g.own(ctx, "DELETE FROM temp."+planTable); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	defer g.own(context.WithoutCancel(ctx), "DELETE FROM temp."+planTable)
	if err := st.exec(ctx); err != nil {
		return nil, err
	}
	rows, err := g.conn.QueryContext(ctx, `SELECT queue_id, queue, inode, arrival_time, path, sender,
		coalesce(subject, ''), forced_expire, new_queue, new_forced_expire FROM temp.`+planTable+` ORDER BY rowid`)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	defer rows.Close()
	var actions []mqsql.Action
	for rows.Next() {
		var t mqsql.Target
		var queue string
		var inode int64
		var expired bool
		var newQueue, newExpire any
		if err := rows.Scan(&t.QueueID, &queue, &inode, &t.ArrivalTime, &t.Path, &t.Sender, &t.Subject, &expired, &newQueue, &newExpire); err != nil {
			return nil, fmt.Errorf("plan: %w", err)
		}
		t.Queue, t.Inode = mqsql.Queue(queue), uint64(inode)
		a, err := decide(st, t, expired, newQueue, newExpire)
		if err != nil {
			return nil, err
		}
		actions = append(actions, a)
	}
	return actions, rows.Err()
}

// decide turns one matched row into an action: which operation the statement means for a
// message in this queue, or why it does not apply.
func decide(st Statement, t mqsql.Target, expired bool, newQueue, newExpire any) (mqsql.Action, error) {
	a := mqsql.Action{Target: t}
	if st.Kind == Delete {
		a.Op = mqsql.OpDelete
		a.Skip = notForCorrupt(t.Queue)
		return a, nil
	}
	setsQueue, setsExpire := false, false
	for _, c := range st.Columns {
		setsQueue = setsQueue || c == "queue"
		setsExpire = setsExpire || c == "forced_expire"
	}
	if setsQueue && setsExpire {
		return a, fmt.Errorf("%w: set either queue or forced_expire in one statement, not both", ErrDenied)
	}
	if setsExpire {
		return decideExpire(a, expired, newExpire)
	}
	return decideMove(a, newQueue)
}

func decideExpire(a mqsql.Action, expired bool, v any) (mqsql.Action, error) {
	if n, ok := v.(int64); !ok || n != 1 {
		return a, fmt.Errorf("%w: forced_expire can only be set to 1 (postsuper -e); got %v", ErrDenied, sqlValue(v))
	}
	a.Op = mqsql.OpExpire
	switch {
	case a.Queue == mqsql.Hold:
		a.Op = mqsql.OpExpireRelease
	case a.Queue == mqsql.Maildrop:
		a.Skip = "mail in maildrop has not been queued yet and cannot be expired"
	case expired:
		a.Skip = "already expired"
	}
	if s := notForCorrupt(a.Queue); s != "" {
		a.Skip = s
	}
	return a, nil
}

// moves maps the queue an UPDATE asks for to its operation and the queues it applies to.
var moves = map[mqsql.Queue]struct {
	op   mqsql.Op
	from []mqsql.Queue
}{
	mqsql.Hold:     {mqsql.OpHold, []mqsql.Queue{mqsql.Incoming, mqsql.Active, mqsql.Deferred}},
	mqsql.Deferred: {mqsql.OpRelease, []mqsql.Queue{mqsql.Hold}},
	mqsql.Maildrop: {mqsql.OpRequeue, []mqsql.Queue{mqsql.Incoming, mqsql.Active, mqsql.Deferred, mqsql.Hold}},
	mqsql.Active:   {mqsql.OpFlush, []mqsql.Queue{mqsql.Deferred, mqsql.Incoming}},
}

func decideMove(a mqsql.Action, v any) (mqsql.Action, error) {
	s, _ := v.(string)
	to := mqsql.Queue(s)
	m, ok := moves[to]
	if !ok {
		return a, fmt.Errorf("%w: queue can be set to 'hold' (postsuper -h), 'deferred' (release, postsuper -H), 'maildrop' (requeue, postsuper -r) or 'active' (deliver now, postqueue -i); got %v", ErrDenied, sqlValue(v))
	}
	a.Op = m.op
	switch {
	case a.Queue == to:
		a.Skip = "already in " + string(to)
	case !queueIn(a.Queue, m.from):
		a.Skip = fmt.Sprintf("%s does not apply to mail in %s", m.op, a.Queue)
	}
	if s := notForCorrupt(a.Queue); s != "" {
		a.Skip = s
	}
	return a, nil
}

func notForCorrupt(q mqsql.Queue) string {
	if q == mqsql.Corrupt {
		return "files in corrupt/ are not queued mail; Postfix's tools do not touch them (inspect and remove by hand)"
	}
	return ""
}

func queueIn(q mqsql.Queue, qs []mqsql.Queue) bool {
	for _, x := range qs {
		if x == q {
			return true
		}
	}
	return false
}

func sqlValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return fmt.Sprintf("'%s'", x)
	}
	return fmt.Sprint(v)
}
