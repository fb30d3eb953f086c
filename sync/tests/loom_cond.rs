//! loom models of `Cond`: a notification is never lost between a waiter's
//! check of its condition and its sleep, each `notify_one` wakes a waiter,
//! `notify_all` wakes them all, and a dropped `wait_async` future passes on
//! a `notify_one` it received.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p hoare-sync --release --target-dir target/loom --test loom_cond`.
//!
//! Waiters use the condition loop Go requires (`for !cond { c.Wait() }`);
//! a waiter whose wake-up is lost stays asleep, which loom reports as a
//! deadlock.
#![cfg(loom)]

use hoare_sync::{Cond, Mutex};
use loom::sync::Arc;
use loom::thread;

mod util;
use util::model;

/// A count of "tickets" under a mutex, and the condition "a ticket is
/// available".
struct Tickets {
    count: Mutex<usize>,
    cond: Cond,
}

impl Tickets {
    fn new() -> Arc<Tickets> {
        Arc::new(Tickets {
            count: Mutex::new(0),
            cond: Cond::new(),
        })
    }

    /// Waits until a ticket is available and takes it.
    fn take(&self) {
        let mut g = self.count.lock();
        while *g == 0 {
            g = self.cond.wait(g);
        }
        *g -= 1;
    }

    /// Adds a ticket under the lock, then notifies one waiter outside it.
    fn give_one(&self) {
        *self.count.lock() += 1;
        self.cond.notify_one();
    }
}

/// The classic flag: one thread waits for it, the other sets it under the
/// mutex and calls `notify_one`. Whatever the interleaving, the waiter
/// wakes: the notifier can only take the mutex after the waiter queued
/// itself and released it.
#[test]
fn notify_after_setting_the_flag_is_never_lost() {
    model(3, || {
        let t = Tickets::new();
        let t1 = t.clone();
        let waiter = thread::spawn(move || t1.take());
        t.give_one();
        waiter.join().unwrap();
        assert_eq!(*t.count.lock(), 0);
    });
}

/// Two waiters, two `notify_one`s (each after adding one ticket): both
/// waiters get through, so each notification woke a distinct waiter (or
/// found its ticket already taken by a waiter that had not slept yet).
#[test]
fn two_notify_ones_release_two_waiters() {
    model(2, || {
        let t = Tickets::new();
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let t = t.clone();
                thread::spawn(move || t.take())
            })
            .collect();
        t.give_one();
        t.give_one();
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(*t.count.lock(), 0);
    });
}

/// Two waiters on a flag and one `notify_all`: both wake.
#[test]
fn notify_all_wakes_every_waiter() {
    model(3, || {
        let flag = Arc::new((Mutex::new(false), Cond::new()));
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let flag = flag.clone();
                thread::spawn(move || {
                    let (m, c) = &*flag;
                    let mut g = m.lock();
                    while !*g {
                        g = c.wait(g);
                    }
                })
            })
            .collect();
        *flag.0.lock() = true;
        flag.1.notify_all();
        for w in waiters {
            w.join().unwrap();
        }
    });
}

/// The main thread queues a `wait_async` future (it is queued when
/// created, before the mutex is released), a second thread waits with the
/// blocking `wait`, and a third gives one ticket with `notify_one`. The
/// future is dropped without being polled. If the notification picked the
/// future, its drop must pass it on: the blocking waiter still gets the
/// ticket.
#[test]
fn dropped_wait_async_passes_on_its_notify_one() {
    model(3, || {
        let t = Tickets::new();
        let f = t.cond.wait_async(t.count.lock());
        let t1 = t.clone();
        let waiter = thread::spawn(move || t1.take());
        let t2 = t.clone();
        let giver = thread::spawn(move || t2.give_one());
        drop(f);
        giver.join().unwrap();
        waiter.join().unwrap();
        assert_eq!(*t.count.lock(), 0);
    });
}
