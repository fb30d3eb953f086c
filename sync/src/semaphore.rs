//! [`Semaphore`]: a weighted, FIFO-fair counting semaphore.
//!
//! In Go a buffered channel used as a semaphore (`sem <- struct{}{}` to
//! acquire, `<-sem` to release) or `golang.org/x/sync/semaphore.Weighted`.
//!
//! # State word
//!
//! `state = available_permits << 1 | QUEUED`. `QUEUED` says the wait queue
//! is not empty; it is set and cleared only under the queue's lock (waiter
//! invariant 2). While it is set, nobody takes permits by the fast path:
//! they queue behind the waiters, which is what makes the semaphore FIFO
//! (a big request at the head is not overtaken by small ones behind it).
//!
//! # Protocol
//!
//! * acquire: one CAS `state -> state - 2n` when `QUEUED` is clear and
//!   enough permits are there; otherwise, under the queue lock, re-check
//!   and either take them or set `QUEUED` and queue a waiter tagged `n`.
//! * release: one CAS `state -> state + 2n` when `QUEUED` is clear;
//!   otherwise, under the queue lock, add the permits and *grant* them to
//!   waiters from the head while the head's request fits, then clear
//!   `QUEUED` if the queue emptied. A granted waiter owns its permits when
//!   it wakes (token `GRANTED`); it does not compete again.
//! * cancel (a dropped `acquire_async` future): under the queue lock either
//!   remove the waiter, then run the grant loop again (it may have been the
//!   head that blocked smaller requests), or, if it was already granted,
//!   release what it was given.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::primitives::{Arc, AtomicUsize, Ordering};
use crate::waiter::{QueueGuard, WaitQueue, Waiter};

const QUEUED: usize = 1;
const ONE: usize = 2;

/// Token: the requested permits were granted.
const GRANTED: usize = 1;

/// The most permits a semaphore can hold.
pub const MAX_PERMITS: usize = usize::MAX >> 2;

/// A counting semaphore with weighted, first-come first-served acquisition.
///
/// `acquire(n)` waits until `n` permits are free and returns a [`Permit`]
/// that gives them back when dropped. Waiters are served in arrival order,
/// and a later small request never overtakes an earlier big one.
///
/// Asking for more permits than the semaphore was created with can never
/// succeed, so [`acquire`](Self::acquire) and
/// [`acquire_async`](Self::acquire_async) panic instead of hanging.
///
/// ```
/// use hoare_sync::Semaphore;
///
/// let sem = Semaphore::new(2);
/// let a = sem.acquire(1);
/// let b = sem.acquire(1);
/// assert!(sem.try_acquire(1).is_none());
/// drop(a);
/// assert!(sem.try_acquire(1).is_some());
/// # drop(b);
/// ```
pub struct Semaphore {
    state: AtomicUsize,
    total: usize,
    queue: WaitQueue,
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available", &self.available_permits())
            .field("total", &self.total)
            .finish()
    }
}

impl Semaphore {
    /// A semaphore with `permits` permits, all available.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`MAX_PERMITS`].
    pub fn new(permits: usize) -> Self {
        assert!(
            permits <= MAX_PERMITS,
            "Semaphore::new: {permits} permits exceed the maximum of {MAX_PERMITS}"
        );
        Semaphore {
            state: AtomicUsize::new(permits * ONE),
            total: permits,
            queue: WaitQueue::new(),
        }
    }

    /// Permits free right now.
    pub fn available_permits(&self) -> usize {
        self.state.load(Ordering::Relaxed) / ONE
    }

    /// Acquires `n` permits, blocking the thread until they are available.
    ///
    /// # Panics
    ///
    /// If `n` is larger than the semaphore's total number of permits.
    ///
    /// ```
    /// let sem = hoare_sync::Semaphore::new(3);
    /// let p = sem.acquire(2);
    /// assert_eq!(sem.available_permits(), 1);
    /// drop(p);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn acquire(&self, n: usize) -> Permit<'_> {
        self.check(n);
        if self.try_take(n) {
            return self.permit(n);
        }
        let waiter = Waiter::new();
        if self.take_or_enqueue(n, &waiter) {
            return self.permit(n);
        }
        waiter.wait();
        Waiter::recycle(waiter);
        self.permit(n)
    }

    /// Acquires `n` permits if they are free now and nobody waits before.
    ///
    /// Returns `None` when the permits are not available, when earlier
    /// waiters are queued (FIFO), or when `n` exceeds the total.
    pub fn try_acquire(&self, n: usize) -> Option<Permit<'_>> {
        self.try_take(n).then(|| self.permit(n))
    }

    /// Acquires `n` permits from async code.
    ///
    /// The future is `Send`, runs on any executor and is cancel-safe:
    /// dropping it never loses permits and never keeps back a waiter behind
    /// it.
    ///
    /// # Panics
    ///
    /// When called, if `n` is larger than the semaphore's total.
    ///
    /// ```
    /// let sem = hoare_sync::Semaphore::new(1);
    /// futures::executor::block_on(async {
    ///     let _p = sem.acquire_async(1).await;
    ///     assert_eq!(sem.available_permits(), 0);
    /// });
    /// ```
    pub fn acquire_async(&self, n: usize) -> AcquireFuture<'_> {
        self.check(n);
        AcquireFuture {
            sem: self,
            n,
            waiter: None,
        }
    }

    fn check(&self, n: usize) {
        assert!(
            n <= self.total,
            "Semaphore::acquire({n}) can never succeed: the semaphore has only {} permits in total",
            self.total
        );
    }

    fn permit(&self, n: usize) -> Permit<'_> {
        Permit { sem: self, n }
    }

    /// The fast path: take `n` permits by CAS if nobody is queued.
    #[inline]
    fn try_take(&self, n: usize) -> bool {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & QUEUED != 0 || state / ONE < n {
                return false;
            }
            // Acquire: pairs with the Release in `release`, so the previous
            // holder's work happens before ours.
            match self.state.compare_exchange_weak(
                state,
                state - n * ONE,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(s) => state = s,
            }
        }
    }

    /// Under the queue lock: take the permits if possible, else queue
    /// `waiter`. Returns whether the permits were taken.
    fn take_or_enqueue(&self, n: usize, waiter: &Arc<Waiter>) -> bool {
        let mut queue = self.queue.lock();
        let mut state = self.state.load(Ordering::Relaxed);
        // With QUEUED already set the word is stable under this lock (see
        // `grant`): just join the queue.
        while state & QUEUED == 0 {
            let (new, took) = if state / ONE >= n {
                (state - n * ONE, true)
            } else {
                (state | QUEUED, false)
            };
            // Acquire: as in `try_take`.
            match self
                .state
                .compare_exchange_weak(state, new, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) if took => return true,
                Ok(_) => break,
                Err(s) => state = s,
            }
        }
        queue.push_back(0, n, waiter.clone());
        false
    }

    /// Gives `n` permits back, granting them to queued waiters in order.
    fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut state = self.state.load(Ordering::Relaxed);
        while state & QUEUED == 0 {
            // Release: pairs with the Acquire in `try_take`.
            match self.state.compare_exchange_weak(
                state,
                state + n * ONE,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(s) => state = s,
            }
        }
        let mut queue = self.queue.lock();
        self.grant(&mut queue, n);
    }

    /// Under the queue lock: add `returned` permits, serve waiters from the
    /// head while their requests fit, and clear `QUEUED` if nobody is left.
    fn grant(&self, queue: &mut QueueGuard<'_>, returned: usize) {
        // Acquire: pairs with the Release of lock-free `release`s that ran
        // before QUEUED was set.
        let state = self.state.load(Ordering::Acquire);
        if state & QUEUED == 0 {
            // Nobody queued (a releaser that saw the bit can find the queue
            // emptied by the time it holds the lock). Lock-free paths may
            // run now, so add by RMW. Release: pairs with `try_take`.
            if returned > 0 {
                self.state.fetch_add(returned * ONE, Ordering::Release);
            }
            return;
        }
        // QUEUED is set and we hold the queue lock, so nobody else changes
        // the word: `try_take` and the lock-free `release` need QUEUED
        // clear, everything else needs this lock. A plain store suffices.
        let mut left = state / ONE + returned;
        let mut served = 0;
        let mut still_queued = false;
        for wanted in queue.tags(0) {
            if wanted > left {
                still_queued = true;
                break;
            }
            left -= wanted;
            served += 1;
        }
        let mut new = left * ONE;
        if still_queued {
            new |= QUEUED;
        }
        // Written before the waiters are notified (waiter invariant 3).
        // Release: publishes the returned permits' history; the granted
        // waiters' tokens (Release) follow.
        self.state.store(new, Ordering::Release);
        let mut to_serve = served;
        queue.notify_front_while(0, |_| {
            (to_serve > 0).then(|| {
                to_serve -= 1;
                GRANTED
            })
        });
    }

    /// A dropped `acquire_async` future leaves the queue, or returns what
    /// it was granted.
    fn cancel(&self, waiter: &Arc<Waiter>, n: usize) {
        let mut queue = self.queue.lock();
        if queue.remove(waiter) {
            // It may have been the head that held smaller requests back.
            self.grant(&mut queue, 0);
        } else {
            drop(queue);
            debug_assert_eq!(waiter.token(), Some(GRANTED));
            self.release(n);
        }
    }
}

/// Permits held from a [`Semaphore`]; they go back when this drops.
#[must_use = "the permits are released as soon as the permit is dropped"]
pub struct Permit<'a> {
    sem: &'a Semaphore,
    n: usize,
}

impl Permit<'_> {
    /// How many permits this holds.
    pub fn count(&self) -> usize {
        self.n
    }
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").field("count", &self.n).finish()
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.sem.release(self.n);
    }
}

/// The future returned by [`Semaphore::acquire_async`].
#[must_use = "futures do nothing unless polled"]
pub struct AcquireFuture<'a> {
    sem: &'a Semaphore,
    n: usize,
    waiter: Option<Arc<Waiter>>,
}

impl fmt::Debug for AcquireFuture<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcquireFuture")
            .field("n", &self.n)
            .field("queued", &self.waiter.is_some())
            .finish()
    }
}

impl<'a> Future for AcquireFuture<'a> {
    type Output = Permit<'a>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Permit<'a>> {
        let this = self.get_mut();
        let (sem, n) = (this.sem, this.n);
        if this.waiter.is_none() && sem.try_take(n) {
            return Poll::Ready(sem.permit(n));
        }
        // Ready(None): taken under the queue lock; Ready(Some(GRANTED)):
        // granted by a release.
        Waiter::poll_queued(&mut this.waiter, cx, |w| !sem.take_or_enqueue(n, w))
            .map(|_| sem.permit(n))
    }
}

impl Drop for AcquireFuture<'_> {
    fn drop(&mut self) {
        if let Some(waiter) = self.waiter.take() {
            self.sem.cancel(&waiter, self.n);
        }
    }
}
