package main

// The chan group: crossbeam-channel's thread workloads (seq, spsc, mpsc,
// mpmc, select_rx, select_both), ping-pong, the async rows, the pinned
// repeats and the oversubscribed mpmc, written the way a Go programmer
// writes them: goroutines where the Rust side has threads or tasks, Go
// channels, and select statements. Go has no unbounded channel, so the
// unbounded rows have no Go entry; bounded(N) is make(chan uint64, N) with
// N the messages of the run, as on the Rust side.

import (
	"time"
)

// Counts shared with bench-suite/src/chan_workloads.rs.
const (
	chanThreads   = 4 // THREADS: producers (and consumers) of the shapes
	oversubscribe = 8 // OVERSUBSCRIBED
	selectWidth   = 4 // SELECT_WIDTH: channels of the select shapes
)

// job is one goroutine's part of a timed run; it returns its checksum (the
// sum of the values it received, 0 for a producer).
type job func() uint64

// timedJobs runs every job on its own goroutine, releases them together
// once all are started, and returns the span from the first job's start to
// the last job's end with the sum of their checksums: the Rust side's
// `timed`, with goroutines for threads.
func timedJobs(jobs []job) (time.Duration, uint64) {
	type span struct {
		begun, ended time.Time
		sum          uint64
	}
	start := make(chan struct{})
	spans := make(chan span, len(jobs))
	for _, j := range jobs {
		j := j
		go func() {
			<-start
			begun := time.Now()
			sum := j()
			spans <- span{begun, time.Now(), sum}
		}()
	}
	close(start)
	var first, last time.Time
	var total uint64
	for i := range jobs {
		s := <-spans
		if i == 0 || s.begun.Before(first) {
			first = s.begun
		}
		if i == 0 || s.ended.After(last) {
			last = s.ended
		}
		total += s.sum
	}
	return last.Sub(first), total
}

// expectedSum is the sum of all values producers producers send for ops
// messages, each sending 0..its share.
func expectedSum(ops, producers uint64) uint64 {
	var sum uint64
	for p := uint64(0); p < producers; p++ {
		n := share(ops, p, producers)
		if n > 0 {
			sum += n * (n - 1) / 2
		}
	}
	return sum
}

// check stops the program if a run lost or duplicated a message.
func check(sum, expected uint64) {
	if sum != expected {
		fail("received sum %d, sent %d", sum, expected)
	}
}

// produce returns a job that sends 0..n on ch.
func produce(ch chan<- uint64, n uint64) job {
	return func() uint64 {
		for i := uint64(0); i < n; i++ {
			ch <- i
		}
		return 0
	}
}

// consume returns a job that receives n values from ch and sums them.
func consume(ch <-chan uint64, n uint64) job {
	return func() uint64 {
		var sum uint64
		for i := uint64(0); i < n; i++ {
			sum += <-ch
		}
		return sum
	}
}

// capacity is a flavor's channel capacity for a run of ops messages:
// fixed, or (n < 0) the messages of the run.
func capacity(c int, ops uint64) int {
	if c < 0 {
		return int(ops)
	}
	return c
}

// seqRun: one goroutine sends all ops messages into a channel of capacity
// ops, then receives them all.
func seqRun(ops uint64) time.Duration {
	ch := make(chan uint64, ops)
	begun := time.Now()
	produce(ch, ops)()
	sum := consume(ch, ops)()
	elapsed := time.Since(begun)
	check(sum, expectedSum(ops, 1))
	return elapsed
}

// threadsManyToMany: producers goroutines send their shares on one channel
// of capacity c, consumers goroutines receive theirs; started together.
func threadsManyToMany(ops, producers, consumers uint64, c int) time.Duration {
	ch := make(chan uint64, capacity(c, ops))
	var jobs []job
	for p := uint64(0); p < producers; p++ {
		jobs = append(jobs, produce(ch, share(ops, p, producers)))
	}
	for k := uint64(0); k < consumers; k++ {
		jobs = append(jobs, consume(ch, share(ops, k, consumers)))
	}
	elapsed, sum := timedJobs(jobs)
	check(sum, expectedSum(ops, producers))
	return elapsed
}

// selectChannels makes the selectWidth channels of the select shapes.
func selectChannels(c int) [selectWidth]chan uint64 {
	var chs [selectWidth]chan uint64
	for i := range chs {
		chs[i] = make(chan uint64, c)
	}
	return chs
}

// receiveAny receives one value from whichever of the channels is ready.
func receiveAny(chs *[selectWidth]chan uint64) uint64 {
	select {
	case v := <-chs[0]:
		return v
	case v := <-chs[1]:
		return v
	case v := <-chs[2]:
		return v
	case v := <-chs[3]:
		return v
	}
}

// selectConsume returns a job that receives n values through receiveAny
// and sums them.
func selectConsume(chs *[selectWidth]chan uint64, n uint64) job {
	return func() uint64 {
		var sum uint64
		for i := uint64(0); i < n; i++ {
			sum += receiveAny(chs)
		}
		return sum
	}
}

// selectRx: producer p sends its share on channel p; one goroutine receives
// every message with a select over the four channels.
func selectRx(ops uint64, c int) time.Duration {
	chs := selectChannels(capacity(c, ops))
	var jobs []job
	for p := range chs {
		jobs = append(jobs, produce(chs[p], share(ops, uint64(p), selectWidth)))
	}
	jobs = append(jobs, selectConsume(&chs, ops))
	elapsed, sum := timedJobs(jobs)
	check(sum, expectedSum(ops, selectWidth))
	return elapsed
}

// selectBoth: chanThreads goroutines send with a select over the four
// channels, as many receive with a select over them.
func selectBoth(ops uint64, c int) time.Duration {
	chs := selectChannels(capacity(c, ops))
	var jobs []job
	for p := uint64(0); p < chanThreads; p++ {
		n := share(ops, p, chanThreads)
		jobs = append(jobs, func() uint64 {
			for i := uint64(0); i < n; i++ {
				select {
				case chs[0] <- i:
				case chs[1] <- i:
				case chs[2] <- i:
				case chs[3] <- i:
				}
			}
			return 0
		})
	}
	for k := uint64(0); k < chanThreads; k++ {
		jobs = append(jobs, selectConsume(&chs, share(ops, k, chanThreads)))
	}
	elapsed, sum := timedJobs(jobs)
	check(sum, expectedSum(ops, chanThreads))
	return elapsed
}

// threadPingPong: ops round trips of a value over two unbuffered channels
// between two goroutines started together.
func threadPingPong(ops uint64) time.Duration {
	ping := make(chan uint64)
	pong := make(chan uint64)
	elapsed, sum := timedJobs([]job{
		func() uint64 {
			var sum uint64
			for i := uint64(0); i < ops; i++ {
				ping <- i
				sum += <-pong
			}
			return sum
		},
		func() uint64 {
			for i := uint64(0); i < ops; i++ {
				pong <- <-ping
			}
			return 0
		},
	})
	check(sum, expectedSum(ops, 1))
	return elapsed
}

// addChanWorkloads registers the chan group's Go entries in w.
func addChanWorkloads(w map[string]workload) {
	w["chan/seq_bounded_n"] = messages(seqRun)
	w["chan/ping_pong"] = messages(threadPingPong)
	// A capacity below zero stands for N, the messages of the run.
	for _, f := range []struct {
		name string
		cap  int
	}{{"bounded0", 0}, {"bounded1", 1}, {"bounded_n", -1}} {
		c := f.cap
		fan := func(producers, consumers uint64) workload {
			return messages(func(ops uint64) time.Duration {
				return threadsManyToMany(ops, producers, consumers, c)
			})
		}
		w["chan/spsc_"+f.name] = fan(1, 1)
		w["chan/mpsc_"+f.name] = fan(chanThreads, 1)
		w["chan/mpmc_"+f.name] = fan(chanThreads, chanThreads)
		// The pinned entries run the same code in a process confined to
		// one core (hoare-bench runs them with GOMAXPROCS=1, Go's own
		// choice there).
		w["chan/pinned_spsc_"+f.name] = fan(1, 1)
		w["chan/pinned_mpsc_"+f.name] = fan(chanThreads, 1)
		w["chan/pinned_mpmc_"+f.name] = fan(chanThreads, chanThreads)
		w["chan/oversub_mpmc_"+f.name] = fan(oversubscribe, oversubscribe)
		w["chan/select_rx_"+f.name] = messages(func(ops uint64) time.Duration {
			return selectRx(ops, c)
		})
		w["chan/select_both_"+f.name] = messages(func(ops uint64) time.Duration {
			return selectBoth(ops, c)
		})
	}
	// The async rows: goroutines are Go's tasks, so these are the
	// goroutine-channel shapes of the sched group on the chan rows' ids.
	for _, f := range []struct {
		name string
		cap  int
	}{{"bounded1", 1}, {"bounded1000", asyncCap}} {
		c := f.cap
		w["chan/async_spsc_"+f.name] = messages(func(ops uint64) time.Duration {
			return manyToMany(ops, 1, 1, c)
		})
		w["chan/async_mpsc_"+f.name] = messages(func(ops uint64) time.Duration {
			return manyToMany(ops, asyncProducers, 1, c)
		})
	}
}
