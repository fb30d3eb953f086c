//! Behaviour of `WaitGroup`: counting, tokens, async waiting, misuse.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use hoare_sync::WaitGroup;

mod util;
use util::poll_once;

#[test]
fn wait_returns_after_every_done() {
    let n = if cfg!(miri) { 3 } else { 16 };
    let wg = WaitGroup::new();
    let finished = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..n {
            wg.add(1);
            s.spawn(|| {
                finished.fetch_add(1, Ordering::Relaxed);
                wg.done();
            });
        }
        wg.wait();
        assert_eq!(finished.load(Ordering::Relaxed), n);
    });
}

#[test]
fn wait_on_zero_returns_at_once() {
    WaitGroup::new().wait();
}

#[test]
fn tokens_count_and_done_on_drop() {
    let wg = WaitGroup::new();
    let t = wg.token();
    let t2 = t.clone();
    assert_eq!(wg.count(), 2);
    drop(t);
    drop(t2);
    assert_eq!(wg.count(), 0);
}

#[test]
#[should_panic(expected = "WaitGroup counter went negative")]
fn done_without_add_panics() {
    WaitGroup::new().done();
}

#[test]
fn negative_counter_panic_leaves_the_counter_unchanged() {
    let wg = WaitGroup::new();
    wg.add(1);
    let r = std::panic::catch_unwind(|| wg.add(-2));
    assert!(r.is_err());
    assert_eq!(wg.count(), 1);
}

#[test]
fn wait_async_completes_when_counter_hits_zero() {
    let wg = WaitGroup::new();
    wg.add(2);
    let mut f = Box::pin(wg.wait_async());
    assert!(poll_once(f.as_mut()).is_pending());
    wg.done();
    assert!(poll_once(f.as_mut()).is_pending());
    wg.done();
    assert!(poll_once(f.as_mut()).is_ready());
}

#[test]
fn dropped_wait_future_does_not_disturb_other_waiters() {
    let wg = WaitGroup::new();
    wg.add(1);
    let mut a = Box::pin(wg.wait_async());
    let mut b = Box::pin(wg.wait_async());
    assert!(poll_once(a.as_mut()).is_pending());
    assert!(poll_once(b.as_mut()).is_pending());
    drop(a);
    wg.done();
    assert!(poll_once(b.as_mut()).is_ready());
}

#[cfg_attr(miri, ignore = "tokio's runtime is slow under Miri")]
#[test]
fn wait_async_on_tokio() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let wg = std::sync::Arc::new(WaitGroup::new());
    rt.block_on(async {
        for _ in 0..100 {
            wg.add(1);
            let wg = wg.clone();
            tokio::spawn(async move { wg.done() });
        }
        wg.wait_async().await;
    });
    assert_eq!(wg.count(), 0);
}
