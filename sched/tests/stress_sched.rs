//! Stress: many goroutines spawning, yielding, waking each other, being
//! aborted and panicking, on several Ps, with remote spawns and wake-ups
//! from plain threads at the same time. Every task's output is received
//! exactly once and every future is dropped exactly once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hoare_sched::{JoinError, Runtime, go, yield_now};

struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A task tree: each node spawns `fanout` children `depth` levels down,
/// yields between spawns, and returns the number of nodes below it.
fn tree(depth: u32, fanout: u32, drops: Arc<AtomicUsize>) -> hoare_sched::JoinHandle<u64> {
    let c = Counted(drops.clone());
    go(async move {
        let _c = c;
        let mut n = 1;
        if depth > 0 {
            let kids: Vec<_> = (0..fanout)
                .map(|_| tree(depth - 1, fanout, drops.clone()))
                .collect();
            yield_now().await;
            for k in kids {
                n += k.await.unwrap();
            }
        }
        n
    })
}

#[test]
fn spawn_trees_on_every_proc_count_finish_with_exact_counts() {
    for procs in 1..=4 {
        let drops = Arc::new(AtomicUsize::new(0));
        let rt = Runtime::builder().procs(procs).build();
        let d = drops.clone();
        let n = rt.block_on(async move { tree(5, 4, d).await.unwrap() });
        // 1 + 4 + 16 + 64 + 256 + 1024
        assert_eq!(n, 1365);
        drop(rt);
        assert_eq!(drops.load(Ordering::SeqCst), 1365);
    }
}

#[test]
fn wakes_from_plain_threads_race_with_workers() {
    let rt = Runtime::builder().procs(3).build();
    let (tx, rx) = hoare_chan::bounded::<u64>(1);
    let per = 20_000u64;
    let producers: Vec<_> = (0..2)
        .map(|_| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for i in 0..per {
                    tx.send(i).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            let rx = rx.clone();
            rt.spawn(async move {
                let (mut n, mut sum) = (0u64, 0u64);
                while let Ok(v) = rx.recv_async().await {
                    n += 1;
                    sum += v;
                    if n % 64 == 0 {
                        yield_now().await;
                    }
                }
                (n, sum)
            })
        })
        .collect();
    drop(rx);
    for p in producers {
        p.join().unwrap();
    }
    let (mut n, mut sum) = (0, 0);
    for c in consumers {
        let (a, b) = c.join().unwrap();
        n += a;
        sum += b;
    }
    assert_eq!(n, 2 * per);
    assert_eq!(sum, 2 * per * (per - 1) / 2);
}

#[test]
fn aborts_and_panics_mixed_with_normal_completion() {
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = Runtime::builder().procs(2).build();
    let n = 2_000;
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let c = Counted(drops.clone());
            rt.spawn(async move {
                let _c = c;
                match i % 3 {
                    0 => {
                        yield_now().await;
                        i
                    }
                    1 => panic!("task {i} panics on purpose"),
                    _ => std::future::pending().await,
                }
            })
        })
        .collect();
    for (i, h) in handles.iter().enumerate() {
        if i % 3 == 2 || i % 7 == 0 {
            h.abort();
        }
    }
    let (mut ok, mut panicked, mut cancelled) = (0, 0, 0);
    for h in handles {
        match h.join() {
            Ok(_) => ok += 1,
            Err(JoinError::Panicked(_)) => panicked += 1,
            Err(JoinError::Cancelled) => cancelled += 1,
        }
    }
    assert_eq!(ok + panicked + cancelled, n);
    assert!(cancelled >= n / 3, "every pending task was aborted");
    drop(rt);
    assert_eq!(drops.load(Ordering::SeqCst), n);
}

#[test]
fn shutdown_while_tasks_wake_each_other_loses_nothing_and_hangs_nowhere() {
    for _ in 0..20 {
        let drops = Arc::new(AtomicUsize::new(0));
        let rt = Runtime::builder().procs(2).build();
        let (tx, rx) = hoare_chan::bounded::<u32>(0);
        for _ in 0..4 {
            let (tx, rx, c) = (tx.clone(), rx.clone(), Counted(drops.clone()));
            drop(rt.spawn(async move {
                let _c = c;
                loop {
                    if tx.send_async(1).await.is_err() || rx.recv_async().await.is_err() {
                        return;
                    }
                }
            }));
        }
        drop((tx, rx));
        std::thread::sleep(Duration::from_millis(2));
        drop(rt);
        assert_eq!(drops.load(Ordering::SeqCst), 4);
    }
}

#[test]
fn handoffs_to_spare_workers_race_with_spawns_and_shutdown() {
    // Tasks on 2 Ps keep giving their P away (`block_in_place`) while
    // others spawn and yield: Ps move between new and spare threads, and
    // the runtime is dropped with spares waiting. Every task finishes once.
    for round in 0..4u64 {
        let rt = Runtime::builder().procs(2).build();
        let done = Arc::new(AtomicUsize::new(0));
        let d = done.clone();
        let total = rt.block_on(async move {
            let handles: Vec<_> = (0..64u64)
                .map(|i| {
                    let d = d.clone();
                    go(async move {
                        if i % 4 == round % 4 {
                            hoare_sched::block_in_place(|| {
                                std::thread::sleep(Duration::from_micros(200))
                            });
                        }
                        yield_now().await;
                        d.fetch_add(1, Ordering::SeqCst);
                        i
                    })
                })
                .collect();
            let mut total = 0;
            for h in handles {
                total += h.await.unwrap();
            }
            total
        });
        assert_eq!(total, (0..64).sum::<u64>());
        assert_eq!(done.load(Ordering::SeqCst), 64);
        drop(rt);
    }
}
