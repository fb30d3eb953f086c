// Command hoarebench runs the Go side of hoare-bench: the channel, sync and
// scheduler workloads of bench-suite, written with goroutines, Go channels,
// select and the sync package, with the same shapes and counts as the Rust
// workloads of the same name (bench-suite/src/chan_workloads.rs in chan.go,
// sync_workloads.rs in sync.go, sched_workloads.rs here).
//
// hoare-bench builds this program and runs it once per sample:
//
//	hoarebench list                 one workload id per line
//	hoarebench run <id> <ops>       performs <ops> operations of workload <id>
//	                                and prints "elapsed_ns <n>"
//	hoarebench idle <tasks> shared  bytes per goroutine blocked on one shared
//	                                channel: prints "idle_bytes <bytes>"
//	hoarebench idle <tasks> own     the same, each on its own channel
//
// GOMAXPROCS is set by the caller (the worker count of the Rust runtimes).
// Before the clock starts, each run does one untimed warm-up of the same
// workload (one round, or a few thousand messages), so that goroutine
// stacks and channel buffers come from Go's caches as the Rust side's
// allocations come from a warm allocator. Every run checks its result (all
// messages received with the right sum, every goroutine finished) and
// exits with status 1 and a message on stderr when a check fails.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Counts shared with the Rust workloads (sched_workloads.rs, chan_workloads.rs).
const (
	numSpawn       = 10_000 // spawn_many_*
	yieldTasks     = 200    // yield_many
	numYield       = 1_000  // yield_many
	numPings       = 1_000  // ping_pong
	chain          = 1_000  // chained_spawn
	asyncCap       = 1_000  // the buffered flavor of the channel rows
	asyncProducers = 4      // mpsc and mpmc producers
	asyncConsumers = 4      // mpmc consumers
)

// A workload performs ops operations and returns the time they took.
type workload func(ops uint64) time.Duration

// Warm-up size of the message workloads.
const warmMessages = 4_096

// rounds wraps a workload whose operation is a whole round: one untimed
// round, then ops timed ones.
func rounds(round func()) workload {
	return func(ops uint64) time.Duration {
		round()
		begun := time.Now()
		for i := uint64(0); i < ops; i++ {
			round()
		}
		return time.Since(begun)
	}
}

// messages wraps a workload whose operation is one message: an untimed
// run of warmMessages, then the timed one.
func messages(run func(ops uint64) time.Duration) workload {
	return func(ops uint64) time.Duration {
		run(warmMessages)
		return run(ops)
	}
}

func workloads() map[string]workload {
	w := map[string]workload{
		"sched/spawn_many_local":       rounds(spawnManyLocal),
		"sched/spawn_many_remote_idle": rounds(spawnManyRemoteIdle),
		"sched/yield_many":             rounds(yieldMany),
		"sched/ping_pong":              rounds(pingPong),
		"sched/chained_spawn":          rounds(chainedSpawn),
		"sched/echo_tcp":               echoTCP,
	}
	// Go has no unbounded channel: the unbounded rows have no Go entry.
	for _, f := range []struct {
		name string
		cap  int
	}{{"bounded0", 0}, {"bounded1", 1}, {"bounded1000", asyncCap}} {
		c := f.cap
		w["sched/async_spsc_"+f.name] = messages(func(ops uint64) time.Duration {
			return manyToMany(ops, 1, 1, c)
		})
		w["sched/async_mpsc_"+f.name] = messages(func(ops uint64) time.Duration {
			return manyToMany(ops, asyncProducers, 1, c)
		})
		w["sched/async_mpmc_"+f.name] = messages(func(ops uint64) time.Duration {
			return manyToMany(ops, asyncProducers, asyncConsumers, c)
		})
		w["sched/async_ping_pong_"+f.name] = messages(func(ops uint64) time.Duration {
			return channelPingPong(ops, c)
		})
	}
	addChanWorkloads(w)
	addSyncWorkloads(w)
	return w
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "hoarebench: "+format+"\n", args...)
	os.Exit(1)
}

// ---------------------------------------------------------------------------
// tokio's scheduler shapes

// spawnManyLocal: one goroutine starts numSpawn goroutines that each send
// one message; the calling goroutine receives them all. The channel holds
// numSpawn values, so no sender waits (the Rust side uses an unbounded
// channel).
func spawnManyLocal() {
	done := make(chan struct{}, numSpawn)
	go func() {
		for i := 0; i < numSpawn; i++ {
			go func() { done <- struct{}{} }()
		}
	}()
	for i := 0; i < numSpawn; i++ {
		<-done
	}
}

// spawnManyRemoteIdle: the calling goroutine starts numSpawn empty
// goroutines and waits for all of them (a WaitGroup: Go's join).
func spawnManyRemoteIdle() {
	var wg sync.WaitGroup
	wg.Add(numSpawn)
	for i := 0; i < numSpawn; i++ {
		go func() { wg.Done() }()
	}
	wg.Wait()
}

// yieldMany: yieldTasks goroutines each yield numYield times.
func yieldMany() {
	var wg sync.WaitGroup
	wg.Add(yieldTasks)
	for i := 0; i < yieldTasks; i++ {
		go func() {
			for j := 0; j < numYield; j++ {
				runtime.Gosched()
			}
			wg.Done()
		}()
	}
	wg.Wait()
}

// pingPong: one goroutine starts numPings goroutines; each starts a partner
// and exchanges one message each way with it over two channels of capacity
// 1 (a oneshot's shape); the last pair to finish signals the caller.
func pingPong() {
	done := make(chan struct{})
	var remaining int64 = numPings
	go func() {
		for i := 0; i < numPings; i++ {
			go func() {
				ping := make(chan struct{}, 1)
				pong := make(chan struct{}, 1)
				go func() {
					<-ping
					pong <- struct{}{}
				}()
				ping <- struct{}{}
				<-pong
				if atomic.AddInt64(&remaining, -1) == 0 {
					done <- struct{}{}
				}
			}()
		}
	}()
	<-done
}

// chainedSpawn: each goroutine starts the next, chain deep; the last one
// signals the caller.
func chainedSpawn() {
	done := make(chan struct{})
	var link func(left int)
	link = func(left int) {
		if left == 0 {
			done <- struct{}{}
			return
		}
		go link(left - 1)
	}
	go link(chain - 1)
	<-done
}

// ---------------------------------------------------------------------------
// Channels between goroutines

// share is producer p's part of ops messages over parts producers.
func share(ops uint64, p, parts uint64) uint64 {
	n := ops / parts
	if p < ops%parts {
		n++
	}
	return n
}

// manyToMany: producers goroutines send 0..share each on one channel of
// capacity c; consumers goroutines receive ops messages in total. The clock
// runs from the first goroutine start to the last message received; the
// sum of the received values is checked.
func manyToMany(ops uint64, producers, consumers uint64, c int) time.Duration {
	ch := make(chan uint64, c)
	var expected uint64
	for p := uint64(0); p < producers; p++ {
		n := share(ops, p, producers)
		if n > 0 {
			expected += n * (n - 1) / 2
		}
	}
	var sum uint64
	var wg sync.WaitGroup
	wg.Add(int(consumers))
	begun := time.Now()
	for k := uint64(0); k < consumers; k++ {
		n := share(ops, k, consumers)
		go func() {
			var s uint64
			for i := uint64(0); i < n; i++ {
				s += <-ch
			}
			atomic.AddUint64(&sum, s)
			wg.Done()
		}()
	}
	for p := uint64(0); p < producers; p++ {
		n := share(ops, p, producers)
		go func() {
			for i := uint64(0); i < n; i++ {
				ch <- i
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(begun)
	if sum != expected {
		fail("received sum %d, sent %d", sum, expected)
	}
	return elapsed
}

// channelPingPong: two goroutines bounce one value over two channels of
// capacity c, ops round trips.
func channelPingPong(ops uint64, c int) time.Duration {
	ping := make(chan uint64, c)
	pong := make(chan uint64, c)
	begun := time.Now()
	go func() {
		for v := range ping {
			pong <- v + 1
		}
	}()
	var v uint64
	for i := uint64(0); i < ops; i++ {
		ping <- v
		v = <-pong
	}
	elapsed := time.Since(begun)
	close(ping)
	if v != ops {
		fail("ping-pong ended at %d after %d round trips", v, ops)
	}
	return elapsed
}

// ---------------------------------------------------------------------------
// Bytes per idle goroutine

// idleBytes starts tasks goroutines, each blocked in a receive, and returns
// the growth of the bytes the Go runtime holds from the OS
// (runtime.MemStats.Sys) per goroutine. With shared set, every goroutine
// waits on one channel (the scheduler's cost: the goroutine, its stack and
// its wait record); otherwise each waits on its own unbuffered channel,
// made before the count starts.
func idleBytes(tasks int, shared bool) float64 {
	one := make(chan struct{})
	own := make([]chan struct{}, tasks)
	if !shared {
		for i := range own {
			own[i] = make(chan struct{})
		}
	}
	var started, finished sync.WaitGroup
	started.Add(tasks)
	finished.Add(tasks)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < tasks; i++ {
		ch := one
		if !shared {
			ch = own[i]
		}
		go func() {
			started.Done()
			<-ch
			finished.Done()
		}()
	}
	started.Wait()
	runtime.ReadMemStats(&after)
	if shared {
		close(one)
	} else {
		for _, ch := range own {
			close(ch)
		}
	}
	finished.Wait()
	return float64(after.Sys-before.Sys) / float64(tasks)
}

func main() {
	usage := "usage: hoarebench list | run <id> <ops> | idle <tasks> shared|own"
	if len(os.Args) < 2 {
		fail("%s", usage)
	}
	all := workloads()
	switch os.Args[1] {
	case "list":
		ids := make([]string, 0, len(all))
		for id := range all {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			fmt.Println(id)
		}
	case "run":
		if len(os.Args) != 4 {
			fail("%s", usage)
		}
		w, ok := all[os.Args[2]]
		if !ok {
			fail("no workload %q (see hoarebench list)", os.Args[2])
		}
		ops, err := strconv.ParseUint(os.Args[3], 10, 64)
		if err != nil {
			fail("bad operation count %q: %v", os.Args[3], err)
		}
		fmt.Printf("elapsed_ns %d\n", w(ops).Nanoseconds())
	case "idle":
		// One measurement per process: the goroutines a first one freed
		// would be reused by a second, which would then count nothing.
		if len(os.Args) != 4 || (os.Args[3] != "shared" && os.Args[3] != "own") {
			fail("%s", usage)
		}
		tasks, err := strconv.Atoi(os.Args[2])
		if err != nil || tasks <= 0 {
			fail("bad task count %q", os.Args[2])
		}
		fmt.Printf("idle_bytes %.1f\n", idleBytes(tasks, os.Args[3] == "shared"))
	default:
		fail("%s", usage)
	}
}
