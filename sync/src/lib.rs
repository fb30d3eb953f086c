//! # hoare-sync: Go's `sync` package for Rust
//!
//! The synchronization primitives a Go programmer reaches for, each with a
//! blocking form (the thread sleeps on a futex) and an async form (a `Send`
//! future that runs on any executor: tokio, `futures`, smol, hoare-sched).
//!
//! | Go                          | hoare-sync                                   |
//! |-----------------------------|----------------------------------------------|
//! | `sync.Mutex`                | [`Mutex<T>`] (guards the data it protects)    |
//! | `sync.RWMutex`              | [`RwMutex<T>`]                                |
//! | `sync.WaitGroup`            | [`WaitGroup`] (plus drop-tokens)              |
//! | `sync.Once`, `sync.OnceValue` | [`Once`], [`OnceCell<T>`]                   |
//! | `sync.Cond`                 | [`Cond`]                                      |
//! | buffered channel as semaphore, `semaphore.Weighted` | [`Semaphore`]         |
//! | `atomic.Int64`              | [`AtomicCounter`], [`ShardedCounter`]         |
//! | `sync.Pool`                 | [`Pool<T>`] (bounded: keeps at most a fixed number of idle values) |
//! | `sync.Map`                  | [`Map<K, V>`] (lock-free reads; values read by clone or by borrow) |
//!
//! Handles are shared as Go shares them by pointer: through an `Arc`, a
//! `static`, or a borrow in scoped threads. They are never copied.
//!
//! ## Locks guard data
//!
//! Unlike Go's, a hoare lock owns the value it protects; you reach the value
//! only through the guard, and the lock is released when the guard drops.
//!
//! ```
//! use hoare_sync::Mutex;
//! use std::sync::Arc;
//!
//! let balance = Arc::new(Mutex::new(100));
//! let b = balance.clone();
//! std::thread::spawn(move || *b.lock() -= 30).join().unwrap();
//! assert_eq!(*balance.lock(), 70);
//! ```
//!
//! The same from async code, on any executor:
//!
//! ```
//! use hoare_sync::Mutex;
//!
//! let m = Mutex::new(Vec::new());
//! futures::executor::block_on(async {
//!     m.lock_async().await.push("from a future");
//! });
//! assert_eq!(m.lock().len(), 1);
//! ```
//!
//! ## Waiting for goroutines
//!
//! ```
//! use hoare_sync::WaitGroup;
//!
//! let wg = WaitGroup::new();
//! std::thread::scope(|s| {
//!     for i in 0..3 {
//!         let token = wg.token(); // wg.Add(1); defer wg.Done()
//!         s.spawn(move || {
//!             let _done = token;
//!             println!("worker {i}");
//!         });
//!     }
//!     wg.wait();
//! });
//! ```
//!
//! ## Semantics worth knowing
//!
//! * **Fairness.** [`Mutex`] follows Go's two modes: normally a running
//!   thread may take the lock ahead of a sleeping waiter (fast), but a
//!   waiter that has waited over 1 ms gets it handed over directly (no
//!   starvation). [`RwMutex`] prefers writers, and admits all queued
//!   readers together after a writer. [`Semaphore`] is strictly FIFO.
//! * **No poisoning.** A panic while holding a lock just releases it.
//! * **Not re-entrant.** Locking a lock you already hold deadlocks, as in
//!   Go.
//! * **Misuse panics with a message**, never hangs: a [`WaitGroup`] counter
//!   going negative, a [`Semaphore::acquire`] of more permits than exist.
//! * **Once and panics.** A panicking [`Once`] initializer leaves it
//!   un-initialized and the next caller runs its own (Go would count the
//!   panicking call as done).
//! * **Cancel-safety.** Dropping a pending `lock_async`, `acquire_async`,
//!   `wait_async` (and the rest) never loses a lock, a permit or a wake-up
//!   meant for another waiter: what was handed to the dropped future is
//!   passed on.
//!
//! ## Building blocks
//!
//! The [`waiter`] module exposes the queue of thread and task waiters that
//! every primitive here is built on (and that hoare-chan reuses).
//!
//! ## Verification
//!
//! Every algorithm runs unchanged under the loom model checker
//! (`RUSTFLAGS="--cfg loom"`), the behaviour tests run under Miri, the
//! stress tests under ThreadSanitizer, and cargo-fuzz drives the semaphore
//! and wait group against sequential models. See `SAFETY.md` in the
//! repository for every `unsafe` block and atomic ordering.

#![warn(missing_docs)]

#[cfg(not(loom))]
mod assertions;
mod cond;
mod counter;
mod map;
mod mutex;
mod once;
mod parking;
mod pool;
mod primitives;
mod rwmutex;
mod semaphore;
mod spinlock;
pub mod waiter;
mod waitgroup;

pub use cond::{Cond, CondWaitFuture};
pub use counter::{AtomicCounter, ShardedCounter};
pub use map::Map;
pub use mutex::{Mutex, MutexGuard, MutexLockFuture};
pub use once::{Once, OnceCell};
pub use pool::Pool;
pub use rwmutex::{
    RwMutex, RwMutexReadFuture, RwMutexReadGuard, RwMutexWriteFuture, RwMutexWriteGuard,
};
pub use semaphore::{AcquireFuture, MAX_PERMITS, Permit, Semaphore};
pub use waitgroup::{WaitFuture, WaitGroup, WaitGroupToken};
