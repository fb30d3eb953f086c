//! [`Cond`]: Go's `sync.Cond`, bound to hoare's [`Mutex`].
//!
//! # Protocol
//!
//! `wait(guard)` queues its waiter *before* it releases the mutex. A
//! notifier that changes the condition does so holding the mutex, so it
//! runs after the waiter released it and therefore after the waiter is in
//! the queue: a notification can never fall between the waiter's check of
//! the condition and its sleep. `notify_one` pops the first waiter (token
//! `ONE`), `notify_all` pops them all (token `ALL`). A `waiters` count,
//! changed under the queue lock, lets a notify with nobody waiting cost one
//! load.
//!
//! A dropped `wait_async` future that had already been picked by
//! `notify_one` passes the notification on to the next waiter, so the
//! wake-up is not swallowed.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::mutex::{Mutex, MutexGuard, MutexLockFuture};
use crate::primitives::{Arc, AtomicUsize, Ordering};
use crate::waiter::{QueueGuard, WaitQueue, Waiter};

/// Token of a waiter woken by `notify_one`.
const ONE: usize = 1;
/// Token of a waiter woken by `notify_all`.
const ALL: usize = 2;

/// A condition variable, as Go's `sync.Cond`, used with a [`Mutex`].
///
/// As in Go, a waiter must re-check its condition in a loop: `wait` returns
/// after a notification, but the condition may have changed again before
/// the mutex was re-acquired.
///
/// ```
/// use hoare_sync::{Cond, Mutex};
/// use std::sync::Arc;
///
/// let pair = Arc::new((Mutex::new(false), Cond::new()));
/// let p = pair.clone();
/// let t = std::thread::spawn(move || {
///     *p.0.lock() = true;
///     p.1.notify_one();
/// });
/// let (ready, cond) = &*pair;
/// let mut guard = ready.lock();
/// while !*guard {
///     guard = cond.wait(guard);
/// }
/// t.join().unwrap();
/// ```
pub struct Cond {
    waiters: AtomicUsize,
    queue: WaitQueue,
}

impl fmt::Debug for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cond")
            .field("waiters", &self.waiters.load(Ordering::Relaxed))
            .finish()
    }
}

impl Default for Cond {
    fn default() -> Self {
        Self::new()
    }
}

impl Cond {
    /// A condition variable with no waiters.
    pub fn new() -> Self {
        Cond {
            waiters: AtomicUsize::new(0),
            queue: WaitQueue::new(),
        }
    }

    /// Releases the mutex behind `guard`, sleeps until notified, then
    /// re-acquires the mutex and returns its guard.
    pub fn wait<'a, T: ?Sized>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        let mutex = MutexGuard::mutex(&guard);
        let waiter = self.enqueue();
        drop(guard);
        waiter.wait();
        Waiter::recycle(waiter);
        mutex.lock()
    }

    /// As [`wait`](Self::wait), from async code. The returned future is
    /// `Send` when the guard is, and cancel-safe: dropping it before it
    /// completes passes a `notify_one` it received on to another waiter.
    ///
    /// The waiter is queued when `wait_async` is called, before the mutex
    /// is released, so no notification is missed between the two.
    ///
    /// ```
    /// use hoare_sync::{Cond, Mutex};
    ///
    /// let (m, c) = (Mutex::new(0), Cond::new());
    /// futures::executor::block_on(async {
    ///     let g = m.lock_async().await;
    ///     let wait = c.wait_async(g);
    ///     c.notify_all();
    ///     let g = wait.await;
    ///     assert_eq!(*g, 0);
    /// });
    /// ```
    pub fn wait_async<'a, T: ?Sized>(&'a self, guard: MutexGuard<'a, T>) -> CondWaitFuture<'a, T> {
        let mutex = MutexGuard::mutex(&guard);
        let waiter = self.enqueue();
        drop(guard);
        CondWaitFuture {
            cond: self,
            mutex,
            state: WaitState::Waiting(waiter),
        }
    }

    /// Wakes one waiting thread or task, if any.
    pub fn notify_one(&self) {
        // Acquire: pairs with the Release increment in `enqueue`; a waiter
        // that checked its condition under the mutex this caller now holds
        // (or held) is counted.
        if self.waiters.load(Ordering::Acquire) == 0 {
            return;
        }
        let mut queue = self.queue.lock();
        let n = usize::from(queue.notify_first(0, ONE));
        self.forget(&mut queue, n);
    }

    /// Wakes every waiting thread and task.
    pub fn notify_all(&self) {
        // Acquire: as in `notify_one`.
        if self.waiters.load(Ordering::Acquire) == 0 {
            return;
        }
        let mut queue = self.queue.lock();
        let n = queue.notify_all(0, ALL);
        self.forget(&mut queue, n);
    }

    fn enqueue(&self) -> Arc<Waiter> {
        let waiter = Waiter::new();
        let mut queue = self.queue.lock();
        queue.push_back(0, 0, waiter.clone());
        // Release: pairs with the Acquire load in `notify_*`.
        self.waiters.fetch_add(1, Ordering::Release);
        waiter
    }

    fn forget(&self, _queue: &mut QueueGuard<'_>, n: usize) {
        if n > 0 {
            // Relaxed: under the queue lock, which orders it with `enqueue`.
            self.waiters.fetch_sub(n, Ordering::Relaxed);
        }
    }

    fn cancel(&self, waiter: &Arc<Waiter>) {
        let mut queue = self.queue.lock();
        if queue.remove(waiter) {
            self.forget(&mut queue, 1);
            return;
        }
        drop(queue);
        if waiter.token() == Some(ONE) {
            self.notify_one();
        }
    }
}

enum WaitState<'a, T: ?Sized> {
    Waiting(Arc<Waiter>),
    Locking(MutexLockFuture<'a, T>),
    Done,
}

/// The future returned by [`Cond::wait_async`].
#[must_use = "futures do nothing unless polled"]
pub struct CondWaitFuture<'a, T: ?Sized> {
    cond: &'a Cond,
    mutex: &'a Mutex<T>,
    state: WaitState<'a, T>,
}

impl<T: ?Sized> fmt::Debug for CondWaitFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            WaitState::Waiting(_) => "waiting",
            WaitState::Locking(_) => "locking",
            WaitState::Done => "done",
        };
        f.debug_struct("CondWaitFuture")
            .field("state", &state)
            .finish()
    }
}

impl<'a, T: ?Sized> Future for CondWaitFuture<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                WaitState::Waiting(waiter) => match waiter.poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(_) => this.state = WaitState::Locking(this.mutex.lock_async()),
                },
                WaitState::Locking(lock) => {
                    let guard = core::task::ready!(Pin::new(lock).poll(cx));
                    this.state = WaitState::Done;
                    return Poll::Ready(guard);
                }
                WaitState::Done => panic!("CondWaitFuture polled after completion"),
            }
        }
    }
}

impl<T: ?Sized> Drop for CondWaitFuture<'_, T> {
    fn drop(&mut self) {
        if let WaitState::Waiting(waiter) = &self.state {
            self.cond.cancel(waiter);
        }
    }
}
