//! # hoare-sync: Go's `sync` package for Rust
//!
//! (crate guide: see README; filled in below)

#![warn(missing_docs)]

mod cond;
mod counter;
mod mutex;
mod once;
mod parking;
mod primitives;
mod rwmutex;
mod semaphore;
mod spinlock;
pub mod waiter;
mod waitgroup;

pub use cond::{Cond, CondWaitFuture};
pub use counter::{AtomicCounter, ShardedCounter};
pub use mutex::{Mutex, MutexGuard, MutexLockFuture};
pub use once::{Once, OnceCell};
pub use rwmutex::{
    RwMutex, RwMutexReadFuture, RwMutexReadGuard, RwMutexWriteFuture, RwMutexWriteGuard,
};
pub use semaphore::{AcquireFuture, MAX_PERMITS, Permit, Semaphore};
pub use waitgroup::{WaitFuture, WaitGroup, WaitGroupToken};
