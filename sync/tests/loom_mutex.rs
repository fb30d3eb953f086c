//! loom models of `Mutex`: exclusion, the park/unpark hand-shake, the
//! starvation hand-off, and cancellation of `lock_async`.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p hoare-sync --release --target-dir target/loom --test loom_mutex`.
//!
//! Under loom the futex is a model in which a missing wake-up leaves a thread
//! parked forever, which loom reports as a deadlock: a model that completes
//! proves that every thread that went to sleep was woken. Spinning is off
//! under loom (`SpinWait::spin` returns `false`), so a contended `lock`
//! parks at once, and a waiter counts as starving once it has been woken and
//! lost the race for the lock (`WaitClock` in `primitives.rs`).
#![cfg(loom)]

use std::pin::pin;
use std::task::Poll;

use hoare_sync::Mutex;
use loom::sync::Arc;
use loom::thread;

mod util;
use util::{model, poll_once};

/// Three threads each add one under the lock; the data lives in a loom
/// cell, so two guards alive at once would be reported as a data race, and
/// a lost update would show in the total.
#[test]
fn lock_excludes_and_no_increment_is_lost() {
    model(3, || {
        let m = Arc::new(Mutex::new(0usize));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let m = m.clone();
                thread::spawn(move || *m.lock() += 1)
            })
            .collect();
        *m.lock() += 1;
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(*m.lock(), 3);
    });
}

/// A thread that finds the mutex locked parks (no spinning under loom);
/// the owner's unlock must wake it. Completing without a loom deadlock in
/// every interleaving proves the `PARKED` bit and the queue never let the
/// wake-up fall between the waiter's check and its sleep.
#[test]
fn unlock_wakes_a_parked_locker() {
    model(3, || {
        let m = Arc::new(Mutex::new(0usize));
        let g = m.lock();
        let m2 = m.clone();
        let h = thread::spawn(move || *m2.lock() += 1);
        drop(g);
        h.join().unwrap();
        assert_eq!(*m.lock(), 1);
    });
}

/// Go's starvation mode. The main thread holds the lock while `waiter`
/// queues; the unlock wakes `waiter`, and `barger` may take the lock before
/// it. `waiter` then lost a race, so (under loom's `WaitClock`) it
/// re-queues at the head flagged starving, and `barger`'s unlock must hand
/// the lock to it directly (token `HANDOFF`, `LOCKED` kept set) instead of
/// releasing it. In every interleaving, including those through the
/// hand-off, both threads get the lock exactly once, exclusively, and nobody
/// is left parked. (That the hand-off happens is not visible from outside
/// here; the next model pins it down.)
#[test]
fn starving_waiter_is_handed_the_lock() {
    model(3, || {
        let m = Arc::new(Mutex::new(Vec::new()));
        let g = m.lock();
        let m1 = m.clone();
        let waiter = thread::spawn(move || m1.lock().push(1));
        let m2 = m.clone();
        let barger = thread::spawn(move || m2.lock().push(2));
        drop(g);
        waiter.join().unwrap();
        barger.join().unwrap();
        let mut seen = m.lock().clone();
        seen.sort_unstable();
        assert_eq!(seen, [1, 2]);
    });
}

/// The observable effect of the hand-off, pinned down step by step with a
/// future polled by hand (one thread, so loom runs it once, but only under
/// loom does one lost race make a waiter starving). The future queues, is
/// woken by the unlock, loses the lock to a barging `try_lock` and
/// re-queues flagged starving. The barger's unlock must then keep the
/// mutex locked for the future: a second `try_lock` fails, and the future
/// completes without competing.
#[test]
fn starving_future_gets_the_lock_ahead_of_a_barger() {
    model(3, || {
        let m = Mutex::new(0usize);
        let g = m.lock();
        let mut f = Box::pin(m.lock_async());
        assert!(poll_once(f.as_mut()).is_pending(), "queued behind `g`");
        drop(g);
        let barger = m.try_lock().expect("a woken waiter does not own the lock");
        assert!(poll_once(f.as_mut()).is_pending(), "lost to the barger");
        drop(barger);
        assert!(
            m.try_lock().is_none(),
            "the lock was released instead of handed to the starving waiter"
        );
        let Poll::Ready(g) = poll_once(f.as_mut()) else {
            panic!("the starving waiter was not handed the lock");
        };
        drop(g);
        assert!(m.try_lock().is_some());
    });
}

/// A blocked `lock_async` is woken by the unlock: `block_on` parks the
/// thread until the future's waker fires, so a missed wake shows as a
/// deadlock.
#[test]
fn unlock_wakes_a_pending_lock_async() {
    model(3, || {
        let m = Arc::new(Mutex::new(0usize));
        let g = m.lock();
        let m2 = m.clone();
        let h = thread::spawn(move || {
            loom::future::block_on(async {
                *m2.lock_async().await += 1;
            })
        });
        drop(g);
        h.join().unwrap();
        assert_eq!(*m.lock(), 1);
    });
}

/// A `lock_async` future is polled once (queued, or already holding the
/// lock if the unlock came first) and dropped while the owner unlocks and a
/// third thread blocks in `lock`. Whatever the dropped future had been
/// given (nothing, a `RETRY` wake-up, or the lock itself) must be passed
/// on: the blocked thread gets the lock (no deadlock) and the mutex is free
/// at the end.
#[test]
fn dropped_lock_async_passes_on_its_wake_up() {
    model(3, || {
        let m = Arc::new(Mutex::new(0usize));
        let g = m.lock();
        let m1 = m.clone();
        let canceller = thread::spawn(move || {
            let mut f = pin!(m1.lock_async());
            if let Poll::Ready(mut guard) = poll_once(f.as_mut()) {
                *guard += 1;
            }
        });
        let m2 = m.clone();
        let locker = thread::spawn(move || *m2.lock() += 10);
        drop(g);
        canceller.join().unwrap();
        locker.join().unwrap();
        let g = m
            .try_lock()
            .expect("the mutex is free once everyone is done");
        assert!(*g == 10 || *g == 11, "unexpected value {}", *g);
    });
}

/// The lock can be handed over to a queued future that is then dropped
/// before it is polled again: the hand-off is undone by the drop, not lost.
/// Here the future is the only waiter, so its `RETRY` or `HANDOFF` token
/// must leave the mutex unlocked after the drop.
#[test]
fn dropped_lock_async_leaves_the_mutex_unlocked() {
    model(3, || {
        let m = Arc::new(Mutex::new(0usize));
        let g = m.lock();
        let m1 = m.clone();
        let canceller = thread::spawn(move || {
            let mut f = pin!(m1.lock_async());
            let _ = poll_once(f.as_mut());
        });
        drop(g);
        canceller.join().unwrap();
        assert!(m.try_lock().is_some(), "the dropped future kept the lock");
    });
}

/// The hardest cancellation: a future that was woken, lost the race to a
/// barging thread (so it re-queued flagged starving), was then *handed* the
/// lock, and is dropped before it is polled again. It owns the lock without
/// ever having returned a guard; its drop must unlock, or the mutex stays
/// locked forever.
#[test]
fn dropped_lock_async_returns_a_handed_over_lock() {
    model(3, || {
        let m = Arc::new(Mutex::new(0usize));
        let g = m.lock();
        let m1 = m.clone();
        let canceller = thread::spawn(move || {
            let mut f = pin!(m1.lock_async());
            for _ in 0..2 {
                if let Poll::Ready(mut guard) = poll_once(f.as_mut()) {
                    *guard += 1;
                    return;
                }
                thread::yield_now();
            }
        });
        let m2 = m.clone();
        let barger = thread::spawn(move || *m2.lock() += 10);
        drop(g);
        canceller.join().unwrap();
        barger.join().unwrap();
        let g = m
            .try_lock()
            .expect("the mutex is free once everyone is done");
        assert!(*g == 10 || *g == 11, "unexpected value {}", *g);
    });
}
