// Package measure holds what the bench commands share to report a run the same way: the
// wall and CPU time of a part, the median of runs, and a CPU profile around the part.
package measure

import (
	"os"
	"runtime/pprof"
	"slices"
	"syscall"
	"time"
)

// CPUTime is the user and system time this process has used, so that a bench can say how much
// of the machine a part took besides its wall time.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Timed runs fn and returns the wall and CPU seconds it took: the two figures every bench
// line reports.
func Timed(fn func()) (wall, cpu float64) {
	start, c0 := time.Now(), CPUTime()
	fn()
	return time.Since(start).Seconds(), (CPUTime() - c0).Seconds()
}

// Median is what the benches report of several runs, since one disturbed run moves it least.
// It sorts v.
func Median(v []float64) float64 {
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// StartProfile starts a CPU profile into path, so that a bench can say where the time of the
// part it measures goes, and returns what stops it.
func StartProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
