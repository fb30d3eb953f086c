//! A small Go-style runtime for futures: goroutines scheduled like Go's
//! runtime schedules G's on M's holding P's.
//!
//! ```
//! use hoare_sched::{Runtime, go};
//!
//! let rt = Runtime::builder().procs(2).build();
//! let (tx, rx) = hoare_chan::bounded::<u64>(0);
//! let total = rt.block_on(async move {
//!     go(async move {
//!         for i in 1..=100 {
//!             tx.send_async(i).await.unwrap();
//!         }
//!     });
//!     let mut total = 0;
//!     while let Ok(v) = rx.recv_async().await {
//!         total += v;
//!     }
//!     total
//! });
//! assert_eq!(total, 5050);
//! ```
//!
//! # What is here
//!
//! | Go | hoare-sched |
//! |---|---|
//! | `GOMAXPROCS` | [`Builder::procs`] |
//! | `go f()` | [`go`], [`Runtime::spawn`] → [`JoinHandle`] (a future; [`JoinHandle::join`] blocks a thread) |
//! | `runtime.Gosched()` | [`yield_now`] |
//! | `time.Sleep`, `time.After`, `time.Ticker` | [`sleep`], [`timeout`], [`interval`] |
//! | a goroutine in a blocking syscall | [`block_in_place`], and the monitor's handoff of a stuck worker |
//! | goroutine dump, "all goroutines are asleep" | [`Runtime::dump`], [`Builder::detect_deadlock`] |
//!
//! Any future runs on it: hoare-chan channels and hoare-sync locks, like
//! any other executor's futures, need nothing special.
//!
//! # Scheduling
//!
//! Each P has a local ring of 256 tasks and a `runnext` slot; a global
//! queue takes what comes from outside the workers and what overflows.
//! Idle workers steal half of a random victim's ring (`queue.rs`,
//! `runtime.rs` explain the algorithms and their invariants). The policy
//! can be swapped for a single global FIFO ([`Policy::GlobalFifo`]) to
//! measure what locality buys.
//!
//! # Design decisions
//!
//! - **A goroutine that blocks its thread does not stall the others.**
//!   A monitor thread (Go's sysmon) notices a worker stuck in one poll for
//!   more than 10 ms and gives its P, with the P's queue, to another
//!   worker thread; [`block_in_place`] does the same at once. The old
//!   thread finishes its poll and becomes a spare, which the next handoff
//!   reuses instead of starting a thread (Go's idle M list); a spare that
//!   gets no P for 10 s exits. The monitor also drives the timers.
//! - **Panics stay in their goroutine.** A panicking task completes with
//!   `Err(JoinError::Panicked(payload))`; the worker and the runtime go
//!   on. A panic in `block_on`'s own future reaches its caller.
//! - **Dropping a `JoinHandle` detaches the task** (Go has no join); it
//!   keeps running. [`JoinHandle::abort`] cancels it.
//! - **Shutdown** (dropping the [`Runtime`]) waits for the workers to stop
//!   and drops every unfinished task's future exactly once; their handles
//!   return `Err(JoinError::Cancelled)`. A worker stuck in a poll is waited
//!   for.
//! - **The deadlock check is opt-in** and based on quiescence: a waker may
//!   sit in a channel only waiting tasks can reach, which no scan can
//!   prove, so "no task ran, was woken or had a timer armed for the grace
//!   period" is the test.
//! - **A woken task goes to the waker's `runnext`** and no idle worker is
//!   woken for it, so a producer and a consumer hand the P back and forth
//!   without waking threads; a searching worker may still steal it while
//!   the P is busy.
//! - **No network poller of its own.** Sockets come from a reactor that
//!   works with any executor (async-io, say); [`Builder::park_with`] lets
//!   idle workers wait in that reactor's `block_on`, so they handle its
//!   events as Go's idle Ms poll the network (`examples/echo_server.rs`).

#![warn(missing_docs)]

mod dump;
mod policy;
mod primitives;
mod queue;
mod registry;
mod runtime;
mod task;
mod timer;

pub use dump::{Deadlock, Dump, TaskInfo};
pub use primitives::Unparked;
pub use runtime::{Builder, Policy, Runtime, block_in_place, go, go_named, yield_now};
pub use task::{JoinError, JoinHandle, TaskState};
pub use timer::{Elapsed, Interval, Sleep, Timeout, interval, sleep, sleep_until, timeout};

/// The run queues, for the loom models in `tests/loom_queue.rs` (not an
/// API).
#[cfg(loom)]
#[doc(hidden)]
pub mod __loom {
    pub use crate::queue::{Inject, Item, LOCAL_CAP, Local};
}

static_assertions::assert_impl_all!(Runtime: Send, Sync);
static_assertions::assert_impl_all!(JoinHandle<u32>: Send, Sync, Unpin);
static_assertions::assert_impl_all!(JoinError: Send);
static_assertions::assert_impl_all!(Sleep: Send, Sync, Unpin);
static_assertions::assert_impl_all!(Deadlock: Send, Sync);
