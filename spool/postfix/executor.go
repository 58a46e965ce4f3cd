package postfix

import (
	"github.com/mqsql/mqsql"
)

// Executor carries out planned actions on a spool (mqsql.Executor). There are two: Postsuper,
// which has Postfix's own tools do the work on the live queue, and Direct, which does the same
// with file operations on a spool no Postfix runs on (an offline copy).
type Executor = mqsql.Executor

// batchSize is how many messages one postsuper run (or one check-then-act round) handles:
// small enough that the check stays close to the act, large enough to keep process starts
// off the bill for big deletes.
const batchSize = 500

// checkBatch splits targets into those still as planned and skip outcomes for the others.
func (s *Spool) checkBatch(op mqsql.Op, targets []mqsql.Target, includeActive bool) (ok []mqsql.Target, skipped []mqsql.Outcome) {
	for _, t := range targets {
		if why := s.Check(t, includeActive); why != "" {
			skipped = append(skipped, outcome(t, op, mqsql.Skipped, why))
			continue
		}
		ok = append(ok, t)
	}
	return ok, skipped
}

func outcome(t mqsql.Target, op mqsql.Op, r mqsql.Result, detail string) mqsql.Outcome {
	return mqsql.Outcome{Action: mqsql.Action{Target: t, Op: op}, Result: r, Detail: detail}
}

// interrupted reports the targets not reached because ctx ended.
func interrupted(op mqsql.Op, targets []mqsql.Target, err error) []mqsql.Outcome {
	out := make([]mqsql.Outcome, len(targets))
	for i, t := range targets {
		out[i] = outcome(t, op, mqsql.Skipped, "not reached: "+err.Error())
	}
	return out
}
