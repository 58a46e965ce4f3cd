package write

import (
	"context"

	"github.com/mqsql/mqsql"
)

// backup copies every message the plan deletes, after checking it is still the planned file.
// Nothing is deleted unless every copy was written. A message that fails the check is taken
// out of the plan and returned as skipped: it may be back where it was by the time the
// delete runs (held and released meanwhile), and a message without a copy is never deleted.
func (w *Writer) backup(ctx context.Context, p *Plan) (mqsql.Backup, []mqsql.Outcome, error) {
	if w.NoBackup || !p.deletes() {
		return nil, nil, nil
	}
	b, err := w.Spool.BeginBackup(w.BackupBase, p.SQL, w.Clock.Now())
	if err != nil {
		return nil, nil, err
	}
	var notSaved []mqsql.Outcome
	for i := range p.Groups {
		g := &p.Groups[i]
		if g.Op != mqsql.OpDelete {
			continue
		}
		saved := g.Targets[:0:0]
		for _, t := range g.Targets {
			err := ctx.Err()
			if err == nil {
				if why := w.Spool.Check(t, true); why != "" {
					notSaved = append(notSaved, mqsql.Outcome{Action: mqsql.Action{Target: t, Op: g.Op}, Result: mqsql.Skipped, Detail: why})
					continue
				}
				err = b.Save(t)
			}
			if err != nil {
				b.Abandon()
				return b, nil, err
			}
			saved = append(saved, t)
		}
		g.Targets = saved
	}
	return b, notSaved, b.Close()
}
