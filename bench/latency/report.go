package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// percentile returns the p-th percentile (0..100) of sorted durations, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func (r result) rate() float64 {
	if r.stormTook <= 0 {
		return 0
	}
	return float64(r.stormMessages) / r.stormTook.Seconds()
}

func (r result) print() {
	fmt.Printf("  storm: %d messages in %v (%.0f msg/s accepted by smtpd); load average %s\n", r.stormMessages,
		r.stormTook.Round(time.Millisecond), r.rate(), r.load)
	fmt.Printf("  CPU of watcher+reader: %v (%.0f%% of one core)\n", r.cpu.Round(time.Millisecond), 100*r.cpu.Seconds()/r.stormTook.Seconds())
	fmt.Printf("  arrival:   n=%d p50=%s p99=%s max=%s (never seen: %d)\n", len(r.arrivals),
		ms(percentile(r.arrivals, 50)), ms(percentile(r.arrivals, 99)), ms(percentile(r.arrivals, 100)), r.unseen)
	fmt.Printf("  departure: n=%d p50=%s p99=%s max=%s (never gone: %d)\n", len(r.departures),
		ms(percentile(r.departures, 50)), ms(percentile(r.departures, 99)), ms(percentile(r.departures, 100)), r.notGone)
	pt := slices.Clone(r.postsuperTook)
	slices.Sort(pt)
	fmt.Printf("  postsuper -d itself took p50=%s\n", ms(percentile(pt, 50)))
	fmt.Printf("  watcher: %s, debounce %v, max delay %v; %d overflows, %d full passes, %d events\n", r.state.Mode,
		r.state.Debounce, r.state.MaxDelay, r.state.Overflows, r.state.Rescans, r.state.Changes)
	if len(r.diffs) == 0 {
		fmt.Printf("  after settling: index equals postqueue -j (%d messages)\n", r.queued)
	} else {
		fmt.Printf("  after settling: index DIFFERS from postqueue -j in %d of %d messages, e.g. %v\n", len(r.diffs), r.queued, r.diffs[:min(3, len(r.diffs))])
	}
}

// printMedians prints the median over runs of each figure.
func printMedians(rs []result) {
	med := func(f func(result) time.Duration) string {
		v := make([]time.Duration, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return ms(v[len(v)/2])
	}
	rates := make([]float64, len(rs))
	equal := 0
	for i, r := range rs {
		rates[i] = r.rate()
		if len(r.diffs) == 0 {
			equal++
		}
	}
	slices.Sort(rates)
	fmt.Printf("median of %d runs: storm %.0f msg/s; arrival p50 %s p99 %s; departure p50 %s p99 %s; index equal to postqueue -j in %d/%d runs\n",
		len(rs), rates[len(rates)/2],
		med(func(r result) time.Duration { return percentile(r.arrivals, 50) }),
		med(func(r result) time.Duration { return percentile(r.arrivals, 99) }),
		med(func(r result) time.Duration { return percentile(r.departures, 50) }),
		med(func(r result) time.Duration { return percentile(r.departures, 99) }),
		equal, len(rs))
}
