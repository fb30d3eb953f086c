//! Behaviour of `Semaphore`: weights, FIFO fairness, async, cancellation,
//! misuse.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::thread;

use hoare_sync::Semaphore;

mod util;
use util::poll_once;

#[test]
fn permits_are_counted_and_returned_on_drop() {
    let s = Semaphore::new(3);
    let a = s.acquire(2);
    assert_eq!(a.count(), 2);
    assert_eq!(s.available_permits(), 1);
    assert!(s.try_acquire(2).is_none());
    drop(a);
    assert_eq!(s.available_permits(), 3);
}

#[test]
#[should_panic(expected = "can never succeed")]
fn acquiring_more_than_the_total_panics_instead_of_hanging() {
    let s = Semaphore::new(2);
    let _ = s.acquire(3);
}

#[test]
#[should_panic(expected = "can never succeed")]
fn acquiring_more_than_the_total_async_panics() {
    let s = Semaphore::new(2);
    drop(s.acquire_async(3));
}

#[test]
fn try_acquire_fails_while_earlier_waiters_are_queued() {
    let s = Semaphore::new(2);
    let held = s.acquire(2);
    let mut big = Box::pin(s.acquire_async(2));
    assert!(poll_once(big.as_mut()).is_pending());
    drop(held);
    // The two permits went to the queued request, not to a newcomer.
    assert!(s.try_acquire(1).is_none());
    assert!(poll_once(big.as_mut()).is_ready());
}

#[test]
fn small_request_does_not_overtake_an_earlier_big_one() {
    let s = Semaphore::new(3);
    let a = s.acquire(2);
    let mut big = Box::pin(s.acquire_async(3));
    let mut small = Box::pin(s.acquire_async(1));
    assert!(poll_once(big.as_mut()).is_pending());
    assert!(
        poll_once(small.as_mut()).is_pending(),
        "1 permit is free, but FIFO"
    );
    drop(a);
    let Poll::Ready(p) = poll_once(big.as_mut()) else {
        panic!("big request not granted")
    };
    assert!(poll_once(small.as_mut()).is_pending());
    drop(p);
    assert!(poll_once(small.as_mut()).is_ready());
}

#[test]
fn cancelled_acquire_at_the_head_unblocks_those_behind() {
    let s = Semaphore::new(3);
    let a = s.acquire(2);
    let mut big = Box::pin(s.acquire_async(3));
    let mut small = Box::pin(s.acquire_async(1));
    assert!(poll_once(big.as_mut()).is_pending());
    assert!(poll_once(small.as_mut()).is_pending());
    drop(big);
    assert!(poll_once(small.as_mut()).is_ready());
    drop(a);
}

#[test]
fn cancelled_acquire_after_grant_returns_the_permits() {
    let s = Semaphore::new(1);
    let a = s.acquire(1);
    let mut f = Box::pin(s.acquire_async(1));
    assert!(poll_once(f.as_mut()).is_pending());
    drop(a); // granted to `f`
    assert_eq!(s.available_permits(), 0);
    drop(f);
    assert_eq!(s.available_permits(), 1);
}

#[test]
fn never_more_holders_than_permits() {
    let iters = if cfg!(miri) { 10 } else { 2000 };
    let s = Arc::new(Semaphore::new(2));
    let inside = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let (s, inside) = (s.clone(), inside.clone());
            thread::spawn(move || {
                for _ in 0..iters {
                    let _p = s.acquire(1);
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    assert!(now <= 2);
                    inside.fetch_sub(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(s.available_permits(), 2);
}

#[cfg_attr(miri, ignore = "tokio's runtime is slow under Miri")]
#[test]
fn acquire_async_on_tokio() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let s = Arc::new(Semaphore::new(3));
    let inside = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let ts: Vec<_> = (0..16)
            .map(|_| {
                let (s, inside) = (s.clone(), inside.clone());
                tokio::spawn(async move {
                    for _ in 0..100 {
                        let _p = s.acquire_async(1).await;
                        assert!(inside.fetch_add(1, Ordering::SeqCst) < 3);
                        tokio::task::yield_now().await;
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in ts {
            t.await.unwrap();
        }
    });
    assert_eq!(s.available_permits(), 3);
}
