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
func (g *Guard) Plan(ctx context.Context, st Statement, m *mqsql.Meaning) ([]mqsql.Action, error) {
	p, err := g.PlanWrite(ctx, st, m)
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
// m is what the queue means to its MTA: which operations it has, from which queues.
func (g *Guard) PlanWrite(ctx context.Context, st Statement, m *mqsql.Meaning) (Planned, error) {
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
	changes, err := g.planRows(ctx, m, st, &p)
	if err != nil {
		return p, err
	}
	if p.Eligible, err = g.eligible(ctx, m, st, changes); err != nil {
		return p, err
	}
	p.Recipients, err = g.planRecipients(ctx)
	return p, err
}

// planRows reads the plan table into p.Actions and returns the distinct changes asked for.
func (g *Guard) planRows(ctx context.Context, m *mqsql.Meaning, st Statement, p *Planned) ([]newValues, error) {
	rows, err := g.conn.QueryContext(ctx, `SELECT queue_id, queue, inode, arrival_time, path, sender,
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
		as, err := decide(m, st, t, expired, c.queue, c.expire)
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
func (g *Guard) eligible(ctx context.Context, m *mqsql.Meaning, st Statement, changes []newValues) (int, error) {
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
			if acts(m, st, mqsql.Queue(queue), expired, c) {
				n += count
				break
			}
		}
	}
	return n, rows.Err()
}

// acts reports whether the statement, asking for c, would act on a message in queue.
func acts(m *mqsql.Meaning, st Statement, queue mqsql.Queue, expired bool, c newValues) bool {
	as, err := decide(m, st, mqsql.Target{Queue: queue}, expired, c.queue, c.expire)
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
// message in this queue on the MTA m describes, in the order they are carried out, or why
// they do not apply. Every statement means one operation, except the one-statement expire
// (SET forced_expire = 1, queue = 'active'), which means two: expire, then deliver now.
func decide(m *mqsql.Meaning, st Statement, t mqsql.Target, expired bool, newQueue, newExpire any) ([]mqsql.Action, error) {
	a := mqsql.Action{Target: t}
	if st.Kind == Delete {
		a.Op = mqsql.OpDelete
		a.Skip = notForCorrupt(m, t.Queue)
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
		return decideExpireNow(m, a, expired, newQueue, newExpire)
	case setsExpire:
		a, err = decideExpire(m, a, expired, newExpire)
	default:
		a, err = decideMove(m, a, newQueue)
	}
	return []mqsql.Action{a}, err
}

// errExpireWith is the refusal of SET forced_expire = 1 with a queue other than 'active'; the
// MTA's words say what the expire and deliver now runs.
const errExpireWith = "forced_expire = 1 can be set together with queue = 'active' only (expire and deliver now: %s), not with queue = %s; set either queue or forced_expire in one statement, not both"

// decideExpireNow plans the one-statement expire: the MTA's expire (Postfix: postsuper -e,
// held mail -f, which also releases it) and then its deliver now (postqueue -i), so that the
// message goes back to its sender at once instead of at the next retry. Mail already expired
// is only flushed; mail in active is only expired: it is being delivered, and is returned
// when that attempt ends. Where the expire itself returns the mail at once (Exim, Sendmail)
// it is the expire alone.
func decideExpireNow(m *mqsql.Meaning, a mqsql.Action, expired bool, newQueue, newExpire any) ([]mqsql.Action, error) {
	if q, _ := newQueue.(string); q != string(mqsql.Active) {
		return nil, fmt.Errorf("%w: "+errExpireWith, ErrDenied, m.ExpireNowSays, sqlValue(newQueue))
	}
	if _, ok := m.MoveTo(mqsql.Active); !ok {
		return nil, notOffered(m, mqsql.Active, mqsql.OpFlush, "")
	}
	exp, err := decideExpire(m, a, expired, newExpire)
	if err != nil {
		return nil, err
	}
	if m.ExpireReturnsAtOnce && exp.Skip == "" {
		return []mqsql.Action{exp}, nil // the expire is the delivery: a flush would find it gone
	}
	flush := a
	flush.Op = mqsql.OpFlush
	switch {
	case a.Queue == mqsql.Active:
		flush.Skip = "already in active: being delivered, it is returned to its sender when this attempt ends"
	case exp.Skip != "" && exp.Skip != alreadyExpired:
		flush.Skip = exp.Skip // not queued yet, or not mail: no delivery either
	}
	return []mqsql.Action{exp, flush}, nil
}

// alreadyExpired is why an expire skips mail expired before; the one-statement expire still
// delivers it now.
const alreadyExpired = "already expired"

func decideExpire(m *mqsql.Meaning, a mqsql.Action, expired bool, v any) (mqsql.Action, error) {
	if len(m.Expire) == 0 {
		return a, notOffered(m, "", mqsql.OpExpire, "")
	}
	if n, ok := v.(int64); !ok || n != 1 {
		return a, fmt.Errorf("%w: forced_expire can only be set to 1 (%s); got %v", ErrDenied, m.Expire[0].Says, sqlValue(v))
	}
	a.Op = m.Expire[0].Op
	mv, ok := m.ExpireFrom(a.Queue)
	switch {
	case ok:
		a.Op = mv.Op
		if expired {
			a.Skip = alreadyExpired
		}
	case m.ExpireSkips[a.Queue] != "":
		a.Skip = m.ExpireSkips[a.Queue]
	default:
		a.Skip = fmt.Sprintf("%s does not apply to mail in %s", a.Op, a.Queue)
	}
	if s := notForCorrupt(m, a.Queue); s != "" {
		a.Skip = s
	}
	return a, nil
}

func decideMove(m *mqsql.Meaning, a mqsql.Action, v any) (mqsql.Action, error) {
	s, _ := v.(string)
	to := mqsql.Queue(s)
	mv, ok := m.MoveTo(to)
	if !ok {
		if l, lacks := m.Lacking(to); lacks {
			return a, notOffered(m, to, l.Op, l.Why)
		}
		return a, fmt.Errorf("%w: queue can be set to %s; got %v", ErrDenied, m.Offers(), sqlValue(v))
	}
	a.Op = mv.Op
	switch {
	case a.Queue == to:
		a.Skip = "already in " + string(to)
	case !queueIn(a.Queue, mv.From):
		a.Skip = fmt.Sprintf("%s does not apply to mail in %s", mv.Op, a.Queue)
	}
	if s := notForCorrupt(m, a.Queue); s != "" {
		a.Skip = s
	}
	return a, nil
}

// NotOfferedError refuses a statement asking for an operation the MTA does not have, before
// anything is planned: it names the MTA and what it offers instead. It matches ErrDenied.
type NotOfferedError struct {
	MTA string
	Op  mqsql.Op
	// To is the queue value the statement asked for, "" for forced_expire.
	To mqsql.Queue
	// Why is the MTA's reason, "" when it gives none.
	Why string
	// Offers are the queue values the MTA can set, in its words (mqsql.Meaning.Offers).
	Offers string
}

func (e *NotOfferedError) Error() string {
	asked := "forced_expire = 1"
	if e.To != "" {
		asked = fmt.Sprintf("queue = '%s'", e.To)
	}
	why := ""
	if e.Why != "" {
		why = ": " + e.Why
	}
	return fmt.Sprintf("%v: %s has no %s (%s)%s; on %s, queue can be set to %s",
		ErrDenied, e.MTA, e.Op, asked, why, e.MTA, e.Offers)
}

// Unwrap makes the refusal match ErrDenied, as every statement the planner refuses does.
func (e *NotOfferedError) Unwrap() error { return ErrDenied }

func notOffered(m *mqsql.Meaning, to mqsql.Queue, op mqsql.Op, why string) error {
	return &NotOfferedError{MTA: m.MTA, Op: op, To: to, Why: why, Offers: m.Offers()}
}

// SkipCorrupt is why a statement leaves mail in corrupt alone when the MTA's Meaning gives
// no words of its own (CorruptSkip): words true of every MTA.
const SkipCorrupt = "not queued mail: the MTA does not deliver these files, and mqsql leaves them alone (inspect and remove them by hand)"

// notForCorrupt is why a statement leaves mail in q alone, "" unless q is corrupt.
func notForCorrupt(m *mqsql.Meaning, q mqsql.Queue) string {
	switch {
	case q != mqsql.Corrupt:
		return ""
	case m.CorruptSkip != "":
		return m.CorruptSkip
	}
	return SkipCorrupt
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
