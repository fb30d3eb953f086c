//! Workloads for hoare-sync against std, parking_lot, crossbeam-utils and
//! tokio::sync.
//!
//! Every scenario is sized for the 2-core machines this project runs on:
//! contended workloads use exactly [`THREADS`] = 2 threads (or 2 runtime
//! workers), so each thread has a core and the numbers measure the
//! primitive, not the OS scheduler's time slicing.
//!
//! Timing rules, shared by all workloads (see [`crate::workload`]):
//!
//! * setup (threads, runtimes, initialised cells) is outside the timed span;
//! * multi-threaded spans run from the earliest thread start to the latest
//!   thread end, each thread reading the clock itself after a start barrier;
//! * each workload checks afterwards that it did all its operations (a lock
//!   counter equals `ops`), so a broken peer cannot look fast.
//!
//! Go's entries (`bench-suite/go/sync.go`, see [`crate::go`]) use Go's
//! `sync` package with goroutines for threads and tasks: `sync.Mutex` for
//! both mutex rows (Go has one mutex for goroutines), `sync.RWMutex`,
//! `sync.WaitGroup`, a buffered channel for the semaphore (Go's idiom), and
//! `sync.Once` guarding a package variable for the once-cell (Go 1.19 has no
//! `OnceValue`).
//!
//! Peers that have no counterpart for a scenario are left out rather than
//! approximated: std's `Barrier` needs every party to wait, so it cannot
//! count down 1,000 one-shot tasks and the fan-in compares a
//! `Mutex` + `Condvar` countdown instead.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::sync::{Arc, Barrier, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::scaling;
use crate::workload::{Scenario, Workload};

/// The paragraph the report prints under the group's heading.
pub const INTRO: &str = "hoare-sync against std, parking_lot, crossbeam-utils, tokio::sync and \
    Go's `sync` package. Contended workloads use 2 threads (or 2 runtime workers), one per \
    core. Go's entries use goroutines where the Rust entries have threads or tokio tasks: \
    `sync.Mutex` for both mutex rows, `sync.RWMutex`, `sync.WaitGroup`, a buffered channel \
    as the semaphore (Go's idiom) and `sync.Once` for the once rows. In the fan-in and the \
    contended semaphore, the Rust entries share one harness (worker threads fed by std's \
    channel; a 2-worker tokio runtime) and Go runs on its own scheduler, so those two rows \
    compare runtimes as much as the primitives.";

/// Threads (or runtime workers) in every contended workload.
pub const THREADS: usize = 2;
/// Tasks per WaitGroup fan-in round.
pub const FAN_IN_TASKS: usize = 1_000;
/// In the read-mostly workload, one operation in this many is a write (5%).
pub const WRITE_EVERY: u64 = 20;
/// Tasks competing for the semaphore in the contended async workload.
pub const SEMAPHORE_TASKS: u64 = 8;
/// Permits of the semaphore in the contended async workload.
pub const SEMAPHORE_PERMITS: usize = 2;
/// Bytes of each buffer in the pool workload.
pub const POOL_BUFFER: usize = 4096;
/// Bytes each operation of the pool workload writes into its buffer.
pub const POOL_WRITE: usize = 64;
/// Keys in the map workloads, all stored before the timed span.
pub const MAP_KEYS: u64 = 1024;
/// In the read-mostly map workload, one operation in this many is a store
/// (1%).
pub const MAP_STORE_EVERY: u64 = 100;

/// Uncontended lock/unlock on one thread.
pub static MUTEX_UNCONTENDED: Scenario = Scenario {
    group: "sync",
    name: "mutex_uncontended",
    title: "Mutex, uncontended",
    op: "lock + increment + unlock",
    about: "One thread locks, increments a counter and unlocks in a loop: the fast path only.",
};

/// Uncontended async lock/unlock on a current-thread tokio runtime.
pub static MUTEX_ASYNC_UNCONTENDED: Scenario = Scenario {
    group: "sync",
    name: "mutex_async_uncontended",
    title: "Async Mutex, uncontended",
    op: "lock().await + increment + unlock",
    about: "One task on a current-thread tokio runtime awaits the lock, increments and unlocks.",
};

/// Two threads hammering one lock with a tiny critical section.
pub static MUTEX_CONTENDED: Scenario = Scenario {
    group: "sync",
    name: "mutex_contended",
    title: "Mutex, contended (2 threads)",
    op: "lock + increment + unlock",
    about: "Two threads each lock, increment one shared counter and unlock in a loop; \
            the time is the wall time of both divided by their total operations.",
};

/// Two threads, 95% reads and 5% writes.
pub static RWMUTEX_READ_MOSTLY: Scenario = Scenario {
    group: "sync",
    name: "rwmutex_read_mostly",
    title: "RwMutex, read-mostly (2 threads, 95% reads)",
    op: "read lock + read 2 words + unlock, or (1 in 20) write lock + increment + unlock",
    about: "Two threads share a 4-word array; each 20th operation of each thread is a write.",
};

/// One waiter, 1,000 tasks signalling done from 2 worker threads.
pub static WAITGROUP_FAN_IN: Scenario = Scenario {
    group: "sync",
    name: "waitgroup_fan_in",
    title: "WaitGroup fan-in of 1,000 tasks",
    op: "one round: add 1,000, 1,000 done signals from 2 workers, wait",
    about: "Two persistent worker threads get 500 tasks each per round (one channel message per \
            worker); each task signals done, and the main thread waits for all 1,000. std has \
            no counting wait group (`Barrier` needs every party to wait), so its entry is a \
            `Mutex<usize>` + `Condvar` countdown; crossbeam's `WaitGroup` needs one clone per \
            task, made by the main thread.",
};

/// Single-task acquire/release with no competition.
pub static SEMAPHORE_UNCONTENDED: Scenario = Scenario {
    group: "sync",
    name: "semaphore_uncontended",
    title: "Async Semaphore, uncontended",
    op: "acquire(1).await + release",
    about: "One task on a current-thread tokio runtime acquires and releases 1 of 1 permit. \
            tokio's acquire also spends tokio's cooperative budget, so it yields every 128 \
            acquisitions; that is what a tokio user pays.",
};

/// Eight tasks competing for two permits on two workers.
pub static SEMAPHORE_CONTENDED: Scenario = Scenario {
    group: "sync",
    name: "semaphore_contended",
    title: "Async Semaphore, contended (8 tasks, 2 permits, 2 workers)",
    op: "acquire(1).await + yield_now().await + release",
    about: "Eight tasks on a 2-worker tokio runtime each acquire 1 of 2 permits, hold it across \
            one `yield_now` (standing in for an await on I/O) and release it, so tasks queue.",
};

/// Reading an initialised once-cell.
pub static ONCE_CELL_GET: Scenario = Scenario {
    group: "sync",
    name: "once_cell_get",
    title: "OnceCell get after init",
    op: "get() of an initialised cell",
    about: "One thread reads an already initialised cell in a loop: the cost of the \
            is-initialised check.",
};

/// Calling a completed `Once` again.
pub static ONCE_CALL_DONE: Scenario = Scenario {
    group: "sync",
    name: "once_call_done",
    title: "Once call_once after completion",
    op: "call_once(..) on a completed Once",
    about: "One thread calls `call_once` on a `Once` that has already run, in a loop.",
};

/// Taking a buffer from a pool and putting it back.
pub static POOL_GET_PUT: Scenario = Scenario {
    group: "sync",
    name: "pool_get_put",
    title: "Pool get + put of a 4 KiB buffer (2 threads)",
    op: "get a buffer, write 64 bytes, empty it, put it back",
    about: "Two threads share one pool of 4 KiB `Vec<u8>` buffers: each takes a buffer, writes \
            64 bytes into it, empties it and puts it back, in a loop. `alloc` is what a pool \
            saves: a fresh buffer from the allocator each time, freed after use (the report \
            binary's allocator counts bytes on top of the system allocator). Go's entry uses \
            `sync.Pool` of `*[]byte`.",
};

/// A concurrent map read far more often than written: Go's `sync.Map` case.
pub static MAP_READ_MOSTLY: Scenario = Scenario {
    group: "sync",
    name: "map_read_mostly",
    title: "Map read-mostly, 99% loads (2 threads)",
    op: "a load (99%) or a store of an existing key (1%)",
    about: "Two threads share a map of 1,024 `u64` keys, all stored beforehand; each draws \
            keys from its own xorshift sequence and loads them, storing one key in 100 \
            (a new value for an existing key). Every load must find its key. `std` is \
            `RwLock<HashMap>`; `dashmap` is the sharded map most Rust code reaches for; Go's \
            entry is `sync.Map` with the keys boxed beforehand. The Rust maps all hash with \
            std's `RandomState`.",
};

/// A concurrent map written more often than read.
pub static MAP_WRITE_HEAVY: Scenario = Scenario {
    group: "sync",
    name: "map_write_heavy",
    title: "Map write-heavy, 75% writes (2 threads)",
    op: "a store (50%), a delete (25%) or a load (25%)",
    about: "Two threads share a map of 1,024 `u64` keys, all stored beforehand; each draws \
            keys from its own xorshift sequence and stores (half the operations), deletes \
            (a quarter) or loads (a quarter) them, so keys keep leaving and coming back. \
            Peers as in the read-mostly row. For `Map` and Go's `sync.Map` a deleted key \
            that comes back reuses its entry, without the lock, until the next new key: \
            the key set here is fixed, which is the case these maps are built for.",
};

/// All sync workloads, in report order.
pub fn workloads() -> Vec<Workload> {
    let w = |scenario: &'static Scenario, implementation, run| Workload {
        scenario,
        implementation,
        run,
    };
    vec![
        w(&MUTEX_UNCONTENDED, "hoare", mutex_uncontended_hoare),
        w(&MUTEX_UNCONTENDED, "std", mutex_uncontended_std),
        w(
            &MUTEX_UNCONTENDED,
            "parking_lot",
            mutex_uncontended_parking_lot,
        ),
        w(&MUTEX_ASYNC_UNCONTENDED, "hoare", mutex_async_hoare),
        w(&MUTEX_ASYNC_UNCONTENDED, "tokio", mutex_async_tokio),
        w(&MUTEX_CONTENDED, "hoare", mutex_contended_hoare),
        w(&MUTEX_CONTENDED, "std", mutex_contended_std),
        w(&MUTEX_CONTENDED, "parking_lot", mutex_contended_parking_lot),
        w(&RWMUTEX_READ_MOSTLY, "hoare", rwmutex_read_mostly_hoare),
        w(&RWMUTEX_READ_MOSTLY, "std", rwmutex_read_mostly_std),
        w(
            &RWMUTEX_READ_MOSTLY,
            "parking_lot",
            rwmutex_read_mostly_parking_lot,
        ),
        w(&WAITGROUP_FAN_IN, "hoare", waitgroup_fan_in_hoare),
        w(&WAITGROUP_FAN_IN, "std", waitgroup_fan_in_std),
        w(&WAITGROUP_FAN_IN, "crossbeam", waitgroup_fan_in_crossbeam),
        w(&SEMAPHORE_UNCONTENDED, "hoare", semaphore_uncontended_hoare),
        w(&SEMAPHORE_UNCONTENDED, "tokio", semaphore_uncontended_tokio),
        w(&SEMAPHORE_CONTENDED, "hoare", semaphore_contended_hoare),
        w(&SEMAPHORE_CONTENDED, "tokio", semaphore_contended_tokio),
        w(&ONCE_CELL_GET, "hoare", once_cell_get_hoare),
        w(&ONCE_CELL_GET, "std", once_cell_get_std),
        w(&ONCE_CELL_GET, "tokio", once_cell_get_tokio),
        w(&ONCE_CALL_DONE, "hoare", once_call_done_hoare),
        w(&ONCE_CALL_DONE, "std", once_call_done_std),
        w(&ONCE_CALL_DONE, "parking_lot", once_call_done_parking_lot),
        w(&POOL_GET_PUT, "hoare", pool_get_put_hoare),
        w(&POOL_GET_PUT, "alloc", pool_get_put_alloc),
        w(&MAP_READ_MOSTLY, "hoare", |ops| {
            map_read_mostly::<HoareMap>(ops)
        }),
        w(&MAP_READ_MOSTLY, "std", |ops| {
            map_read_mostly::<StdMap>(ops)
        }),
        w(&MAP_READ_MOSTLY, "dashmap", |ops| {
            map_read_mostly::<DashMap>(ops)
        }),
        w(&MAP_WRITE_HEAVY, "hoare", |ops| {
            map_write_heavy::<HoareMap>(ops)
        }),
        w(&MAP_WRITE_HEAVY, "std", |ops| {
            map_write_heavy::<StdMap>(ops)
        }),
        w(&MAP_WRITE_HEAVY, "dashmap", |ops| {
            map_write_heavy::<DashMap>(ops)
        }),
        // Go (bench-suite/go/sync.go): the sync package and, for the
        // semaphore, Go's buffered-channel idiom.
        crate::go_workload!(MUTEX_UNCONTENDED),
        crate::go_workload!(MUTEX_ASYNC_UNCONTENDED),
        crate::go_workload!(MUTEX_CONTENDED),
        crate::go_workload!(RWMUTEX_READ_MOSTLY),
        crate::go_workload!(WAITGROUP_FAN_IN),
        crate::go_workload!(SEMAPHORE_UNCONTENDED),
        crate::go_workload!(SEMAPHORE_CONTENDED),
        crate::go_workload!(ONCE_CELL_GET),
        crate::go_workload!(ONCE_CALL_DONE),
        crate::go_workload!(POOL_GET_PUT),
        crate::go_workload!(MAP_READ_MOSTLY),
        crate::go_workload!(MAP_WRITE_HEAVY),
    ]
}

// ---------------------------------------------------------------------------
// Shared drivers

/// Thread `t`'s share of `ops` split over `parts`; the shares add up to `ops`.
pub(crate) fn share(ops: u64, t: u64, parts: u64) -> u64 {
    ops / parts + u64::from(t < ops % parts)
}

/// Runs `body(thread, ops_for_thread)` on `threads` scoped threads and
/// returns the span from the first thread's start to the last one's end.
pub(crate) fn on_n_threads(ops: u64, threads: usize, body: impl Fn(u64, u64) + Sync) -> Duration {
    let start = Barrier::new(threads);
    let (body, start) = (&body, &start);
    thread::scope(|s| {
        let handles: Vec<_> = (0..threads as u64)
            .map(|t| {
                s.spawn(move || {
                    start.wait();
                    let begun = Instant::now();
                    body(t, share(ops, t, threads as u64));
                    (begun, Instant::now())
                })
            })
            .collect();
        let spans: Vec<(Instant, Instant)> = handles
            .into_iter()
            .map(|h| h.join().expect("workload thread panicked"))
            .collect();
        let first = spans
            .iter()
            .map(|s| s.0)
            .min()
            .expect("at least one thread");
        let last = spans
            .iter()
            .map(|s| s.1)
            .max()
            .expect("at least one thread");
        last - first
    })
}

/// A current-thread tokio runtime.
fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("build a current-thread tokio runtime")
}

/// A tokio runtime with [`THREADS`] workers.
fn multi_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(THREADS)
        .build()
        .expect("build a multi-thread tokio runtime")
}

/// Times `body` as the only future on a current-thread runtime.
fn on_current_thread(body: impl Future<Output = ()>) -> Duration {
    current_thread_runtime().block_on(async {
        let begun = Instant::now();
        body.await;
        begun.elapsed()
    })
}

// ---------------------------------------------------------------------------
// Mutex, uncontended

fn mutex_uncontended_hoare(ops: u64) -> Duration {
    let m = hoare_sync::Mutex::new(0u64);
    let begun = Instant::now();
    for _ in 0..ops {
        *black_box(&m).lock() += 1;
    }
    let elapsed = begun.elapsed();
    assert_eq!(*m.lock(), ops);
    elapsed
}

fn mutex_uncontended_std(ops: u64) -> Duration {
    let m = std::sync::Mutex::new(0u64);
    let begun = Instant::now();
    for _ in 0..ops {
        *black_box(&m).lock().unwrap() += 1;
    }
    let elapsed = begun.elapsed();
    assert_eq!(*m.lock().unwrap(), ops);
    elapsed
}

fn mutex_uncontended_parking_lot(ops: u64) -> Duration {
    let m = parking_lot::Mutex::new(0u64);
    let begun = Instant::now();
    for _ in 0..ops {
        *black_box(&m).lock() += 1;
    }
    let elapsed = begun.elapsed();
    assert_eq!(*m.lock(), ops);
    elapsed
}

// ---------------------------------------------------------------------------
// Async Mutex, uncontended

fn mutex_async_hoare(ops: u64) -> Duration {
    let m = hoare_sync::Mutex::new(0u64);
    let elapsed = on_current_thread(async {
        for _ in 0..ops {
            *black_box(&m).lock_async().await += 1;
        }
    });
    assert_eq!(*m.lock(), ops);
    elapsed
}

fn mutex_async_tokio(ops: u64) -> Duration {
    let m = tokio::sync::Mutex::new(0u64);
    let elapsed = on_current_thread(async {
        for _ in 0..ops {
            *black_box(&m).lock().await += 1;
        }
    });
    assert_eq!(*m.try_lock().expect("unlocked"), ops);
    elapsed
}

// ---------------------------------------------------------------------------
// Mutex, contended

// The same loops as the scaling tables' (`crate::scaling`), at
// [`THREADS`] threads.

fn mutex_contended_hoare(ops: u64) -> Duration {
    scaling::mutex::<hoare_sync::Mutex<u64>, THREADS>(ops)
}

fn mutex_contended_std(ops: u64) -> Duration {
    scaling::mutex::<std::sync::Mutex<u64>, THREADS>(ops)
}

fn mutex_contended_parking_lot(ops: u64) -> Duration {
    scaling::mutex::<parking_lot::Mutex<u64>, THREADS>(ops)
}

// ---------------------------------------------------------------------------
// RwMutex, read-mostly

/// Whether operation `i` of a thread is one of the 5% writes.
pub(crate) fn is_write(i: u64) -> bool {
    i % WRITE_EVERY == WRITE_EVERY - 1
}

fn rwmutex_read_mostly_hoare(ops: u64) -> Duration {
    scaling::rwmutex::<hoare_sync::RwMutex<[u64; 4]>, THREADS>(ops)
}

fn rwmutex_read_mostly_std(ops: u64) -> Duration {
    scaling::rwmutex::<std::sync::RwLock<[u64; 4]>, THREADS>(ops)
}

fn rwmutex_read_mostly_parking_lot(ops: u64) -> Duration {
    scaling::rwmutex::<parking_lot::RwLock<[u64; 4]>, THREADS>(ops)
}

// ---------------------------------------------------------------------------
// WaitGroup fan-in

/// A job for a fan-in worker: signal done for its share of the tasks.
type Job = Box<dyn FnOnce() + Send>;

/// [`THREADS`] persistent worker threads, each fed jobs by its own channel.
///
/// The pool lives for a whole measurement, so thread creation stays outside
/// the timed span; each round costs one channel message and one wake-up per
/// worker, the same for every implementation.
struct Pool {
    senders: Vec<mpsc::Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
}

impl Pool {
    fn new() -> Pool {
        let (senders, threads) = (0..THREADS)
            .map(|_| {
                let (tx, rx) = mpsc::channel::<Job>();
                let handle = thread::spawn(move || {
                    for job in rx {
                        job();
                    }
                });
                (tx, handle)
            })
            .unzip();
        Pool { senders, threads }
    }

    fn submit(&self, worker: usize, job: Job) {
        self.senders[worker].send(job).expect("fan-in worker alive");
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.senders.clear();
        for t in self.threads.drain(..) {
            t.join().expect("fan-in worker panicked");
        }
    }
}

/// Tasks worker `w` runs per round.
fn tasks_for(worker: usize) -> u64 {
    share(FAN_IN_TASKS as u64, worker as u64, THREADS as u64)
}

/// Times `ops` rounds of `round(&pool)` on a fresh pool.
fn fan_in(ops: u64, mut round: impl FnMut(&Pool)) -> Duration {
    let pool = Pool::new();
    let begun = Instant::now();
    for _ in 0..ops {
        round(&pool);
    }
    begun.elapsed()
}

fn waitgroup_fan_in_hoare(ops: u64) -> Duration {
    let wg = Arc::new(hoare_sync::WaitGroup::new());
    fan_in(ops, |pool| {
        wg.add(FAN_IN_TASKS as isize);
        for w in 0..THREADS {
            let wg = Arc::clone(&wg);
            pool.submit(
                w,
                Box::new(move || {
                    for _ in 0..tasks_for(w) {
                        wg.done();
                    }
                }),
            );
        }
        wg.wait();
    })
}

/// std's nearest thing to a wait group: a counter under a lock and a
/// condition variable signalled when it reaches zero.
#[derive(Default)]
struct Countdown {
    left: std::sync::Mutex<usize>,
    zero: std::sync::Condvar,
}

impl Countdown {
    fn add(&self, n: usize) {
        *self.left.lock().unwrap() += n;
    }

    fn done(&self) {
        let mut left = self.left.lock().unwrap();
        *left -= 1;
        if *left == 0 {
            self.zero.notify_all();
        }
    }

    fn wait(&self) {
        let mut left = self.left.lock().unwrap();
        while *left > 0 {
            left = self.zero.wait(left).unwrap();
        }
    }
}

fn waitgroup_fan_in_std(ops: u64) -> Duration {
    let cd = Arc::new(Countdown::default());
    fan_in(ops, |pool| {
        cd.add(FAN_IN_TASKS);
        for w in 0..THREADS {
            let cd = Arc::clone(&cd);
            pool.submit(
                w,
                Box::new(move || {
                    for _ in 0..tasks_for(w) {
                        cd.done();
                    }
                }),
            );
        }
        cd.wait();
    })
}

fn waitgroup_fan_in_crossbeam(ops: u64) -> Duration {
    fan_in(ops, |pool| {
        let wg = crossbeam_utils::sync::WaitGroup::new();
        for w in 0..THREADS {
            let tasks: Vec<_> = (0..tasks_for(w)).map(|_| wg.clone()).collect();
            pool.submit(
                w,
                Box::new(move || {
                    for task in tasks {
                        drop(task);
                    }
                }),
            );
        }
        wg.wait();
    })
}

// ---------------------------------------------------------------------------
// Async Semaphore

fn semaphore_uncontended_hoare(ops: u64) -> Duration {
    let sem = hoare_sync::Semaphore::new(1);
    let elapsed = on_current_thread(async {
        for _ in 0..ops {
            drop(black_box(&sem).acquire_async(1).await);
        }
    });
    assert_eq!(sem.available_permits(), 1);
    elapsed
}

fn semaphore_uncontended_tokio(ops: u64) -> Duration {
    let sem = tokio::sync::Semaphore::new(1);
    let elapsed = on_current_thread(async {
        for _ in 0..ops {
            drop(black_box(&sem).acquire().await.expect("not closed"));
        }
    });
    assert_eq!(sem.available_permits(), 1);
    elapsed
}

/// A boxed `Send` future, so task bodies can be plain `fn` pointers.
type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Spawns [`SEMAPHORE_TASKS`] tasks `task(sem, share)` on a 2-worker
/// runtime and times them from first spawn to last completion.
fn contended_tasks<S: Send + Sync + 'static>(
    ops: u64,
    sem: Arc<S>,
    task: fn(Arc<S>, u64) -> Task,
) -> Duration {
    multi_thread_runtime().block_on(async {
        let begun = Instant::now();
        let handles: Vec<_> = (0..SEMAPHORE_TASKS)
            .map(|t| tokio::spawn(task(Arc::clone(&sem), share(ops, t, SEMAPHORE_TASKS))))
            .collect();
        for h in handles {
            h.await.expect("semaphore task panicked");
        }
        begun.elapsed()
    })
}

fn semaphore_contended_hoare(ops: u64) -> Duration {
    let sem = Arc::new(hoare_sync::Semaphore::new(SEMAPHORE_PERMITS));
    let elapsed = contended_tasks(ops, Arc::clone(&sem), |sem, n| {
        Box::pin(async move {
            for _ in 0..n {
                let permit = sem.acquire_async(1).await;
                tokio::task::yield_now().await;
                drop(permit);
            }
        })
    });
    assert_eq!(sem.available_permits(), SEMAPHORE_PERMITS);
    elapsed
}

fn semaphore_contended_tokio(ops: u64) -> Duration {
    let sem = Arc::new(tokio::sync::Semaphore::new(SEMAPHORE_PERMITS));
    let elapsed = contended_tasks(ops, Arc::clone(&sem), |sem, n| {
        Box::pin(async move {
            for _ in 0..n {
                let permit = sem.acquire().await.expect("not closed");
                tokio::task::yield_now().await;
                drop(permit);
            }
        })
    });
    assert_eq!(sem.available_permits(), SEMAPHORE_PERMITS);
    elapsed
}

// ---------------------------------------------------------------------------
// Once and OnceCell after initialisation

fn once_cell_get_hoare(ops: u64) -> Duration {
    let cell = hoare_sync::OnceCell::new();
    cell.get_or_init(|| 42u64);
    let begun = Instant::now();
    for _ in 0..ops {
        black_box(black_box(&cell).get());
    }
    begun.elapsed()
}

fn once_cell_get_std(ops: u64) -> Duration {
    let cell = std::sync::OnceLock::new();
    cell.get_or_init(|| 42u64);
    let begun = Instant::now();
    for _ in 0..ops {
        black_box(black_box(&cell).get());
    }
    begun.elapsed()
}

fn once_cell_get_tokio(ops: u64) -> Duration {
    let cell = tokio::sync::OnceCell::new_with(Some(42u64));
    let begun = Instant::now();
    for _ in 0..ops {
        black_box(black_box(&cell).get());
    }
    begun.elapsed()
}

fn once_call_done_hoare(ops: u64) -> Duration {
    let once = hoare_sync::Once::new();
    once.call_once(|| {});
    let begun = Instant::now();
    for _ in 0..ops {
        black_box(&once).call_once(|| unreachable!("already completed"));
    }
    begun.elapsed()
}

fn once_call_done_std(ops: u64) -> Duration {
    let once = std::sync::Once::new();
    once.call_once(|| {});
    let begun = Instant::now();
    for _ in 0..ops {
        black_box(&once).call_once(|| unreachable!("already completed"));
    }
    begun.elapsed()
}

fn once_call_done_parking_lot(ops: u64) -> Duration {
    let once = parking_lot::Once::new();
    once.call_once(|| {});
    let begun = Instant::now();
    for _ in 0..ops {
        black_box(&once).call_once(|| unreachable!("already completed"));
    }
    begun.elapsed()
}

// ---------------------------------------------------------------------------
// Pool

/// One use of a pooled buffer: write [`POOL_WRITE`] bytes, read one back,
/// empty it (a pool hands values back as they were put).
fn use_buffer(buf: &mut Vec<u8>) -> u64 {
    buf.extend_from_slice(&[7; POOL_WRITE]);
    let byte = black_box(&buf[..])[POOL_WRITE - 1];
    buf.clear();
    u64::from(byte)
}

/// [`THREADS`] threads sharing `ops` calls of `op` (a get, [`use_buffer`],
/// a put); checks that every operation wrote its bytes.
fn pool_threads(ops: u64, op: impl Fn() -> u64 + Sync) -> Duration {
    let sum = std::sync::atomic::AtomicU64::new(0);
    let elapsed = on_n_threads(ops, THREADS, |_, n| {
        let mut s = 0;
        for _ in 0..n {
            s += op();
        }
        sum.fetch_add(s, std::sync::atomic::Ordering::Relaxed);
    });
    assert_eq!(sum.into_inner(), 7 * ops, "every operation wrote its bytes");
    elapsed
}

fn pool_get_put_hoare(ops: u64) -> Duration {
    let pool = hoare_sync::Pool::new(|| Vec::<u8>::with_capacity(POOL_BUFFER));
    pool_threads(ops, || {
        let mut buf = pool.get();
        let byte = use_buffer(&mut buf);
        pool.put(buf);
        byte
    })
}

fn pool_get_put_alloc(ops: u64) -> Duration {
    pool_threads(ops, || {
        let mut buf = black_box(Vec::<u8>::with_capacity(POOL_BUFFER));
        use_buffer(&mut buf)
    })
}

// ---------------------------------------------------------------------------
// Map

/// The operations the map workloads use, on `u64` keys and values.
trait ConcurrentMap: Sync + Default {
    fn load(&self, key: u64) -> Option<u64>;
    fn store(&self, key: u64, value: u64);
    fn delete(&self, key: u64);
}

type HoareMap = hoare_sync::Map<u64, u64>;
type StdMap = std::sync::RwLock<std::collections::HashMap<u64, u64>>;
type DashMap = dashmap::DashMap<u64, u64>;

impl ConcurrentMap for HoareMap {
    fn load(&self, key: u64) -> Option<u64> {
        hoare_sync::Map::load(self, &key)
    }
    fn store(&self, key: u64, value: u64) {
        hoare_sync::Map::store(self, key, value);
    }
    fn delete(&self, key: u64) {
        hoare_sync::Map::delete(self, &key);
    }
}

impl ConcurrentMap for StdMap {
    fn load(&self, key: u64) -> Option<u64> {
        self.read().expect("not poisoned").get(&key).copied()
    }
    fn store(&self, key: u64, value: u64) {
        self.write().expect("not poisoned").insert(key, value);
    }
    fn delete(&self, key: u64) {
        self.write().expect("not poisoned").remove(&key);
    }
}

impl ConcurrentMap for DashMap {
    fn load(&self, key: u64) -> Option<u64> {
        self.get(&key).map(|v| *v)
    }
    fn store(&self, key: u64, value: u64) {
        self.insert(key, value);
    }
    fn delete(&self, key: u64) {
        self.remove(&key);
    }
}

/// Thread `t`'s key sequence (the Go program draws the same): a xorshift
/// generator whose state picks both the key and the operation.
struct KeyDraw(u64);

impl KeyDraw {
    fn new(t: u64) -> Self {
        KeyDraw(0x9e37_79b9_7f4a_7c15_u64.wrapping_mul(t + 1))
    }

    /// The next state: `(state >> 16) % MAP_KEYS` is the key, `state` the
    /// operation's draw.
    fn next(&mut self) -> (u64, u64) {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        ((x >> 16) % MAP_KEYS, x)
    }
}

/// A map holding every key, each with itself as its value.
fn full_map<M: ConcurrentMap>() -> M {
    let map = M::default();
    for k in 0..MAP_KEYS {
        map.store(k, k);
    }
    map
}

fn map_read_mostly<M: ConcurrentMap>(ops: u64) -> Duration {
    let map = full_map::<M>();
    // Warm the map as a long-lived one would be (hoare's and Go's promote
    // keys to their read table after misses).
    for k in 0..MAP_KEYS {
        black_box(map.load(k));
    }
    let loads = std::sync::atomic::AtomicU64::new(0);
    let elapsed = on_n_threads(ops, THREADS, |t, n| {
        let mut draw = KeyDraw::new(t);
        let mut hits = 0;
        let mut misses = 0;
        for _ in 0..n {
            let (key, x) = draw.next();
            if x % MAP_STORE_EVERY == 0 {
                map.store(key, key);
            } else if map.load(key) == Some(key) {
                hits += 1;
            } else {
                misses += 1;
            }
        }
        assert_eq!(misses, 0, "a load missed a key that is always present");
        loads.fetch_add(hits, std::sync::atomic::Ordering::Relaxed);
    });
    assert!(loads.into_inner() >= ops / 2, "most operations were loads");
    elapsed
}

fn map_write_heavy<M: ConcurrentMap>(ops: u64) -> Duration {
    let map = full_map::<M>();
    for k in 0..MAP_KEYS {
        black_box(map.load(k));
    }
    let done = std::sync::atomic::AtomicU64::new(0);
    let elapsed = on_n_threads(ops, THREADS, |t, n| {
        let mut draw = KeyDraw::new(t);
        let mut count = 0;
        for _ in 0..n {
            let (key, x) = draw.next();
            match x % 4 {
                0 => {
                    let got = map.load(key);
                    assert!(
                        got.is_none_or(|v| v == key),
                        "a load returned another key's value"
                    );
                }
                1 | 2 => map.store(key, key),
                _ => map.delete(key),
            }
            count += 1;
        }
        done.fetch_add(count, std::sync::atomic::Ordering::Relaxed);
    });
    assert_eq!(done.into_inner(), ops, "every operation ran");
    for k in 0..MAP_KEYS {
        assert!(
            map.load(k).is_none_or(|v| v == k),
            "key {k} holds another value"
        );
    }
    elapsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_the_total() {
        for ops in [0, 1, 7, 1_000, 1_001] {
            let total: u64 = (0..3).map(|t| share(ops, t, 3)).sum();
            assert_eq!(total, ops);
        }
    }

    #[test]
    fn every_workload_runs_a_few_operations() {
        let go = crate::go::required_or_skip("every_workload_runs_a_few_operations (Go entries)");
        for w in workloads()
            .into_iter()
            .filter(|w| go || !crate::go::is_go(w))
        {
            // Each workload asserts its own operation count.
            (w.run)(40);
        }
    }
}
