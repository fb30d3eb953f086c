//! Go's channels for Rust: unbuffered, buffered and unbounded MPMC
//! channels with `close`, `select!`, timers and cancellation contexts, for
//! threads and for async code on any executor.
//!
//! # Channels
//!
//! | Go                     | hoare-chan                                   |
//! |------------------------|----------------------------------------------|
//! | `make(chan T)`         | [`bounded::<T>(0)`](bounded) (rendezvous)     |
//! | `make(chan T, n)`      | [`bounded::<T>(n)`](bounded)                  |
//! | (no equivalent)        | [`unbounded::<T>()`](unbounded)               |
//! | `ch <- v`              | [`tx.send(v)`](Sender::send), [`tx.send_async(v).await`](Sender::send_async) |
//! | `v, ok := <-ch`        | [`rx.recv()`](Receiver::recv), [`rx.recv_async().await`](Receiver::recv_async) |
//! | `close(ch)`            | [`tx.close()`](Sender::close), or drop the last `Sender` |
//! | `for v := range ch`    | `for v in &rx` / [`rx.iter()`](Receiver::iter) |
//! | `len(ch)`, `cap(ch)`   | [`len`](Receiver::len), [`capacity`](Receiver::capacity) |
//! | `select { ... }`       | [`select!`], [`select_async!`], [`Select`]    |
//! | `time.After`, `time.Tick` | [`after`], [`tick`]                        |
//! | a `nil` channel        | [`never()`]                                   |
//!
//! Both handles are `Clone + Send + Sync`; any number of threads and tasks
//! may send and receive on one channel at once, blocking, non-blocking
//! (`try_*`), with a timeout (`*_timeout`, `*_deadline`) and async, in any
//! mix.
//!
//! ```
//! use hoare_chan::bounded;
//! use std::thread;
//!
//! let (tx, rx) = bounded(0); // unbuffered: each send waits for a receiver
//! let producer = thread::spawn(move || {
//!     for i in 0..3 {
//!         tx.send(i).unwrap();
//!     }
//!     // `tx` dropped: the channel closes and the loop below ends.
//! });
//! let got: Vec<i32> = rx.iter().collect();
//! assert_eq!(got, [0, 1, 2]);
//! producer.join().unwrap();
//! ```
//!
//! # Closing loses nothing
//!
//! After a close, `send` fails and returns the value inside the error.
//! Receivers first get every value still buffered, then `Err`. When the
//! last `Receiver` is dropped the channel closes too: senders get their
//! values back, and buffered values are dropped, each exactly once.
//!
//! ```
//! let (tx, rx) = hoare_chan::bounded(2);
//! tx.send("a").unwrap();
//! tx.send("b").unwrap();
//! assert!(tx.close());
//! assert_eq!(tx.send("c").unwrap_err().into_inner(), "c");
//! assert_eq!(rx.recv(), Ok("a"));
//! assert_eq!(rx.recv(), Ok("b"));
//! assert!(rx.recv().is_err());
//! ```
//!
//! # Select
//!
//! [`select!`] waits on several operations and runs the first that can
//! proceed; when several can, it picks one uniformly at random, like Go.
//! A value is only ever taken by the case that runs.
//!
//! ```
//! use hoare_chan::{after, select, unbounded};
//! use std::time::Duration;
//!
//! let (tx, rx) = unbounded::<String>();
//! let timeout = after(Duration::from_millis(10));
//! tx.send("job".into()).unwrap();
//! loop {
//!     select! {
//!         recv(rx) -> job => println!("got {}", job.unwrap()),
//!         recv(timeout) -> _ => break,
//!     }
//! }
//! ```
//!
//! # Async
//!
//! The `_async` methods, [`select_async!`] and [`Select::select_async`]
//! return futures that need no particular runtime. They are cancel-safe:
//! dropping a pending `recv_async` loses no value, and dropping a pending
//! `send_async` either sent the value completely or not at all. With the
//! `futures` feature (on by default), `Receiver` is a `Stream` and `Sender`
//! a `Sink`.
//!
//! # Cancellation
//!
//! The [`context`] module is Go's `context` package: a [`Context`](context::Context)
//! is cancelled by its [`Cancel`](context::Cancel), by its deadline, or
//! with its parent, and its [`done()`](context::Context::done) channel then
//! closes, so a `recv(ctx.done())` case ends a `select!`.
//!
//! ```
//! use hoare_chan::context::{Context, ContextError};
//! use hoare_chan::{select, unbounded};
//! use std::time::Duration;
//!
//! let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(10));
//! let (_tx, jobs) = unbounded::<u32>();
//! select! {
//!     recv(jobs) -> job => println!("{job:?}"),
//!     recv(ctx.done()) -> _ => assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded)),
//! }
//! ```
//!
//! # Design decisions
//!
//! - A `send` case's value is evaluated before the select, as in Go; if
//!   the case does not fire, the value is dropped with the select.
//! - On an unbuffered channel, `try_send` succeeds only when a receiver is
//!   waiting for it: blocked in a thread, in a pending `recv_async`, or in
//!   a `select!` receive case (see the hand-over below). A `Stream` on the
//!   other side is woken instead and takes the value only from a waiting
//!   sender.
//! - Blocking waits spin briefly (about 4 µs) when the process may use
//!   more than one core (a partner on another core usually arrives in well
//!   under a microsecond, a sleep and wake costs tens), then yield the core
//!   up to 64 times (which lets the partner run at once when threads
//!   outnumber cores), and only then sleep.
//! - A pending future (`recv_async`, `send_async`, a `Stream` or `Sink`)
//!   retries its operation for well under a microsecond before it returns
//!   `Pending`, and only while that keeps paying on the executor thread
//!   polling it: when the partner task runs on another thread it usually
//!   acts within that time, which saves a wake-up and a re-poll; on a
//!   single-threaded executor, where the partner cannot run meanwhile, the
//!   spin stops after a few misses (the thread then tries one spin in
//!   64 polls). A future polled from a new task while pending wakes
//!   that task, as the `Future` contract asks.
//! - A `recv_async` or `send_async` future that can complete at its first
//!   poll (a value or a free slot in a buffered or unbounded channel)
//!   does one attempt of the blocking call's fast path and nothing else.
//!   One that waits takes a wait signal from a small per-thread pool and
//!   keeps the value it hands over or is handed in that signal when the
//!   value is at most three words (a `u64`, a `String`, a `Vec`), so a
//!   wait allocates nothing; larger values wait in a heap box.
//! - On an unbuffered channel a waiting receiver (a thread, a pending
//!   `recv_async`, a `select!` receive case) is handed the value directly,
//!   as Go hands a value to a parked goroutine: the sender goes on at
//!   once, so one message costs one wait instead of one on each side. Of a
//!   select's cases only the one that fires is ever handed a value. A
//!   future that is dropped after it was handed a value and before it
//!   returned it gives the value back to the channel, first in line: the
//!   next receive gets it before anything else (`len()` counts it
//!   meanwhile), so no value is lost and a receiver that retries (a loop
//!   around a timed-out receive) sees the values in the order they were
//!   sent. A `Stream` is only woken and takes the value itself. On a
//!   buffered channel the same holds for a waiting receiver thread or
//!   `recv_async` when the buffer is empty (a value handed over then and
//!   given back is received before anything in the buffer); a `select!`
//!   case there is only woken.
//! - A sender blocked on a full buffered channel (a thread in `send`, a
//!   pending `send_async` future, a `Sink`) has its value moved into the
//!   channel by the receive that makes room, as Go's runtime does; the
//!   sender does not wake up to race other senders for the slot. A
//!   `send_async` future dropped after that has still sent its value.
//!   `select!` send cases are only woken, since they may fire elsewhere.
//! - Timer channels ([`after`], [`tick`]) are never closed, as in Go.
//!
//! # Implementation
//!
//! One file per flavor under `flavors/` (a stamped ring for `bounded(n)`,
//! linked blocks for `unbounded`, a lock-protected rendezvous for
//! `bounded(0)`), each opening with its invariants; `signal.rs` and
//! `waitlist.rs` hold the waiting machinery and `select.rs` the selection
//! protocol. `SAFETY.md` at the repository root indexes every `unsafe`
//! block and every ordering weaker than `SeqCst`.

#![warn(missing_docs)]

mod assertions;
mod channel;
pub mod context;
mod counter;
mod err;
mod flavors;
mod primitives;
mod select;
mod select_dyn;
mod select_macro;
mod signal;
#[cfg(feature = "futures")]
mod stream;
mod timer;
mod waitlist;

pub use channel::{
    IntoIter, Iter, Receiver, Sender, TryIter, after, bounded, never, tick, unbounded,
};
pub use err::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};
pub use select::{RecvFuture, SendFuture};
pub use select_dyn::{Select, SelectedOperation};

/// Internals the macros expand to. Not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::select::{
        AsyncSelect, Case, Mode, Outcome, RecvCase, SendCase, dispose, run_blocking, take_if,
    };
    pub use crate::signal::Signal;
}
