//! Helpers shared by the test files (`mod util;` in each): the channel
//! flavors to loop over, a drop-counting payload, wakers that record
//! wake-ups, and a watchdog that turns a hang into a failure.

#![allow(dead_code)]

pub mod alloc;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use hoare_chan::{Receiver, Sender, bounded, unbounded};

/// Every kind of channel a user can make with a sender: unbuffered,
/// buffered with one slot, buffered with several, unbounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// `bounded(0)`.
    Zero,
    /// `bounded(1)`.
    One,
    /// `bounded(16)`.
    Sixteen,
    /// `unbounded()`.
    Unbounded,
}

/// All of them, for `for flavor in FLAVORS`.
pub const FLAVORS: [Flavor; 4] = [
    Flavor::Zero,
    Flavor::One,
    Flavor::Sixteen,
    Flavor::Unbounded,
];

/// The flavors with a buffer (a value can wait in them with no receiver).
pub const BUFFERED: [Flavor; 3] = [Flavor::One, Flavor::Sixteen, Flavor::Unbounded];

/// The flavors in which a sender can block (unbuffered or full).
pub const BLOCKING_SEND: [Flavor; 3] = [Flavor::Zero, Flavor::One, Flavor::Sixteen];

impl Flavor {
    /// A new channel of this flavor.
    pub fn make<T>(self) -> (Sender<T>, Receiver<T>) {
        match self {
            Flavor::Zero => bounded(0),
            Flavor::One => bounded(1),
            Flavor::Sixteen => bounded(16),
            Flavor::Unbounded => unbounded(),
        }
    }

    /// How many values fit without a receiver (`None`: any number).
    pub fn capacity(self) -> Option<usize> {
        match self {
            Flavor::Zero => Some(0),
            Flavor::One => Some(1),
            Flavor::Sixteen => Some(16),
            Flavor::Unbounded => None,
        }
    }

    /// Fills the channel so that the next send would block (nothing to do
    /// for the unbuffered flavor). Panics for the unbounded one.
    pub fn fill<T>(self, tx: &Sender<T>, mut value: impl FnMut(usize) -> T) {
        let cap = self
            .capacity()
            .expect("an unbounded channel cannot be filled");
        for i in 0..cap {
            assert!(
                tx.try_send(value(i)).is_ok(),
                "{self:?}: slot {i} should be free"
            );
        }
        assert!(tx.is_full());
    }
}

/// A payload that counts its drops in a shared counter.
#[derive(Debug)]
pub struct Counted {
    pub id: usize,
    drops: Arc<AtomicUsize>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// Makes [`Counted`] values and says how many were dropped.
#[derive(Clone, Debug, Default)]
pub struct Drops(Arc<AtomicUsize>);

impl Drops {
    pub fn new() -> Self {
        Drops::default()
    }

    /// A payload with this `id` whose drop this counter counts.
    pub fn make(&self, id: usize) -> Counted {
        Counted {
            id,
            drops: self.0.clone(),
        }
    }

    /// Drops so far.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// A payload type without `Debug`, `Clone` or `PartialEq`.
pub struct NotDebug(pub u32);

/// Polls `f` once with a waker that does nothing.
pub fn poll_once<F: Future + ?Sized>(f: Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(Waker::noop()))
}

/// A waker that counts how often it was woken.
#[derive(Default, Debug)]
pub struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl CountingWaker {
    /// A new waker and the handle to read its count.
    pub fn new() -> (Waker, Arc<CountingWaker>) {
        let w = Arc::new(CountingWaker::default());
        (Waker::from(w.clone()), w)
    }

    /// Wake-ups so far.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Polls `f` once with `waker`.
pub fn poll_with<F: Future + ?Sized>(f: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(waker))
}

/// Time for a spawned thread to reach its blocking call. Tests never rely
/// on it for correctness in the passing direction: a thread that is late
/// only makes the test check an easier case.
pub fn settle() {
    thread::sleep(Duration::from_millis(if cfg!(miri) { 10 } else { 50 }));
}

/// How long a test waits before it declares a hang.
pub const HANG: Duration = Duration::from_secs(60);

/// Runs `f` on its own thread and panics if it has not finished after
/// `limit` (a lost wake-up shows up as a failure, not a stuck test run).
/// A panic in `f` is passed on.
pub fn watchdog<R: Send + 'static>(
    name: &str,
    limit: Duration,
    f: impl FnOnce() -> R + Send + 'static,
) -> R {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let worker = thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let r = f();
            let _ = done_tx.send(());
            r
        })
        .expect("spawn the watched thread");
    match done_rx.recv_timeout(limit) {
        Ok(()) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{name}: still running after {limit:?}; a wake-up was lost (hang)")
        }
    }
}

/// Waits (polling every millisecond) until `cond` holds; panics with
/// `what` after [`HANG`].
pub fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(start.elapsed() < HANG, "never happened: {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// A small pseudo-random number generator (xorshift) for test schedules.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A multi-thread tokio runtime with two workers (the machine's cores).
/// Tests that use it are ignored under Miri, which cannot run it.
pub fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Sends `value` on another thread after [`settle`] and hands the sender
/// back through the join handle: the channel stays open until the test
/// joins, so a close (the last sender dropped) cannot stand in for the
/// wake-up under test.
pub fn send_later<T: Send + 'static>(tx: Sender<T>, value: T) -> thread::JoinHandle<Sender<T>> {
    thread::spawn(move || {
        settle();
        assert!(tx.send(value).is_ok(), "send_later: the channel is closed");
        tx
    })
}
