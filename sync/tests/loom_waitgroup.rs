//! loom models of `WaitGroup`: `wait` and `wait_async` return only after
//! every `done`, see the workers' writes, are always woken, and a dropped
//! `wait_async` future leaves the other waiters' wake-up intact.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p hoare-sync --release --target-dir target/loom --test loom_waitgroup`.
//!
//! Each worker writes its own loom cell before `done()` and the waiter reads
//! it after `wait()`: a `wait` that returned early, or without the
//! happens-before edge from every `done`, is reported by loom as a data race
//! (and by the value check). A waiter that is never woken is a loom
//! deadlock.
#![cfg(loom)]

use hoare_sync::WaitGroup;
use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;

mod util;
use util::{model, poll_once};

/// One result slot per worker, written before its `done()`.
struct Slots {
    wg: WaitGroup,
    slots: [UnsafeCell<usize>; 2],
}

// SAFETY: each slot is written by one worker before its `done()` and read
// only after `wait()` has returned; loom checks exactly that ordering.
unsafe impl Sync for Slots {}

impl Slots {
    fn new() -> Arc<Slots> {
        Arc::new(Slots {
            wg: WaitGroup::new(),
            slots: [UnsafeCell::new(0), UnsafeCell::new(0)],
        })
    }

    /// Starts worker `i`: writes `i + 1` to its slot, then `done()`.
    fn spawn_worker(this: &Arc<Self>, i: usize) -> thread::JoinHandle<()> {
        let s = this.clone();
        thread::spawn(move || {
            // SAFETY: slot `i` belongs to this worker until its `done()`.
            s.slots[i].with_mut(|p| unsafe { *p = i + 1 });
            s.wg.done();
        })
    }

    /// Reads every slot; call only after the wait returned.
    fn read_all(&self) -> [usize; 2] {
        // SAFETY: the wait returned, so every worker's write happened
        // before (loom reports it if not).
        [0, 1].map(|i| self.slots[i].with(|p| unsafe { *p }))
    }
}

/// `add(2)`, two workers each finishing with `done()`, and the main thread
/// in `wait()`. `wait` must not return until both are done, and must then
/// see both workers' writes.
#[test]
fn wait_returns_after_every_done_and_sees_the_work() {
    model(3, || {
        let s = Slots::new();
        s.wg.add(2);
        let hs = [Slots::spawn_worker(&s, 0), Slots::spawn_worker(&s, 1)];
        s.wg.wait();
        assert_eq!(s.read_all(), [1, 2]);
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(s.wg.count(), 0);
    });
}

/// The same with `wait_async` driven by loom's `block_on`: the future is
/// woken through its waker by the last `done()`.
#[test]
fn wait_async_returns_after_every_done_and_sees_the_work() {
    model(3, || {
        let s = Slots::new();
        s.wg.add(2);
        let hs = [Slots::spawn_worker(&s, 0), Slots::spawn_worker(&s, 1)];
        loom::future::block_on(s.wg.wait_async());
        assert_eq!(s.read_all(), [1, 2]);
        for h in hs {
            h.join().unwrap();
        }
    });
}

/// Two threads wait, one thread calls the only `done()`: reaching zero
/// wakes every waiter, not just one.
#[test]
fn reaching_zero_wakes_every_waiter() {
    model(3, || {
        let s = Slots::new();
        s.wg.add(1);
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let s = s.clone();
                thread::spawn(move || {
                    s.wg.wait();
                    s.read_all()[0]
                })
            })
            .collect();
        Slots::spawn_worker(&s, 0).join().unwrap();
        for w in waiters {
            assert_eq!(w.join().unwrap(), 1);
        }
    });
}

/// A `wait_async` future queued behind a non-zero counter is dropped while
/// another thread blocks in `wait()` and a third calls `done()`. Leaving
/// the queue must not clear the "waiters present" bit under the blocked
/// thread (it would then never be woken), nor swallow its wake-up.
#[test]
fn dropped_wait_async_leaves_other_waiters_woken() {
    model(3, || {
        let s = Slots::new();
        s.wg.add(1);
        {
            let mut f = Box::pin(s.wg.wait_async());
            assert!(poll_once(f.as_mut()).is_pending(), "the counter is 1");
            let s1 = s.clone();
            let waiter = thread::spawn(move || {
                s1.wg.wait();
                s1.read_all()[0]
            });
            let worker = Slots::spawn_worker(&s, 0);
            drop(f);
            worker.join().unwrap();
            assert_eq!(waiter.join().unwrap(), 1);
        }
        // The group is reusable: nothing stale is left in it.
        s.wg.add(1);
        s.wg.done();
        s.wg.wait();
    });
}
