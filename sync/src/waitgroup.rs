//! [`WaitGroup`]: Go's `sync.WaitGroup`.
//!
//! # State word
//!
//! `state: u64 = counter << 32 | WAITERS`, the counter a signed 32-bit
//! number in the high half (as in Go, where counter and waiter count share
//! one word). `WAITERS` says the wait queue may be non-empty; it is set and
//! cleared under the queue's lock (waiter invariant 2).
//!
//! # Protocol
//!
//! * `add(delta)`: one `fetch_add(delta << 32)`. A result below zero is a
//!   bug in the caller: the change is undone and `add` panics. If the
//!   counter reached zero with `WAITERS` set, take the queue lock, and if it
//!   is still zero, clear `WAITERS` and wake every waiter.
//! * `wait()`: return at once if the counter is zero; else under the queue
//!   lock re-check, set `WAITERS` and queue a waiter. The counter cannot
//!   reach zero between the check and the enqueue unnoticed: the waker
//!   takes the same lock.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::primitives::{Arc, AtomicU64, Ordering};
use crate::waiter::{WaitQueue, Waiter};

const WAITERS: u64 = 1;
const SHIFT: u32 = 32;

fn counter(state: u64) -> i32 {
    (state >> SHIFT) as u32 as i32
}

/// Waits for a collection of tasks to finish, as Go's `sync.WaitGroup`.
///
/// Call [`add`](Self::add) before starting work, [`done`](Self::done) when a
/// piece finishes, and [`wait`](Self::wait) (or
/// [`wait_async`](Self::wait_async)) to block until the counter is zero.
/// [`token`](Self::token) is the Rust-flavoured form: each token counts one
/// and dropping it is `done()`, so an early return or a panic cannot forget
/// to signal.
///
/// A counter going below zero is a bug in the caller; it panics.
///
/// ```
/// use hoare_sync::WaitGroup;
///
/// let wg = WaitGroup::new();
/// std::thread::scope(|s| {
///     for _ in 0..4 {
///         wg.add(1);
///         s.spawn(|| {
///             // ... work ...
///             wg.done();
///         });
///     }
///     wg.wait();
/// });
/// ```
pub struct WaitGroup {
    state: AtomicU64,
    queue: WaitQueue,
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGroup")
            .field("count", &self.count())
            .finish()
    }
}

impl Default for WaitGroup {
    fn default() -> Self {
        Self::new()
    }
}

impl WaitGroup {
    /// A wait group with a counter of zero.
    pub fn new() -> Self {
        WaitGroup {
            state: AtomicU64::new(0),
            queue: WaitQueue::new(),
        }
    }

    /// The counter's current value.
    pub fn count(&self) -> usize {
        counter(self.state.load(Ordering::Relaxed)).max(0) as usize
    }

    /// Adds `delta` (which may be negative) to the counter; waiters are
    /// released when it reaches zero.
    ///
    /// # Panics
    ///
    /// If the counter would go below zero (more `done()` than `add()`), or
    /// above `i32::MAX`. The counter is left unchanged.
    pub fn add(&self, delta: isize) {
        let Ok(d) = i32::try_from(delta) else {
            panic!("WaitGroup::add({delta}): delta out of range of the 32-bit counter");
        };
        let step = (d as i64 as u64) << SHIFT;
        // AcqRel: Release publishes the caller's work to the waiter that
        // observes zero; Acquire lets the thread that brings the counter to
        // zero carry the other `done()`s' releases on to the waiters.
        let prev = self.state.fetch_add(step, Ordering::AcqRel);
        let before = counter(prev);
        let Some(after) = before.checked_add(d) else {
            self.state.fetch_sub(step, Ordering::Relaxed);
            panic!("WaitGroup::add({delta}): counter overflow");
        };
        if after < 0 {
            self.state.fetch_sub(step, Ordering::Relaxed);
            panic!(
                "WaitGroup counter went negative ({before} + {delta}): done() was called more times than add()"
            );
        }
        if after == 0 && prev & WAITERS != 0 {
            self.wake_waiters();
        }
    }

    /// Decrements the counter by one.
    ///
    /// # Panics
    ///
    /// If the counter is already zero.
    pub fn done(&self) {
        self.add(-1);
    }

    /// Blocks until the counter is zero.
    pub fn wait(&self) {
        if self.is_zero() {
            return;
        }
        let waiter = Waiter::new();
        if self.enqueue(&waiter) {
            waiter.wait();
            Waiter::recycle(waiter);
        }
    }

    /// Waits for the counter to reach zero from async code.
    ///
    /// The future is `Send`, runs on any executor and is cancel-safe.
    ///
    /// ```
    /// let wg = hoare_sync::WaitGroup::new();
    /// futures::executor::block_on(wg.wait_async());
    /// ```
    pub fn wait_async(&self) -> WaitFuture<'_> {
        WaitFuture {
            wg: self,
            waiter: None,
        }
    }

    /// Adds one to the counter and returns a token that calls `done()`
    /// when dropped. Cloning the token adds one more.
    ///
    /// ```
    /// let wg = hoare_sync::WaitGroup::new();
    /// std::thread::scope(|s| {
    ///     for _ in 0..3 {
    ///         let token = wg.token();
    ///         s.spawn(move || drop(token));
    ///     }
    ///     wg.wait();
    /// });
    /// assert_eq!(wg.count(), 0);
    /// ```
    pub fn token(&self) -> WaitGroupToken<'_> {
        self.add(1);
        WaitGroupToken { wg: self }
    }

    fn is_zero(&self) -> bool {
        // Acquire: pairs with the AcqRel `fetch_add` in `add`.
        counter(self.state.load(Ordering::Acquire)) == 0
    }

    /// Queues `waiter` unless the counter is zero. Returns whether queued.
    fn enqueue(&self, waiter: &Arc<Waiter>) -> bool {
        let mut queue = self.queue.lock();
        // Acquire on every path: a zero here ends the wait.
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if counter(state) == 0 {
                return false;
            }
            if state & WAITERS != 0 {
                break;
            }
            match self.state.compare_exchange_weak(
                state,
                state | WAITERS,
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(s) => state = s,
            }
        }
        queue.push_back(0, 0, waiter.clone());
        true
    }

    #[cold]
    fn wake_waiters(&self) {
        let mut queue = self.queue.lock();
        let state = self.state.load(Ordering::Acquire);
        // Re-check under the lock: an `add` after the zero restarts the
        // wait (the waiters then wait for the next zero).
        if counter(state) == 0 && state & WAITERS != 0 {
            // Relaxed: under the queue lock; the waiters' tokens carry the
            // happens-before (Release in `notify_all`).
            self.state.fetch_and(!WAITERS, Ordering::Relaxed);
            queue.notify_all(0, 0);
        }
    }

    fn cancel(&self, waiter: &Arc<Waiter>) {
        let mut queue = self.queue.lock();
        if queue.remove(waiter) && !queue.contains_key(0) {
            // Relaxed: under the queue lock.
            self.state.fetch_and(!WAITERS, Ordering::Relaxed);
        }
        // A waiter already woken was woken with all the others: there is
        // no wake-up to pass on.
    }
}

/// One unit of a [`WaitGroup`]'s counter; dropping it calls `done()`.
#[must_use = "dropping the token immediately calls done()"]
pub struct WaitGroupToken<'a> {
    wg: &'a WaitGroup,
}

impl fmt::Debug for WaitGroupToken<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGroupToken").finish_non_exhaustive()
    }
}

impl Clone for WaitGroupToken<'_> {
    fn clone(&self) -> Self {
        self.wg.token()
    }
}

impl Drop for WaitGroupToken<'_> {
    fn drop(&mut self) {
        self.wg.done();
    }
}

/// The future returned by [`WaitGroup::wait_async`].
#[must_use = "futures do nothing unless polled"]
pub struct WaitFuture<'a> {
    wg: &'a WaitGroup,
    waiter: Option<Arc<Waiter>>,
}

impl fmt::Debug for WaitFuture<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitFuture")
            .field("queued", &self.waiter.is_some())
            .finish()
    }
}

impl Future for WaitFuture<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.waiter.is_none() && this.wg.is_zero() {
            return Poll::Ready(());
        }
        let wg = this.wg;
        Waiter::poll_queued(&mut this.waiter, cx, |w| wg.enqueue(w)).map(|_| ())
    }
}

impl Drop for WaitFuture<'_> {
    fn drop(&mut self) {
        if let Some(waiter) = self.waiter.take() {
            self.wg.cancel(&waiter);
        }
    }
}
