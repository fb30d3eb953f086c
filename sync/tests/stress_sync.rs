//! Stress tests: many threads (and tasks) hammer each primitive; the final
//! counts must be exact. ThreadSanitizer runs this file in `.ci/run`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use hoare_sync::{Cond, Mutex, Once, OnceCell, RwMutex, Semaphore, ShardedCounter, WaitGroup};

const THREADS: usize = 8;
const OPS: usize = if cfg!(miri) { 10 } else { 5_000 };

fn run_threads(n: usize, f: impl Fn(usize) + Sync) {
    thread::scope(|s| {
        for i in 0..n {
            let f = &f;
            s.spawn(move || f(i));
        }
    });
}

#[test]
fn mutex_counts_exactly_under_contention() {
    let m = Mutex::new(0usize);
    run_threads(THREADS, |_| {
        for _ in 0..OPS {
            *m.lock() += 1;
        }
    });
    assert_eq!(m.into_inner(), THREADS * OPS);
}

#[test]
fn mutex_blocking_and_async_lockers_mix() {
    let m = Mutex::new(0usize);
    run_threads(THREADS, |i| {
        for _ in 0..OPS {
            if i % 2 == 0 {
                *m.lock() += 1;
            } else {
                futures::executor::block_on(async { *m.lock_async().await += 1 });
            }
        }
    });
    assert_eq!(m.into_inner(), THREADS * OPS);
}

#[test]
fn mutex_waiter_is_not_starved_by_a_hammering_thread() {
    let m = Arc::new(Mutex::new(0u64));
    let got_it = Arc::new(AtomicBool::new(false));
    let hammer = {
        let (m, got_it) = (m.clone(), got_it.clone());
        thread::spawn(move || {
            let give_up = Instant::now() + Duration::from_secs(20);
            let mut rounds = 0u64;
            while !got_it.load(Ordering::Relaxed) && Instant::now() < give_up {
                let mut g = m.lock();
                for _ in 0..50 {
                    *g = std::hint::black_box(*g + 1);
                }
                drop(g);
                rounds += 1;
            }
            (got_it.load(Ordering::Relaxed), rounds)
        })
    };
    thread::sleep(Duration::from_millis(10));
    let waiter = {
        let (m, got_it) = (m.clone(), got_it.clone());
        thread::spawn(move || {
            for _ in 0..20 {
                drop(m.lock());
            }
            got_it.store(true, Ordering::Relaxed);
        })
    };
    waiter.join().unwrap();
    let (stopped_by_waiter, rounds) = hammer.join().unwrap();
    assert!(
        stopped_by_waiter,
        "the waiter never got the lock during 20 s of hammering"
    );
    assert!(rounds > 0);
}

#[test]
fn rwmutex_readers_never_see_a_torn_write() {
    let l = RwMutex::new((0usize, 0usize));
    let reads = AtomicUsize::new(0);
    run_threads(THREADS, |i| {
        for k in 0..OPS {
            if i % 4 == 0 || k % 20 == 0 {
                let mut g = l.write();
                g.0 += 1;
                g.1 += 1;
            } else {
                let g = l.read();
                assert_eq!(g.0, g.1);
                reads.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let writes = (0..THREADS)
        .map(|i| (0..OPS).filter(|k| i % 4 == 0 || k % 20 == 0).count())
        .sum::<usize>();
    let (a, b) = l.into_inner();
    assert_eq!((a, b), (writes, writes));
    assert_eq!(reads.into_inner(), THREADS * OPS - writes);
}

#[test]
fn rwmutex_async_and_blocking_mix() {
    let l = RwMutex::new(0usize);
    run_threads(THREADS, |i| {
        for _ in 0..OPS / 4 {
            match i % 4 {
                0 => *l.write() += 1,
                1 => futures::executor::block_on(async { *l.write_async().await += 1 }),
                2 => drop(l.read()),
                _ => drop(futures::executor::block_on(l.read_async())),
            }
        }
    });
    assert_eq!(l.into_inner(), THREADS / 2 * (OPS / 4));
}

#[test]
fn semaphore_never_admits_more_than_its_permits() {
    let s = Semaphore::new(3);
    let inside = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    run_threads(THREADS, |i| {
        for k in 0..OPS / 4 {
            let n = 1 + (i + k) % 3;
            let _p = if i % 2 == 0 {
                s.acquire(n)
            } else {
                futures::executor::block_on(s.acquire_async(n))
            };
            let now = inside.fetch_add(n, Ordering::SeqCst) + n;
            assert!(now <= 3, "{now} permits in use");
            inside.fetch_sub(n, Ordering::SeqCst);
            done.fetch_add(1, Ordering::Relaxed);
        }
    });
    assert_eq!(done.into_inner(), THREADS * (OPS / 4));
    assert_eq!(s.available_permits(), 3);
}

#[test]
fn waitgroup_rounds_release_every_waiter() {
    let rounds = if cfg!(miri) { 2 } else { 200 };
    for _ in 0..rounds {
        let wg = WaitGroup::new();
        let finished = AtomicUsize::new(0);
        wg.add(THREADS as isize);
        thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    finished.fetch_add(1, Ordering::Relaxed);
                    wg.done();
                });
            }
            for _ in 0..2 {
                s.spawn(|| {
                    wg.wait();
                    assert_eq!(finished.load(Ordering::Relaxed), THREADS);
                });
            }
            futures::executor::block_on(wg.wait_async());
            assert_eq!(finished.load(Ordering::Relaxed), THREADS);
        });
    }
}

#[test]
fn once_runs_one_initializer_per_round() {
    let rounds = if cfg!(miri) { 2 } else { 200 };
    for _ in 0..rounds {
        let once = Once::new();
        let cell = OnceCell::new();
        let runs = AtomicUsize::new(0);
        run_threads(4, |i| {
            once.call_once(|| {
                runs.fetch_add(1, Ordering::Relaxed);
            });
            cell.get_or_init(|| i);
        });
        assert_eq!(runs.into_inner(), 1);
        assert!(cell.get().is_some());
    }
}

#[test]
fn cond_producer_consumer_delivers_every_item() {
    let items = if cfg!(miri) { 10 } else { 20_000 };
    let state = Mutex::new((Vec::<usize>::new(), false));
    let cond = Cond::new();
    let received = Mutex::new(Vec::new());
    thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                let mut g = state.lock();
                loop {
                    if let Some(v) = g.0.pop() {
                        drop(g);
                        received.lock().push(v);
                        g = state.lock();
                    } else if g.1 {
                        return;
                    } else {
                        g = cond.wait(g);
                    }
                }
            });
        }
        for v in 0..items {
            state.lock().0.push(v);
            cond.notify_one();
        }
        state.lock().1 = true;
        cond.notify_all();
    });
    let mut got = received.into_inner();
    got.sort_unstable();
    assert_eq!(got, (0..items).collect::<Vec<_>>());
}

#[test]
fn sharded_counter_is_exact_after_the_writers_stop() {
    let c = ShardedCounter::new();
    run_threads(THREADS, |_| {
        for _ in 0..OPS {
            c.add(1);
        }
    });
    assert_eq!(c.load(), (THREADS * OPS) as i64);
}
