//! [`Mutex`]: Go's `sync.Mutex`, with its starvation mode, in one 4-byte word.
//!
//! # State word
//!
//! | bit      | name     | meaning                                              |
//! |----------|----------|------------------------------------------------------|
//! | `1 << 0` | `LOCKED` | someone owns the lock                                |
//! | `1 << 1` | `PARKED` | waiters may sit in the table queue for this address  |
//!
//! Waiters live in the address-keyed table of [`crate::parking`]; `PARKED`
//! is set and cleared only under that queue's lock (waiter invariant 2), and
//! `LOCKED` is set only by CAS from a clear state and cleared by the owner's
//! `fetch_sub`.
//!
//! # Normal and starvation mode (after Go's `sync/mutex.go`)
//!
//! In normal mode `unlock` clears `LOCKED` and wakes the first waiter, which
//! then *competes* for the lock: a running thread that arrives meanwhile
//! may barge in and win. That keeps the lock hot on a running core and is
//! what makes a mutex fast under contention. A woken waiter that loses goes
//! back to the *head* of the queue.
//!
//! A waiter that has waited longer than 1 ms when it loses a race re-queues
//! flagged `STARVING`. When `unlock` finds a starving waiter at the head, it
//! takes `LOCKED` straight back on the waiter's behalf and hands the lock
//! over (token `HANDOFF`). Only a thread that barges into the instant
//! between the release and that CAS can get ahead, and its own unlock then
//! hands the lock over. Newcomers see a locked mutex and queue up behind,
//! so the starving waiter is guaranteed to get it. This is Go's starvation mode,
//! decided per hand-off instead of by a mode bit, since the flag sits on the
//! waiter that is owed the lock.
//!
//! # Fast paths
//!
//! `lock` is one CAS `0 -> LOCKED`; `unlock` is one `fetch_sub(LOCKED)`, as
//! Go's. Only when `PARKED` was set does `unlock` take the cold path and the
//! queue lock; the lock is free by then, so the cold path works by CAS and
//! lets a barger that won the lock meanwhile do the waking on its unlock.
//! A contended `lock` spins adaptively (a few `pause` rounds, then yields)
//! while nobody is parked, then parks.

use core::fmt;
use core::future::Future;
use core::ops::{Deref, DerefMut};
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::parking::queue_for;
use crate::primitives::{Arc, AtomicU32, Ordering, SpinWait, UnsafeCell, WaitClock};
use crate::waiter::Waiter;

const LOCKED: u32 = 1 << 0;
const PARKED: u32 = 1 << 1;

/// Queue tag of a waiter owed a direct hand-off.
const STARVING: usize = 1;
/// Queue tag of an ordinary waiter.
const NORMAL: usize = 0;

/// Token: the lock was handed over; the waiter owns it.
const HANDOFF: usize = 1;
/// Token: the lock was released; the waiter should compete for it again.
const RETRY: usize = 0;

#[inline]
fn is_locked(state: u32) -> bool {
    state & LOCKED != 0
}

#[inline]
fn has_parked(state: u32) -> bool {
    state & PARKED != 0
}

/// A mutual exclusion lock protecting a `T`, as Go's `sync.Mutex`.
///
/// `lock` blocks the thread, `lock_async` waits in a future that works on
/// any executor, `try_lock` never waits. The lock is released when the
/// returned [`MutexGuard`] drops. There is no poisoning: a panic while the
/// lock is held simply unlocks it.
///
/// The mutex is fair in Go's sense: normally a thread that is already
/// running may take the lock ahead of a sleeping waiter (which keeps it
/// fast), but a waiter that has waited more than 1 ms gets the lock handed
/// to it directly, so no waiter starves.
///
/// The whole mutex is one 4-byte word (plus the `T`).
///
/// Locking a mutex the current thread (or task) already holds deadlocks, as
/// in Go: the mutex is not re-entrant.
///
/// ```
/// use hoare_sync::Mutex;
/// use std::sync::Arc;
///
/// let counter = Arc::new(Mutex::new(0));
/// let handles: Vec<_> = (0..4)
///     .map(|_| {
///         let c = counter.clone();
///         std::thread::spawn(move || *c.lock() += 1)
///     })
///     .collect();
/// for h in handles {
///     h.join().unwrap();
/// }
/// assert_eq!(*counter.lock(), 4);
/// ```
pub struct Mutex<T: ?Sized> {
    state: AtomicU32,
    data: UnsafeCell<T>,
}

// SAFETY: the mutex gives access to `T` to one thread at a time, so sharing
// it between threads only requires that `T` may move between threads.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}
// SAFETY: the mutex owns its `T`.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}

impl<T> Mutex<T> {
    /// A new unlocked mutex holding `value`.
    #[cfg(not(loom))]
    pub const fn new(value: T) -> Self {
        Mutex {
            state: AtomicU32::new(0),
            data: UnsafeCell::new(value),
        }
    }

    /// A new unlocked mutex holding `value`.
    #[cfg(loom)]
    pub fn new(value: T) -> Self {
        Mutex {
            state: AtomicU32::new(0),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the mutex and returns the value.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Acquires the lock, blocking the thread until it is available.
    ///
    /// ```
    /// let m = hoare_sync::Mutex::new(vec![1]);
    /// m.lock().push(2);
    /// assert_eq!(*m.lock(), [1, 2]);
    /// ```
    #[inline]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        // Acquire: pairs with the Release in `unlock`, so the previous
        // owner's writes to the data are visible.
        if self
            .state
            .compare_exchange_weak(0, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
        MutexGuard { mutex: self }
    }

    /// Acquires the lock if it is free right now.
    ///
    /// ```
    /// let m = hoare_sync::Mutex::new(());
    /// let g = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_none());
    /// drop(g);
    /// assert!(m.try_lock().is_some());
    /// ```
    #[inline]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.try_acquire().ok().map(|()| MutexGuard { mutex: self })
    }

    /// Acquires the lock from async code.
    ///
    /// The future is `Send` (when `T: Send`), works on any executor and is
    /// cancel-safe: dropping it before it completes never loses the lock or
    /// a wake-up meant for another waiter.
    ///
    /// ```
    /// let m = hoare_sync::Mutex::new(1);
    /// futures::executor::block_on(async {
    ///     *m.lock_async().await += 1;
    /// });
    /// assert_eq!(*m.lock(), 2);
    /// ```
    pub fn lock_async(&self) -> MutexLockFuture<'_, T> {
        MutexLockFuture {
            mutex: self,
            waiter: None,
            clock: None,
        }
    }

    /// Mutable access without locking: `&mut self` proves exclusivity.
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` means no guard and no other reference exists.
        unsafe { &mut *self.data.get() }
    }

    fn key(&self) -> usize {
        &self.state as *const AtomicU32 as usize
    }

    /// Tries to set `LOCKED` while it is clear. `Ok` on success, `Err` with
    /// the locked state otherwise.
    #[inline]
    fn try_acquire(&self) -> Result<(), u32> {
        let mut state = self.state.load(Ordering::Relaxed);
        while !is_locked(state) {
            // Acquire: as in `lock`.
            match self.state.compare_exchange_weak(
                state,
                state | LOCKED,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(s) => state = s,
            }
        }
        Err(state)
    }

    #[cold]
    fn lock_contended(&self) {
        let mut spin = SpinWait::default();
        let mut clock: Option<WaitClock> = None;
        loop {
            let state = match self.try_acquire() {
                Ok(()) => return,
                Err(state) => state,
            };
            // Spin while nobody is parked: the owner is likely running and
            // about to unlock. Parked waiters mean the lock is busy for long.
            if !has_parked(state) && spin.spin() {
                continue;
            }
            let waiter = Waiter::new();
            if !self.enqueue(&waiter, &mut clock) {
                continue;
            }
            let token = waiter.wait();
            Waiter::recycle(waiter);
            match token {
                HANDOFF => return,
                _ => {
                    if let Some(c) = &mut clock {
                        c.lost_race();
                    }
                    spin.reset();
                }
            }
        }
    }

    /// Queues `waiter` if the mutex is still locked (setting `PARKED`).
    /// Returns `false`, queueing nothing, if the mutex came free.
    ///
    /// A first wait queues last; a waiter woken before goes back first,
    /// flagged `STARVING` once it has waited over the threshold.
    fn enqueue(&self, waiter: &Arc<Waiter>, clock: &mut Option<WaitClock>) -> bool {
        let key = self.key();
        let mut queue = queue_for(key).lock();
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if !is_locked(state) {
                return false;
            }
            if has_parked(state) {
                break;
            }
            // Relaxed: the queue lock orders this with `unlock_slow`.
            match self.state.compare_exchange_weak(
                state,
                state | PARKED,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(s) => state = s,
            }
        }
        match clock {
            None => {
                *clock = Some(WaitClock::start());
                queue.push_back(key, NORMAL, waiter.clone());
            }
            Some(c) => {
                let tag = if c.starving() { STARVING } else { NORMAL };
                queue.push_front(key, tag, waiter.clone());
            }
        }
        true
    }

    /// Releases the lock. Called by the guard's drop.
    ///
    /// One `fetch_sub`, as Go's `Unlock` (an unconditional RMW is cheaper
    /// than a CAS here). If `PARKED` was set, the lock is already free when
    /// the slow path runs, and that path decides who is woken.
    #[inline]
    fn unlock(&self) {
        // Release: pairs with the Acquire in `lock`/`try_lock`.
        let prev = self.state.fetch_sub(LOCKED, Ordering::Release);
        debug_assert!(is_locked(prev), "unlock of an unlocked Mutex");
        if prev != LOCKED {
            self.unlock_slow();
        }
    }

    /// Wakes the first waiter after an unlock that found `PARKED` set. The
    /// lock is free now, so a running thread may barge in at any moment:
    /// every change of the word is a CAS.
    ///
    /// * If a barger already holds the lock, do nothing: `PARKED` is still
    ///   set, so its unlock comes here in turn.
    /// * If the head waiter is `STARVING`, take the lock back on its behalf
    ///   (CAS in `LOCKED`) and hand it over: token `HANDOFF`.
    /// * Otherwise wake it to compete (token `RETRY`), clearing `PARKED` if
    ///   it was the last waiter.
    ///
    /// The word is written before the waiter is notified (waiter invariant
    /// 3).
    #[cold]
    fn unlock_slow(&self) {
        let key = self.key();
        let mut queue = queue_for(key).lock();
        let Some(tag) = queue.first_tag(key) else {
            // The waiters left (cancelled futures). Relaxed: PARKED changes
            // under the queue lock only.
            self.state.fetch_and(!PARKED, Ordering::Relaxed);
            return;
        };
        let handoff = tag == STARVING;
        let parked = if queue.tags(key).nth(1).is_some() {
            PARKED
        } else {
            0
        };
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if is_locked(state) {
                return;
            }
            let new = if handoff { LOCKED | parked } else { parked };
            // Acquire on success: a barging thread may have locked and
            // unlocked between our release and this CAS; taking the lock
            // back for the waiter must see that critical section, which the
            // waiter then sees through its token (Release in `notify_first`,
            // Acquire in `Waiter::token`). Found by Miri on hoare-chan's
            // stress test. Relaxed on failure: we only retry.
            match self
                .state
                .compare_exchange_weak(state, new, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(s) => state = s,
            }
        }
        queue.notify_first(key, if handoff { HANDOFF } else { RETRY });
    }

    /// Takes `waiter` back out of the queue, or passes on what it was given.
    fn cancel(&self, waiter: &Arc<Waiter>) {
        let key = self.key();
        let mut queue = queue_for(key).lock();
        if queue.remove(waiter) {
            if !queue.contains_key(key) {
                // Relaxed: under the queue lock, as every PARKED change.
                self.state.fetch_and(!PARKED, Ordering::Relaxed);
            }
            return;
        }
        drop(queue);
        match waiter.token() {
            Some(HANDOFF) => self.unlock(),
            // A RETRY wake-up meant "the lock is free, come and get it".
            // Nobody else was woken, so take it and release it again: that
            // wakes the next waiter if there is one.
            _ => {
                if self.try_acquire().is_ok() {
                    self.unlock();
                }
            }
        }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Proof of holding a [`Mutex`]; unlocks on drop.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
}

// SAFETY: the guard gives `&T` to whoever holds a `&MutexGuard`.
unsafe impl<T: ?Sized + Sync> Sync for MutexGuard<'_, T> {}
// SAFETY: moving the guard to another thread moves `&mut T` access there,
// which `T: Send` allows; the futex lock may be released by any thread.
unsafe impl<T: ?Sized + Send> Send for MutexGuard<'_, T> {}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard holds (for [`Cond`](crate::Cond)).
    pub(crate) fn mutex(guard: &Self) -> &'a Mutex<T> {
        guard.mutex
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while this thread owns LOCKED, so
        // nobody else accesses the data.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only borrow.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// The future returned by [`Mutex::lock_async`].
#[must_use = "futures do nothing unless polled"]
pub struct MutexLockFuture<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    waiter: Option<Arc<Waiter>>,
    clock: Option<WaitClock>,
}

impl<T: ?Sized> fmt::Debug for MutexLockFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MutexLockFuture")
            .field("queued", &self.waiter.is_some())
            .finish()
    }
}

impl<'a, T: ?Sized> Future for MutexLockFuture<'a, T> {
    type Output = MutexGuard<'a, T>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        // The fast path of `lock`, kept inline: a free mutex and no wait
        // under way (a queued waiter must go through its token instead).
        // Acquire: as in `lock`.
        if this.waiter.is_none()
            && this
                .mutex
                .state
                .compare_exchange_weak(0, LOCKED, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        {
            return Poll::Ready(MutexGuard { mutex: this.mutex });
        }
        this.poll_slow(cx)
    }
}

impl<'a, T: ?Sized> MutexLockFuture<'a, T> {
    /// [`Future::poll`] past the fast path: the wait, and its queueing.
    #[cold]
    fn poll_slow(&mut self, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let this = self;
        loop {
            if let Some(waiter) = &this.waiter {
                match waiter.poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(HANDOFF) => {
                        this.waiter = None;
                        return Poll::Ready(MutexGuard { mutex: this.mutex });
                    }
                    Poll::Ready(_) => {
                        this.waiter = None;
                        if let Some(c) = &mut this.clock {
                            c.lost_race();
                        }
                    }
                }
            }
            if this.mutex.try_acquire().is_ok() {
                return Poll::Ready(MutexGuard { mutex: this.mutex });
            }
            let waiter = Waiter::new();
            if this.mutex.enqueue(&waiter, &mut this.clock) {
                this.waiter = Some(waiter);
            }
        }
    }
}

impl<T: ?Sized> Drop for MutexLockFuture<'_, T> {
    fn drop(&mut self) {
        if let Some(waiter) = self.waiter.take() {
            self.mutex.cancel(&waiter);
        }
    }
}
