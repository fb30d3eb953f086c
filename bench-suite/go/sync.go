package main

// The sync group: Go's sync package (and a buffered channel, Go's
// semaphore) in the shapes of bench-suite/src/sync_workloads.rs. Go has one
// Mutex for goroutines, so the async rows use the same calls as the
// blocking ones: a goroutine that waits for a sync.Mutex is Go's "task
// awaiting a lock".

import (
	"runtime"
	"sync"
	"time"
)

// Counts shared with bench-suite/src/sync_workloads.rs.
const (
	syncThreads      = 2    // THREADS
	fanInTasks       = 1000 // FAN_IN_TASKS
	writeEvery       = 20   // WRITE_EVERY
	semaphoreTasks   = 8    // SEMAPHORE_TASKS
	semaphorePermits = 2    // SEMAPHORE_PERMITS
	poolBuffer       = 4096 // POOL_BUFFER
	poolWrite        = 64   // POOL_WRITE
	mapKeys          = 1024 // MAP_KEYS
	mapStoreEvery    = 100  // MAP_STORE_EVERY
)

// sink keeps the results of reads alive so the compiler cannot drop them.
var sink uint64

// onGoroutines runs body(t, share) on syncThreads goroutines started
// together and returns the span from the first start to the last end.
func onGoroutines(ops uint64, body func(t, n uint64)) time.Duration {
	var jobs []job
	for t := uint64(0); t < syncThreads; t++ {
		t, n := t, share(ops, t, syncThreads)
		jobs = append(jobs, func() uint64 {
			body(t, n)
			return 0
		})
	}
	elapsed, _ := timedJobs(jobs)
	return elapsed
}

// mutexUncontended: lock, increment, unlock on one goroutine.
func mutexUncontended(ops uint64) time.Duration {
	var mu sync.Mutex
	var count uint64
	begun := time.Now()
	for i := uint64(0); i < ops; i++ {
		mu.Lock()
		count++
		mu.Unlock()
	}
	elapsed := time.Since(begun)
	checkCount("mutex", count, ops)
	return elapsed
}

// mutexContended: two goroutines lock, increment one counter and unlock.
func mutexContended(ops uint64) time.Duration {
	var mu sync.Mutex
	var count uint64
	elapsed := onGoroutines(ops, func(_, n uint64) {
		for i := uint64(0); i < n; i++ {
			mu.Lock()
			count++
			mu.Unlock()
		}
	})
	checkCount("mutex", count, ops)
	return elapsed
}

// rwMutexReadMostly: two goroutines share a 4-word array; each 20th
// operation of each is a write, the others read two words.
func rwMutexReadMostly(ops uint64) time.Duration {
	var rw sync.RWMutex
	var data [4]uint64
	var reads [syncThreads]uint64
	elapsed := onGoroutines(ops, func(t, n uint64) {
		var local uint64
		for i := uint64(0); i < n; i++ {
			if i%writeEvery == writeEvery-1 {
				rw.Lock()
				data[0]++
				rw.Unlock()
			} else {
				rw.RLock()
				local += data[0] + data[3]
				rw.RUnlock()
			}
		}
		reads[t] = local
	})
	sink += reads[0] + reads[1]
	var writes uint64
	for t := uint64(0); t < syncThreads; t++ {
		writes += share(ops, t, syncThreads) / writeEvery
	}
	checkCount("write", data[0], writes)
	return elapsed
}

// waitGroupFanIn: ops rounds; in each, the calling goroutine adds
// fanInTasks to a WaitGroup, hands each of two persistent worker
// goroutines its share of the Done calls (one channel message each) and
// waits.
func waitGroupFanIn(ops uint64) time.Duration {
	var wg sync.WaitGroup
	var workers [syncThreads]chan uint64
	for w := range workers {
		workers[w] = make(chan uint64)
		go func(jobs chan uint64) {
			for tasks := range jobs {
				for i := uint64(0); i < tasks; i++ {
					wg.Done()
				}
			}
		}(workers[w])
	}
	round := func() {
		wg.Add(fanInTasks)
		for w := range workers {
			workers[w] <- share(fanInTasks, uint64(w), syncThreads)
		}
		wg.Wait()
	}
	round()
	begun := time.Now()
	for i := uint64(0); i < ops; i++ {
		round()
	}
	elapsed := time.Since(begun)
	for _, jobs := range workers {
		close(jobs)
	}
	return elapsed
}

// semaphoreUncontended: Go's semaphore idiom, a buffered channel of one
// slot; acquire is a send, release a receive.
func semaphoreUncontended(ops uint64) time.Duration {
	sem := make(chan struct{}, 1)
	begun := time.Now()
	for i := uint64(0); i < ops; i++ {
		sem <- struct{}{}
		<-sem
	}
	elapsed := time.Since(begun)
	checkCount("free slot", uint64(cap(sem)-len(sem)), 1)
	return elapsed
}

// semaphoreContended: semaphoreTasks goroutines share a buffered channel
// of semaphorePermits slots, each holding a slot across one
// runtime.Gosched; from the first start to the last end.
func semaphoreContended(ops uint64) time.Duration {
	sem := make(chan struct{}, semaphorePermits)
	var wg sync.WaitGroup
	wg.Add(semaphoreTasks)
	begun := time.Now()
	for t := uint64(0); t < semaphoreTasks; t++ {
		n := share(ops, t, semaphoreTasks)
		go func() {
			for i := uint64(0); i < n; i++ {
				sem <- struct{}{}
				runtime.Gosched()
				<-sem
			}
			wg.Done()
		}()
	}
	wg.Wait()
	elapsed := time.Since(begun)
	checkCount("free slot", uint64(cap(sem)-len(sem)), semaphorePermits)
	return elapsed
}

// The lazily initialised value of onceCellGet and its Once.
var (
	cellOnce  sync.Once
	cellValue uint64
)

func initCell() { cellValue = 42 }

// cellGet is Go's lazily initialised value (before Go 1.21's OnceValue):
// a Once guarding a package variable.
func cellGet() uint64 {
	cellOnce.Do(initCell)
	return cellValue
}

// onceCellGet: reads of an initialised lazy value.
func onceCellGet(ops uint64) time.Duration {
	cellGet()
	var sum uint64
	begun := time.Now()
	for i := uint64(0); i < ops; i++ {
		sum += cellGet()
	}
	elapsed := time.Since(begun)
	checkCount("sum", sum, 42*ops)
	return elapsed
}

var doneOnce sync.Once

func nothing() {}

func mustNotRun() { fail("a completed Once ran its function again") }

// onceCallDone: Do on a Once that has already run.
func onceCallDone(ops uint64) time.Duration {
	doneOnce.Do(nothing)
	begun := time.Now()
	for i := uint64(0); i < ops; i++ {
		doneOnce.Do(mustNotRun)
	}
	return time.Since(begun)
}

// checkCount stops the program if a workload did not do all its work.
// poolGetPut: two goroutines each take a 4 KiB buffer from one sync.Pool,
// write 64 bytes into it, empty it and put it back. The pool holds
// *[]byte, Go's idiom: a slice itself would be boxed (allocated) at every
// Put.
func poolGetPut(ops uint64) time.Duration {
	pool := sync.Pool{New: func() any {
		b := make([]byte, 0, poolBuffer)
		return &b
	}}
	var chunk [poolWrite]byte
	for i := range chunk {
		chunk[i] = 7
	}
	var mu sync.Mutex
	var sum uint64
	elapsed := onGoroutines(ops, func(_, n uint64) {
		var s uint64
		for i := uint64(0); i < n; i++ {
			b := pool.Get().(*[]byte)
			*b = append(*b, chunk[:]...)
			s += uint64((*b)[poolWrite-1])
			*b = (*b)[:0]
			pool.Put(b)
		}
		mu.Lock()
		sum += s
		mu.Unlock()
	})
	checkCount("pool bytes", sum, 7*ops)
	return elapsed
}

// keyDraw is thread t's key sequence, the same xorshift as KeyDraw in
// sync_workloads.rs: (state >> 16) % mapKeys is the key, state the
// operation's draw.
type keyDraw uint64

func newKeyDraw(t uint64) keyDraw { return keyDraw(0x9e3779b97f4a7c15 * (t + 1)) }

func (d *keyDraw) next() (uint64, uint64) {
	x := uint64(*d)
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	*d = keyDraw(x)
	return (x >> 16) % mapKeys, x
}

// fullMap returns a sync.Map holding every key with itself as its value,
// loaded once (so its keys are in the read table, as in a long-lived map),
// and the keys boxed beforehand: the workloads measure the map, not the
// conversion of a uint64 to an interface.
func fullMap() (*sync.Map, []any) {
	var m sync.Map
	keys := make([]any, mapKeys)
	for k := range keys {
		keys[k] = uint64(k)
		m.Store(keys[k], keys[k])
	}
	for _, k := range keys {
		m.Load(k)
	}
	return &m, keys
}

// mapReadMostly: two goroutines load keys of a sync.Map, storing one in
// mapStoreEvery; every load must hit.
func mapReadMostly(ops uint64) time.Duration {
	m, keys := fullMap()
	var mu sync.Mutex
	var loads uint64
	elapsed := onGoroutines(ops, func(t, n uint64) {
		d := newKeyDraw(t)
		var hits, misses uint64
		for i := uint64(0); i < n; i++ {
			k, x := d.next()
			if x%mapStoreEvery == 0 {
				m.Store(keys[k], keys[k])
			} else if v, ok := m.Load(keys[k]); ok && v.(uint64) == k {
				hits++
			} else {
				misses++
			}
		}
		if misses != 0 {
			fail("a load missed a key that is always present")
		}
		mu.Lock()
		loads += hits
		mu.Unlock()
	})
	if loads < ops/2 {
		fail("only %d of %d operations were loads", loads, ops)
	}
	return elapsed
}

// mapWriteHeavy: two goroutines store (half), delete (a quarter) and load
// (a quarter) keys of a sync.Map.
func mapWriteHeavy(ops uint64) time.Duration {
	m, keys := fullMap()
	var mu sync.Mutex
	var done uint64
	elapsed := onGoroutines(ops, func(t, n uint64) {
		d := newKeyDraw(t)
		var count uint64
		for i := uint64(0); i < n; i++ {
			k, x := d.next()
			switch x % 4 {
			case 0:
				if v, ok := m.Load(keys[k]); ok && v.(uint64) != k {
					fail("a load returned another key's value")
				}
			case 1, 2:
				m.Store(keys[k], keys[k])
			default:
				m.Delete(keys[k])
			}
			count++
		}
		mu.Lock()
		done += count
		mu.Unlock()
	})
	checkCount("map operations", done, ops)
	return elapsed
}

func checkCount(what string, got, want uint64) {
	if got != want {
		fail("%s count %d, expected %d", what, got, want)
	}
}

// addSyncWorkloads registers the sync group's Go entries in w.
func addSyncWorkloads(w map[string]workload) {
	w["sync/mutex_uncontended"] = mutexUncontended
	w["sync/mutex_async_uncontended"] = mutexUncontended
	w["sync/mutex_contended"] = mutexContended
	w["sync/rwmutex_read_mostly"] = rwMutexReadMostly
	w["sync/waitgroup_fan_in"] = waitGroupFanIn
	w["sync/semaphore_uncontended"] = semaphoreUncontended
	w["sync/semaphore_contended"] = semaphoreContended
	w["sync/once_cell_get"] = onceCellGet
	w["sync/once_call_done"] = onceCallDone
	w["sync/pool_get_put"] = poolGetPut
	w["sync/map_read_mostly"] = mapReadMostly
	w["sync/map_write_heavy"] = mapWriteHeavy
}
