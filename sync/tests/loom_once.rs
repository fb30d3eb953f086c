//! loom models of `Once` and `OnceCell`: racing callers run one
//! initializer, a panicking or cancelled initializer leaves the cell empty
//! for the next caller, and every caller sees the initialized value.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p hoare-sync --release --target-dir target/loom --test loom_once`.
//!
//! A caller that returns before the initializer's writes are visible is
//! reported by loom as a data race on the value's cell; a waiter that is
//! not woken when the runner finishes or fails is a loom deadlock.
#![cfg(loom)]

use std::panic::{AssertUnwindSafe, catch_unwind};

use hoare_sync::{Once, OnceCell};
use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

mod util;
use util::{model, poll_once};

const PLANNED_PANIC: &str = "planned panic in an initializer";

/// Keeps the panic hook quiet about [`PLANNED_PANIC`] (it fires in many of
/// loom's executions) while still printing every other panic.
fn silence_planned_panics() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() != Some(&PLANNED_PANIC) {
                default(info);
            }
        }));
    });
}

/// A `Once` guarding a value written by its initializer.
struct Guarded {
    once: Once,
    runs: AtomicUsize,
    value: UnsafeCell<usize>,
}

// SAFETY: `value` is written only inside `call_once`'s initializer and read
// only after `call_once` returned; loom checks that ordering.
unsafe impl Sync for Guarded {}

impl Guarded {
    fn new() -> Arc<Guarded> {
        Arc::new(Guarded {
            once: Once::new(),
            runs: AtomicUsize::new(0),
            value: UnsafeCell::new(0),
        })
    }

    /// `call_once` with an initializer that stores `v`; returns the value
    /// seen afterwards.
    fn init(&self, v: usize) -> usize {
        self.once.call_once(|| {
            self.runs.fetch_add(1, Ordering::Relaxed);
            // SAFETY: only the one running initializer writes.
            self.value.with_mut(|p| unsafe { *p = v });
        });
        // SAFETY: `call_once` returned, so an initializer completed and
        // its write happened before this read.
        self.value.with(|p| unsafe { *p })
    }
}

/// Three threads race `call_once`. Exactly one initializer runs, and every
/// caller, the ones that waited included, sees its write on return.
#[test]
fn racing_call_once_runs_one_initializer_seen_by_all() {
    model(3, || {
        let g = Guarded::new();
        let hs: Vec<_> = [1, 2]
            .map(|v| {
                let g = g.clone();
                thread::spawn(move || g.init(v))
            })
            .into_iter()
            .collect();
        let mine = g.init(3);
        for h in hs {
            assert_eq!(h.join().unwrap(), mine, "callers saw different values");
        }
        assert_eq!(g.runs.load(Ordering::Relaxed), 1);
        assert!(g.once.is_completed());
    });
}

/// One caller's initializer panics (caught on its thread), another's
/// succeeds. Whatever the order, the panic leaves the `Once` incomplete, a
/// caller waiting on the panicking run is woken and runs its own
/// initializer, and at the end exactly the successful one has taken effect.
#[test]
fn panicking_initializer_leaves_it_to_the_next_caller() {
    silence_planned_panics();
    model(3, || {
        let g = Guarded::new();
        let g1 = g.clone();
        let panicker = thread::spawn(move || {
            catch_unwind(AssertUnwindSafe(|| {
                g1.once.call_once(|| std::panic::panic_any(PLANNED_PANIC));
            }))
            .is_err()
        });
        let seen = g.init(7);
        // It panicked, or came after completion and ran nothing.
        let _panicked: bool = panicker.join().unwrap();
        assert_eq!(seen, 7);
        assert_eq!(g.runs.load(Ordering::Relaxed), 1);
        assert!(g.once.is_completed());
    });
}

/// Three threads race `OnceCell::get_or_init`: all get the same value,
/// exactly one initializer ran, and reading the value through the shared
/// references is race-free.
#[test]
fn racing_get_or_init_agree_on_one_value() {
    model(3, || {
        let cell = Arc::new(OnceCell::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = [1, 2]
            .map(|v| {
                let (cell, runs) = (cell.clone(), runs.clone());
                thread::spawn(move || {
                    *cell.get_or_init(|| {
                        runs.fetch_add(1, Ordering::Relaxed);
                        v
                    })
                })
            })
            .into_iter()
            .collect();
        let mine = *cell.get_or_init(|| {
            runs.fetch_add(1, Ordering::Relaxed);
            3
        });
        for h in hs {
            assert_eq!(h.join().unwrap(), mine);
        }
        assert_eq!(runs.load(Ordering::Relaxed), 1);
        assert_eq!(cell.get(), Some(&mine));
    });
}

/// `get_or_init_async` (driven by `block_on`) races a blocking
/// `get_or_init`: whichever initializes, the other waits for it (the async
/// one through its waker) and both return the same value.
#[test]
fn get_or_init_async_and_blocking_agree_on_one_value() {
    model(3, || {
        let cell = Arc::new(OnceCell::new());
        let c1 = cell.clone();
        let other = thread::spawn(move || *c1.get_or_init(|| 1usize));
        let mine = loom::future::block_on(async { *cell.get_or_init_async(|| async { 2 }).await });
        assert_eq!(other.join().unwrap(), mine);
    });
}

/// An async initializer that never finishes is dropped while another
/// thread wants the value. The drop must reset the cell to empty and wake
/// that thread, which then runs its own initializer.
#[test]
fn dropped_async_initializer_leaves_it_to_the_next_caller() {
    model(3, || {
        let cell = Arc::new(OnceCell::new());
        let mut f = Box::pin(cell.get_or_init_async(std::future::pending::<usize>));
        assert!(poll_once(f.as_mut()).is_pending());
        let c1 = cell.clone();
        let other = thread::spawn(move || *c1.get_or_init(|| 5usize));
        drop(f);
        assert_eq!(other.join().unwrap(), 5);
        assert_eq!(cell.get(), Some(&5));
    });
}
