package index

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/mqsql/mqsql"
)

// Plan runs a write statement through the session's plan triggers and returns what it asks
// for, one action per matched message. Nothing in the index or the spool changes: the
// triggers only record the matched rows and the new values.
func (g *Guard) Plan(ctx context.Context, st Statement) ([]mqsql.Action, error) {
	p, err := g.PlanWrite(ctx, st)
	return p.Actions, err
}

// Planned is a write statement's plan with what a careful front end shows beside it.
type Planned struct {
	// Actions are one per matched message and operation, in the order the statement matched
	// them; a message the statement means two operations for has two, in the order they run.
	Actions []mqsql.Action
	// Eligible is how many messages in the index the statement's change could apply to,
	// whatever its WHERE says: when every one of them is planned, the WHERE restricts nothing.
	Eligible int
	// Recipients are the addresses of each matched message, by its path.
	Recipients map[string][]string
}

// newValues is one distinct pair of values a statement's rows asked for.
type newValues struct{ queue, expire any }

// PlanWrite is Plan with the count of eligible messages and the matched messages' recipients.
func (g *Guard) PlanWrite(ctx context.Context, st Statement) (Planned, error) {
	var p Planned
	if st.Kind == Read {
		return p, fmt.Errorf("plan: %q is not a write statement", st.SQL)
	}
	if err := g.own(ctx, "DELETE FROM temp."+planTable); err != nil {
		return p, fmt.Errorf("plan: %w", err)
	}
	defer g.own(context.WithoutCancel(ctx), "DELETE FROM temp."+planTable)
	if err := st.exec(ctx); err != nil {
		return p, err
	}
	changes, err := g.planRows(ctx, st, &p)
	if err != nil {
		return p, err
	}
	if p.Eligible, err = g.eligible(ctx, st, changes); err != nil {
		return p, err
	}
	p.Recipients, err = g.planRecipients(ctx)
	return p, err
}

// planRows reads the plan table into p.Actions and returns the distinct changes asked for.
func (g *Guard) planRows(ctx context.Context, st Statement, p *Planned) ([]newValues, error) {
	rows, err := g.conn.QueryContext(ctx, `SELECT queue_id, queue, inode, arrival_time, path, coalesce(sender, ''),
		coalesce(subject, ''), forced_expire, new_queue, new_forced_expire FROM temp.`+planTable+` ORDER BY rowid`)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	defer rows.Close()
	var changes []newValues
	for rows.Next() {
		var t mqsql.Target
		var queue string
		var inode int64
		var expired bool
		var c newValues
		if err := rows.Scan(&t.QueueID, &queue, &inode, &t.ArrivalTime, &t.Path, &t.Sender, &t.Subject, &expired, &c.queue, &c.expire); err != nil {
			return nil, fmt.Errorf("plan: %w", err)
		}
		t.Queue, t.Inode = mqsql.Queue(queue), uint64(inode)
		as, err := decide(st, t, expired, c.queue, c.expire)
		if err != nil {
			return nil, err
		}
		p.Actions = append(p.Actions, as...)
		if b, ok := c.queue.([]byte); ok { // a blob would have been refused; keep the pair comparable
			c.queue = string(b)
		}
		if !slices.Contains(changes, c) {
			changes = append(changes, c)
		}
	}
	return changes, rows.Err()
}

// eligible counts the messages of the index that one of the statement's changes would act
// on, deciding for each queue and expiry state as for a matched row.
func (g *Guard) eligible(ctx context.Context, st Statement, changes []newValues) (int, error) {
	rows, err := g.query(ctx, `SELECT queue, forced_expire, count(*) FROM main.queue_files GROUP BY 1, 2`)
	if err != nil {
		return 0, fmt.Errorf("plan: count eligible messages: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var queue string
		var expired bool
		var count int
		if err := rows.Scan(&queue, &expired, &count); err != nil {
			return 0, fmt.Errorf("plan: count eligible messages: %w", err)
		}
		for _, c := range changes {
			if acts(st, mqsql.Queue(queue), expired, c) {
				n += count
				break
			}
		}
	}
	return n, rows.Err()
}

// acts reports whether the statement, asking for c, would act on a message in queue.
func acts(st Statement, queue mqsql.Queue, expired bool, c newValues) bool {
	as, err := decide(st, mqsql.Target{Queue: queue}, expired, c.queue, c.expire)
	if err != nil {
		return false
	}
	for _, a := range as {
		if a.Skip == "" {
			return true
		}
	}
	return false
}

// planRecipients returns the recipient addresses of the planned messages, by path.
func (g *Guard) planRecipients(ctx context.Context) (map[string][]string, error) {
	rows, err := g.query(ctx, `SELECT f.path, r.address FROM main.queue_files f
		JOIN main.queue_recipients r ON r.file_id = f.id
		WHERE f.path IN (SELECT path FROM temp.`+planTable+`) ORDER BY r.file_id, r.offset`)
	if err != nil {
		return nil, fmt.Errorf("plan: recipients: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var path, addr string
		if err := rows.Scan(&path, &addr); err != nil {
			return nil, fmt.Errorf("plan: recipients: %w", err)
		}
		out[path] = append(out[path], addr)
	}
	return out, rows.Err()
}

// TargetColumns are the columns of messages, the rows a write statement acts on: a WHERE that
// names none of them cannot tell one message from another.
func (g *Guard) TargetColumns(ctx context.Context) ([]string, error) {
	rows, err := g.query(ctx, `SELECT name FROM pragma_table_info('messages', 'main')`)
	if err != nil {
		return nil, fmt.Errorf("columns of messages: %w", err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("columns of messages: %w", err)
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// decide turns one matched row into actions: which operations the statement means for a
// message in this queue, in the order they are carried out, or why they do not apply. Every
// statement means one operation, except the one-statement expire (SET forced_expire = 1,
// queue = 'active'), which means two: expire, then deliver now.
func decide(st Statement, t mqsql.Target, expired bool, newQueue, newExpire any) ([]mqsql.Action, error) {
	a := mqsql.Action{Target: t}
	if st.Kind == Delete {
		a.Op = mqsql.OpDelete
		a.Skip = notForCorrupt(t.Queue)
		return []mqsql.Action{a}, nil
	}
	setsQueue, setsExpire := false, false
	for _, c := range st.Columns {
		setsQueue = setsQueue || c == "queue"
		setsExpire = setsExpire || c == "forced_expire"
	}
	var err error
	switch {
	case setsQueue && setsExpire:
		return decideExpireNow(a, expired, newQueue, newExpire)
	case setsExpire:
		a, err = decideExpire(a, expired, newExpire)
	default:
		a, err = decideMove(a, newQueue)
	}
	return []mqsql.Action{a}, err
}

// errExpireWith is the refusal of SET forced_expire = 1 with a queue other than 'active'.
const errExpireWith = "forced_expire = 1 can be set together with queue = 'active' only (expire and deliver now: postsuper -e, or -f for held mail, then postqueue -i), not with queue = %s; set either queue or forced_expire in one statement, not both"

// decideExpireNow plans the one-statement expire: postsuper -e (held mail: -f, which also
// releases it) and then postqueue -i, so that the queue manager returns the message to its
// sender at once instead of at the next retry. Mail already expired is only flushed; mail
// in active is only expired: it is being delivered, and is returned when that attempt ends.
func decideExpireNow(a mqsql.Action, expired bool, newQueue, newExpire any) ([]mqsql.Action, error) {
	if q, _ := newQueue.(string); q != string(mqsql.Active) {
		return nil, fmt.Errorf("%w: "+errExpireWith, ErrDenied, sqlValue(newQueue))
	}
	exp, err := decideExpire(a, expired, newExpire)
	if err != nil {
		return nil, err
	}
	flush := a
	flush.Op = mqsql.OpFlush
	switch a.Queue {
	case mqsql.Active:
		flush.Skip = "already in active: being delivered, it is returned to its sender when this attempt ends"
	case mqsql.Maildrop, mqsql.Corrupt:
		flush.Skip = exp.Skip
	}
	return []mqsql.Action{exp, flush}, nil
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

// SkipCorrupt is why a statement leaves mail in corrupt alone, in words true of every MTA. The
// write path says it in the driver's own words instead when its Operator is a
// mqsql.CorruptExplainer: only the driver knows what its corrupt files are and what to do
// with them.
const SkipCorrupt = "not queued mail: the MTA does not deliver these files, and mqsql leaves them alone (inspect and remove them by hand)"

func notForCorrupt(q mqsql.Queue) string {
	if q == mqsql.Corrupt {
		return SkipCorrupt
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

// query runs one of the guard's own queries, which the authorizer lets read anything.
func (g *Guard) query(ctx context.Context, q string) (rows *sql.Rows, err error) {
	g.internally(func() { rows, err = g.conn.QueryContext(ctx, q) })
	return rows, err
}
