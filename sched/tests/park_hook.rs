//! `Builder::park_with`: idle workers wait through a hook (here
//! `futures::executor::block_on`, which parks the thread until the
//! future's waker is called, as a reactor's `block_on` does). A wake-up the
//! hook's future misses leaves a worker asleep with work queued, which
//! these tests see as a hang; work woken from outside, from timers, from
//! other workers, and the shutdown of a runtime whose workers sit in the
//! hook all have to get through.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hoare_chan::bounded;
use hoare_sched::{Runtime, Unparked, go, sleep};

/// Scaled down under Miri.
const fn scaled(n: usize) -> usize {
    if cfg!(miri) { n / 50 + 1 } else { n }
}

/// A runtime whose idle workers wait in `block_on`, counting the hook's
/// calls.
fn hooked(procs: usize, calls: &Arc<AtomicUsize>) -> Runtime {
    let calls = calls.clone();
    Runtime::builder()
        .procs(procs)
        .park_with(move |unparked| {
            calls.fetch_add(1, Ordering::SeqCst);
            futures::executor::block_on(unparked);
        })
        .build()
}

#[test]
fn idle_workers_wait_in_the_hook_and_wake_for_work() {
    let calls = Arc::new(AtomicUsize::new(0));
    let rt = hooked(2, &calls);
    for round in 0..scaled(200) {
        // Work arriving from outside the runtime, while both workers are
        // (or are about to be) idle in the hook.
        let v = rt.block_on(rt.spawn(async move { round * 2 })).unwrap();
        assert_eq!(v, round * 2);
    }
    assert!(
        calls.load(Ordering::SeqCst) > 0,
        "the hook was never called"
    );
}

#[test]
fn ping_pong_between_goroutines_through_the_hook() {
    let calls = Arc::new(AtomicUsize::new(0));
    let rt = hooked(2, &calls);
    let n = scaled(2_000) as u64;
    let sum = rt.block_on(async move {
        let (to_b, from_a) = bounded::<u64>(0);
        let (to_a, from_b) = bounded::<u64>(0);
        let b = go(async move {
            while let Ok(v) = from_a.recv_async().await {
                to_a.send_async(v + 1).await.unwrap();
            }
        });
        let mut sum = 0;
        for i in 0..n {
            to_b.send_async(i).await.unwrap();
            sum += from_b.recv_async().await.unwrap();
        }
        drop(to_b);
        b.await.unwrap();
        sum
    });
    assert_eq!(sum, n * (n + 1) / 2);
}

#[test]
fn timers_wake_goroutines_of_hooked_workers() {
    let calls = Arc::new(AtomicUsize::new(0));
    let rt = hooked(2, &calls);
    let done = rt.block_on(async {
        let handles: Vec<_> = (0..8u64)
            .map(|i| {
                go(async move {
                    sleep(Duration::from_millis(1 + i)).await;
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
    assert_eq!(done, 28);
}

#[test]
fn a_runtime_whose_workers_sit_in_the_hook_shuts_down() {
    let calls = Arc::new(AtomicUsize::new(0));
    for _ in 0..scaled(20) {
        let rt = hooked(2, &calls);
        rt.block_on(async { sleep(Duration::from_millis(1)).await });
        drop(rt); // the workers are in the hook: shutdown must wake them
    }
}

#[test]
fn a_hook_that_returns_early_falls_back_to_the_futex() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let rt = Runtime::builder()
        .procs(2)
        .park_with(move |_: Unparked<'_>| {
            counted.fetch_add(1, Ordering::SeqCst);
        })
        .build();
    let n = scaled(500);
    let total = rt.block_on(async move {
        let handles: Vec<_> = (0..n).map(|i| go(async move { i })).collect();
        let mut total = 0;
        for h in handles {
            total += h.await.unwrap();
        }
        total
    });
    assert_eq!(total, n * (n - 1) / 2);
    drop(rt);
}

#[test]
fn a_panicking_hook_leaves_the_workers_running() {
    let rt = Runtime::builder()
        .procs(2)
        .park_with(|_: Unparked<'_>| panic!("a hook that fails"))
        .build();
    let n = scaled(200);
    let total = rt.block_on(async move {
        let mut total = 0;
        for i in 0..n {
            // Each spawn finds the workers idle (or about to be): both
            // keep taking work after their hook panicked.
            total += go(async move { i }).await.unwrap();
            sleep(Duration::from_micros(50)).await;
        }
        total
    });
    assert_eq!(total, n * (n - 1) / 2);
}
