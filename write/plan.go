package write

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mqsql/mqsql"
)

// Plan is a statement's actions grouped the way they are carried out: one group per
// operation and queue.
type Plan struct {
	SQL string
	// Actions are every matched message, those the statement does not apply to included.
	Actions []mqsql.Action
	// Groups are the messages acted on, by operation and queue, in the order they run.
	Groups []Group
	// Eligible is how many messages in the index the statement could act on, whatever its
	// WHERE; All is true when the plan acts on every one of them.
	Eligible int
	All      bool
	// Recipients are each matched message's recipient addresses, by path.
	Recipients map[string][]string
}

// Group is the messages of one queue that one operation is applied to, in one Executor call.
type Group struct {
	Op      mqsql.Op
	Queue   mqsql.Queue
	Targets []mqsql.Target
}

func newPlan(actions []mqsql.Action) *Plan {
	p := &Plan{Actions: actions}
	idx := map[string]int{}
	for _, a := range actions {
		if a.Skip != "" {
			continue
		}
		key := string(a.Op) + "/" + string(a.Queue)
		i, ok := idx[key]
		if !ok {
			i = len(p.Groups)
			idx[key] = i
			p.Groups = append(p.Groups, Group{Op: a.Op, Queue: a.Queue})
		}
		p.Groups[i].Targets = append(p.Groups[i].Targets, a.Target)
	}
	sort.SliceStable(p.Groups, func(i, j int) bool {
		if p.Groups[i].Op != p.Groups[j].Op {
			return p.Groups[i].Op < p.Groups[j].Op
		}
		return p.Groups[i].Queue < p.Groups[j].Queue
	})
	return p
}

// Runnable is how many messages the plan acts on.
func (p *Plan) Runnable() int {
	n := 0
	for _, g := range p.Groups {
		n += len(g.Targets)
	}
	return n
}

// messages is how many distinct messages the plan acts on; a message can have two
// operations (expire, then flush).
func (p *Plan) messages() int {
	seen := map[targetKey]bool{}
	for _, g := range p.Groups {
		for _, t := range g.Targets {
			seen[keyOf(t)] = true
		}
	}
	return len(seen)
}

// skipped turns the actions that do not apply into outcomes, so they are reported too.
func (p *Plan) skipped() []mqsql.Outcome {
	var out []mqsql.Outcome
	for _, a := range p.Actions {
		if a.Skip != "" {
			out = append(out, mqsql.Outcome{Action: a, Result: mqsql.Skipped, Detail: a.Skip})
		}
	}
	return out
}

// deletes reports whether the plan deletes anything.
func (p *Plan) deletes() bool {
	for _, g := range p.Groups {
		if g.Op == mqsql.OpDelete && len(g.Targets) > 0 {
			return true
		}
	}
	return false
}

// hasDeletes reports whether the plan has a delete group, even one emptied by the backup.
func (p *Plan) hasDeletes() bool {
	for _, g := range p.Groups {
		if g.Op == mqsql.OpDelete {
			return true
		}
	}
	return false
}

// counts is the plan as the audit log records it: op -> queue -> messages.
func (p *Plan) counts() map[string]map[string]int {
	c := map[string]map[string]int{}
	for _, g := range p.Groups {
		if c[string(g.Op)] == nil {
			c[string(g.Op)] = map[string]int{}
		}
		c[string(g.Op)][string(g.Queue)] = len(g.Targets)
	}
	return c
}

// Question is what a front end asks before acting, e.g.
// "Delete 1,234 messages (deferred 1,200, hold 34)? [y/N] ".
func (p *Plan) Question() string {
	var parts []string
	for _, op := range p.ops() {
		parts = append(parts, p.opSummary(op))
	}
	return strings.Join(parts, "; ") + "? [y/N] "
}

// verbs names the plan's operations for messages: "delete", "hold and release".
func (p *Plan) verbs() string {
	var names []string
	for _, op := range p.ops() {
		names = append(names, strings.ToLower(op.Verb()))
	}
	return strings.Join(names, " and ")
}

func (p *Plan) ops() []mqsql.Op {
	var ops []mqsql.Op
	for _, g := range p.Groups {
		if len(ops) == 0 || ops[len(ops)-1] != g.Op {
			ops = append(ops, g.Op)
		}
	}
	return ops
}

// opSummary is "Delete 1,234 messages (deferred 1,200, hold 34)".
func (p *Plan) opSummary(op mqsql.Op) string {
	total := 0
	var per []string
	for _, g := range p.Groups {
		if g.Op == op {
			total += len(g.Targets)
			per = append(per, fmt.Sprintf("%s %s", g.Queue, thousands(len(g.Targets))))
		}
	}
	return fmt.Sprintf("%s %s %s (%s)", op.Verb(), thousands(total), plural(total, "message", "messages"), strings.Join(per, ", "))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// thousands formats n with commas, as the confirmation question shows counts.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
