//! loom models of `Semaphore`: permit accounting, FIFO hand-off to queued
//! waiters, and cancellation of `acquire_async`.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p hoare-sync --release --target-dir target/loom --test loom_semaphore`.
//!
//! Holders count the permits they hold in a loom atomic, so holding more
//! than the total fails an assertion; a waiter never granted its permits is
//! a loom deadlock; and every model ends by checking that all permits are
//! back (`available_permits() == total`), so a permit lost in a hand-off or
//! a cancellation shows.
#![cfg(loom)]

use hoare_sync::Semaphore;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

mod util;
use util::{model, poll_once};

/// A semaphore and the number of permits its holders say they hold.
struct Counted {
    sem: Semaphore,
    total: usize,
    held: AtomicUsize,
}

impl Counted {
    fn new(total: usize) -> Arc<Counted> {
        Arc::new(Counted {
            sem: Semaphore::new(total),
            total,
            held: AtomicUsize::new(0),
        })
    }

    /// Acquires `n` permits, checks the total held stays within bounds
    /// while holding them, and releases them.
    fn use_permits(&self, n: usize) {
        let permit = self.sem.acquire(n);
        let before = self.held.fetch_add(n, Ordering::SeqCst);
        let now = before + n;
        assert!(
            now <= self.total,
            "{now} permits held out of {}",
            self.total
        );
        self.held.fetch_sub(n, Ordering::SeqCst);
        drop(permit);
    }
}

/// Two permits; three threads ask for 1, 1 and 2. At no point do the
/// holders hold more than two, everyone gets through, and both permits are
/// back at the end.
#[test]
fn holders_never_exceed_the_permits() {
    model(3, || {
        let c = Counted::new(2);
        let hs: Vec<_> = [1, 1]
            .map(|n| {
                let c = c.clone();
                thread::spawn(move || c.use_permits(n))
            })
            .into_iter()
            .collect();
        c.use_permits(2);
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(c.sem.available_permits(), 2);
    });
}

/// A thread blocked in `acquire` is handed the permit the holder releases
/// (the release grants it directly, it does not go back to the pool for
/// anyone to take). Completing proves the blocked thread was woken.
#[test]
fn release_hands_the_permit_to_a_blocked_acquirer() {
    model(3, || {
        let c = Counted::new(1);
        let p = c.sem.acquire(1);
        let c1 = c.clone();
        let waiter = thread::spawn(move || {
            let _p = c1.sem.acquire(1);
            c1.held.fetch_add(1, Ordering::SeqCst)
        });
        drop(p);
        assert_eq!(waiter.join().unwrap(), 0);
        assert_eq!(c.sem.available_permits(), 1);
    });
}

/// FIFO with weights. Of two permits the main thread holds one, and a
/// thread asking for two queues. A later request for one must queue behind
/// it although a permit is free (no overtaking), and must be served after
/// it: the order in which they got their permits is big, then small.
#[test]
fn small_request_does_not_overtake_a_queued_big_one() {
    model(2, || {
        let c = Counted::new(2);
        let order = Arc::new(AtomicUsize::new(0));
        let p = c.sem.acquire(1);
        let (c1, o1) = (c.clone(), order.clone());
        let big = thread::spawn(move || {
            let _p = c1.sem.acquire(2);
            o1.fetch_add(1, Ordering::SeqCst)
        });
        // A free permit that `try_acquire` refuses means a waiter queued.
        while let Some(q) = c.sem.try_acquire(1) {
            drop(q);
            thread::yield_now();
        }
        let (c2, o2) = (c.clone(), order.clone());
        let small = thread::spawn(move || {
            let _p = c2.sem.acquire(1);
            o2.fetch_add(1, Ordering::SeqCst)
        });
        drop(p);
        assert_eq!(big.join().unwrap(), 0, "the big request was overtaken");
        assert_eq!(small.join().unwrap(), 1);
        assert_eq!(c.sem.available_permits(), 2);
    });
}

/// A queued `acquire_async` future is dropped, with a blocking acquirer
/// queued behind it. Both orders with the holder's release are checked:
/// dropped first (it leaves the queue), or after the release granted it
/// the permit (its drop must release the permit on to the next waiter).
/// The blocked acquirer gets through and the permit is back at the end.
#[test]
fn dropped_acquire_async_passes_its_permit_on() {
    for cancel_first in [true, false] {
        model(3, move || {
            let c = Counted::new(1);
            let p = c.sem.acquire(1);
            let mut f = Box::pin(c.sem.acquire_async(1));
            assert!(poll_once(f.as_mut()).is_pending(), "the permit is held");
            let c1 = c.clone();
            let waiter = thread::spawn(move || c1.use_permits(1));
            if cancel_first {
                drop(f);
                drop(p);
            } else {
                drop(p);
                drop(f);
            }
            waiter.join().unwrap();
            assert_eq!(c.sem.available_permits(), 1);
        });
    }
}

/// A queued request for both permits, at the head of the queue, holds back
/// a request for one although one is free. Dropping the big request's
/// future must serve the small one from the free permit: otherwise it
/// would wait for a release that may never come.
#[test]
fn dropped_head_request_lets_smaller_ones_through() {
    model(3, || {
        let c = Counted::new(2);
        let p = c.sem.acquire(1);
        let mut f = Box::pin(c.sem.acquire_async(2));
        assert!(
            poll_once(f.as_mut()).is_pending(),
            "only one permit is free"
        );
        let c1 = c.clone();
        let small = thread::spawn(move || {
            let _q = c1.sem.acquire(1);
        });
        drop(f);
        small.join().unwrap();
        drop(p);
        assert_eq!(c.sem.available_permits(), 2);
    });
}

/// The cancellation races with the release. One thread holds the permit
/// briefly; the main thread polls an `acquire_async` future once (queued
/// if the permit is held then, granted if the release comes first) and
/// drops it; a third thread acquires meanwhile. However the grant and the
/// drop interleave, no permit is lost and nobody is left waiting.
#[test]
fn dropped_acquire_async_racing_a_release_loses_no_permit() {
    model(3, || {
        let c = Counted::new(1);
        let c1 = c.clone();
        let holder = thread::spawn(move || c1.use_permits(1));
        let c2 = c.clone();
        let other = thread::spawn(move || c2.use_permits(1));
        {
            let mut f = Box::pin(c.sem.acquire_async(1));
            let _ = poll_once(f.as_mut());
        }
        holder.join().unwrap();
        other.join().unwrap();
        assert_eq!(c.sem.available_permits(), 1);
    });
}
