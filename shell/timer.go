package shell

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// timing is the clock and the process's CPU time when a statement started.
type timing struct {
	on    bool
	start time.Time
	usage unix.Rusage
}

func (s *Session) startTimer() timing {
	if !s.timer {
		return timing{}
	}
	t := timing{on: true, start: time.Now()}
	unix.Getrusage(unix.RUSAGE_SELF, &t.usage)
	return t
}

// stopTimer prints the run time of a statement the way sqlite3's .timer does, on the screen
// even when results go to a file, so that the file holds only results.
func (s *Session) stopTimer(t timing) {
	if !t.on {
		return
	}
	var now unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &now)
	fmt.Fprintf(s.screen(), "Run Time: real %.3f user %f sys %f\n", time.Since(t.start).Seconds(),
		seconds(now.Utime)-seconds(t.usage.Utime), seconds(now.Stime)-seconds(t.usage.Stime))
}

func seconds(tv unix.Timeval) float64 {
	return float64(tv.Sec) + float64(tv.Usec)/1e6
}
