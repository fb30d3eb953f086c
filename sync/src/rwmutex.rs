//! [`RwMutex`]: Go's `sync.RWMutex`, writer-preferring, with direct hand-off.
//!
//! # State word
//!
//! | bits     | name              | meaning                                        |
//! |----------|-------------------|------------------------------------------------|
//! | `0..30`  | readers           | read locks held; all ones (`MASK`) = write-locked |
//! | `1 << 30`| `READERS_WAITING` | readers are queued                             |
//! | `1 << 31`| `WRITERS_WAITING` | writers are queued                             |
//!
//! The two waiting bits mirror the queue's contents; they change only under
//! the queue's lock (waiter invariant 2).
//!
//! # Policy (as Go)
//!
//! * Writer preference: a new reader does not take the lock while a writer
//!   waits, so a stream of readers cannot starve a writer.
//! * No reader starvation either: when a writer unlocks and readers are
//!   queued, *all* of them get the lock, even if another writer waits; that
//!   writer goes next, once they are done.
//!
//! # Hand-off
//!
//! Queued waiters are never woken to compete: the unlocker grants the lock
//! before waking them (token `HANDOFF`), by setting the reader count to the
//! number of readers woken, or by keeping `MASK` for the next writer. Every
//! write of the state word by an unlocker happens under the queue lock while
//! no other thread can change it: it holds the write lock, or the reader
//! count is zero with a waiting bit set, which closes both lock-free paths
//! (readers need no waiting bit, writers need the whole word to be zero),
//! so a newcomer must take the queue lock the unlocker holds.
//!
//! A cancelled async waiter either leaves the queue (and, if it was the last
//! queued writer, lets the readers it was holding back in) or unlocks what
//! it had been handed.

use core::fmt;
use core::future::Future;
use core::ops::{Deref, DerefMut};
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::primitives::{Arc, AtomicU32, Ordering, SpinWait, UnsafeCell};
use crate::waiter::{QueueGuard, WaitQueue, Waiter};

const MASK: u32 = (1 << 30) - 1;
const MAX_READERS: u32 = MASK - 1;
const READERS_WAITING: u32 = 1 << 30;
const WRITERS_WAITING: u32 = 1 << 31;

const READER: usize = 0;
const WRITER: usize = 1;

/// Token: the lock (of the kind asked for) is granted.
const HANDOFF: usize = 1;

#[inline]
fn readers(state: u32) -> u32 {
    state & MASK
}

#[inline]
fn is_write_locked(state: u32) -> bool {
    readers(state) == MASK
}

#[inline]
fn is_read_lockable(state: u32) -> bool {
    readers(state) < MAX_READERS && state & (READERS_WAITING | WRITERS_WAITING) == 0
}

/// A reader-writer lock, as Go's `sync.RWMutex`: many readers or one writer.
///
/// Writer-preferring: once a writer waits, new readers wait behind it. When
/// the writer is done, all the readers that queued meanwhile get the lock
/// together. No poisoning. Taking a lock the current thread already holds
/// (read then write, or write then anything) deadlocks, as in Go.
///
/// ```
/// use hoare_sync::RwMutex;
///
/// let lock = RwMutex::new(5);
/// {
///     let r1 = lock.read();
///     let r2 = lock.read();
///     assert_eq!(*r1 + *r2, 10);
/// }
/// *lock.write() += 1;
/// assert_eq!(*lock.read(), 6);
/// ```
pub struct RwMutex<T: ?Sized> {
    state: AtomicU32,
    queue: WaitQueue,
    data: UnsafeCell<T>,
}

// SAFETY: readers share `&T` across threads (needs `T: Sync`); a writer gets
// `&mut T` on whichever thread holds the lock (needs `T: Send`).
unsafe impl<T: ?Sized + Send + Sync> Sync for RwMutex<T> {}
// SAFETY: the lock owns its `T`.
unsafe impl<T: ?Sized + Send> Send for RwMutex<T> {}

impl<T> RwMutex<T> {
    /// A new unlocked lock holding `value`.
    pub fn new(value: T) -> Self {
        RwMutex {
            state: AtomicU32::new(0),
            queue: WaitQueue::new(),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock and returns the value.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwMutex<T> {
    /// Takes a read lock, blocking while a writer holds or awaits the lock.
    #[inline]
    pub fn read(&self) -> RwMutexReadGuard<'_, T> {
        if !self.try_read_fast() {
            self.read_contended();
        }
        RwMutexReadGuard { lock: self }
    }

    /// Takes the write lock, blocking until it is free.
    #[inline]
    pub fn write(&self) -> RwMutexWriteGuard<'_, T> {
        if !self.try_write_fast() {
            self.write_contended();
        }
        RwMutexWriteGuard { lock: self }
    }

    /// Takes a read lock if that is possible without waiting.
    pub fn try_read(&self) -> Option<RwMutexReadGuard<'_, T>> {
        self.try_read_fast()
            .then(|| RwMutexReadGuard { lock: self })
    }

    /// Takes the write lock if it is free.
    pub fn try_write(&self) -> Option<RwMutexWriteGuard<'_, T>> {
        self.try_write_fast()
            .then(|| RwMutexWriteGuard { lock: self })
    }

    /// Takes a read lock from async code. The future is `Send` (for
    /// `T: Send + Sync`), runs on any executor and is cancel-safe.
    ///
    /// ```
    /// let lock = hoare_sync::RwMutex::new(1);
    /// let v = futures::executor::block_on(async { *lock.read_async().await });
    /// assert_eq!(v, 1);
    /// ```
    pub fn read_async(&self) -> RwMutexReadFuture<'_, T> {
        RwMutexReadFuture(LockFuture {
            lock: self,
            kind: READER,
            waiter: None,
        })
    }

    /// Takes the write lock from async code. The future is `Send` (for
    /// `T: Send + Sync`), runs on any executor and is cancel-safe.
    ///
    /// ```
    /// let lock = hoare_sync::RwMutex::new(1);
    /// futures::executor::block_on(async { *lock.write_async().await += 1 });
    /// assert_eq!(*lock.read(), 2);
    /// ```
    pub fn write_async(&self) -> RwMutexWriteFuture<'_, T> {
        RwMutexWriteFuture(LockFuture {
            lock: self,
            kind: WRITER,
            waiter: None,
        })
    }

    /// Mutable access without locking: `&mut self` proves exclusivity.
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` means no guard and no other reference exists.
        unsafe { &mut *self.data.get() }
    }

    #[inline]
    fn try_read_fast(&self) -> bool {
        let mut state = self.state.load(Ordering::Relaxed);
        while is_read_lockable(state) {
            // Acquire: pairs with the Release in `write_unlock`.
            match self.state.compare_exchange_weak(
                state,
                state + 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(s) => state = s,
            }
        }
        false
    }

    /// Lock-free write acquisition is allowed only from the fully idle
    /// state: with a waiting bit set, the lock may be in the middle of a
    /// hand-off (`hand_to_writer` has seen zero readers and is about to
    /// store `MASK` for a queued writer), so a writer must then go through
    /// the queue lock (`take_or_enqueue`), which serializes it with that.
    #[inline]
    fn try_write_fast(&self) -> bool {
        // Acquire: pairs with the Release in the unlocks.
        self.state
            .compare_exchange(0, MASK, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    #[cold]
    fn read_contended(&self) {
        let mut spin = SpinWait::default();
        loop {
            if self.try_read_fast() {
                return;
            }
            let state = self.state.load(Ordering::Relaxed);
            if state & (READERS_WAITING | WRITERS_WAITING) == 0 && spin.spin() {
                continue;
            }
            let waiter = Waiter::new();
            if !self.take_or_enqueue(READER, &waiter) {
                waiter.wait();
                Waiter::recycle(waiter);
            }
            return;
        }
    }

    #[cold]
    fn write_contended(&self) {
        let mut spin = SpinWait::default();
        loop {
            if self.try_write_fast() {
                return;
            }
            let state = self.state.load(Ordering::Relaxed);
            if state & (READERS_WAITING | WRITERS_WAITING) == 0 && spin.spin() {
                continue;
            }
            let waiter = Waiter::new();
            if !self.take_or_enqueue(WRITER, &waiter) {
                waiter.wait();
                Waiter::recycle(waiter);
            }
            return;
        }
    }

    /// Under the queue lock: take the lock of `kind` if allowed now, else
    /// queue `waiter`. Returns whether the lock was taken.
    fn take_or_enqueue(&self, kind: usize, waiter: &Arc<Waiter>) -> bool {
        let mut queue = self.queue.lock();
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            let (new, took) = if kind == READER {
                if !is_write_locked(state) && state & WRITERS_WAITING == 0 {
                    assert!(
                        readers(state) < MAX_READERS,
                        "RwMutex: too many concurrent readers"
                    );
                    (state + 1, true)
                } else {
                    (state | READERS_WAITING, false)
                }
            } else if readers(state) == 0 {
                (state | MASK, true)
            } else {
                (state | WRITERS_WAITING, false)
            };
            // Acquire: pairs with the Release in the unlocks.
            match self
                .state
                .compare_exchange_weak(state, new, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) if took => return true,
                Ok(_) => break,
                Err(s) => state = s,
            }
        }
        queue.push_back(0, kind, waiter.clone());
        false
    }

    #[inline]
    fn read_unlock(&self) {
        // Release: pairs with the writer's Acquire, so our reads happen
        // before its writes.
        let prev = self.state.fetch_sub(1, Ordering::Release);
        if readers(prev) == 1 && prev & WRITERS_WAITING != 0 {
            self.hand_to_writer();
        }
    }

    /// The last reader left while writers wait: give the next one the lock.
    #[cold]
    fn hand_to_writer(&self) {
        let mut queue = self.queue.lock();
        // Acquire: the other readers' Release decrements happen before the
        // writer we hand to.
        let state = self.state.load(Ordering::Acquire);
        if readers(state) != 0 || state & WRITERS_WAITING == 0 {
            // A writer barged in, or the waiting writers were cancelled
            // (whoever cancelled them let the readers in).
            return;
        }
        self.grant_writer(&mut queue, state);
    }

    #[inline]
    fn write_unlock(&self) {
        // Release: pairs with the next owner's Acquire.
        if self
            .state
            .compare_exchange(MASK, 0, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            self.write_unlock_slow();
        }
    }

    #[cold]
    fn write_unlock_slow(&self) {
        let mut queue = self.queue.lock();
        let state = self.state.load(Ordering::Relaxed);
        if state & READERS_WAITING != 0 {
            self.grant_readers(&mut queue, state & !MASK);
        } else if state & WRITERS_WAITING != 0 {
            self.grant_writer(&mut queue, state);
        } else {
            // Release: as in `write_unlock`.
            self.state.store(0, Ordering::Release);
        }
    }

    /// Under the queue lock, with nobody else able to change the state:
    /// hand the write lock to the first queued writer.
    ///
    /// The state is written before the writer is notified (waiter invariant
    /// 3): a writer that sees its token early and unlocks at once must find
    /// the word saying it owns the lock.
    fn grant_writer(&self, queue: &mut QueueGuard<'_>, state: u32) {
        let mut new = (state & READERS_WAITING) | MASK;
        if queue.count(0, |tag| tag == WRITER) > 1 {
            new |= WRITERS_WAITING;
        }
        // Release: publishes the previous owner's writes; the writer's token
        // (Release, set below) follows.
        self.state.store(new, Ordering::Release);
        let mut granted = false;
        queue.notify_all_where(0, |tag| {
            (tag == WRITER && !granted).then(|| {
                granted = true;
                HANDOFF
            })
        });
    }

    /// Under the queue lock, with the write lock held by the caller (`base`
    /// is the state without the reader count): hand read locks to every
    /// queued reader. State first, then the wake-ups (waiter invariant 3).
    fn grant_readers(&self, queue: &mut QueueGuard<'_>, base: u32) {
        let n = queue.count(0, |tag| tag == READER) as u32;
        let mut new = (base & WRITERS_WAITING) | n;
        if !queue.any(0, |tag| tag == WRITER) {
            new &= !WRITERS_WAITING;
        }
        // Release: as in `grant_writer`.
        self.state.store(new, Ordering::Release);
        queue.notify_all_where(0, |tag| (tag == READER).then_some(HANDOFF));
    }

    fn cancel(&self, kind: usize, waiter: &Arc<Waiter>) {
        let mut queue = self.queue.lock();
        if !queue.remove(waiter) {
            drop(queue);
            // Granted before we could leave: give it back.
            if kind == READER {
                self.read_unlock();
            } else {
                self.write_unlock();
            }
            return;
        }
        if kind == READER {
            if !queue.any(0, |tag| tag == READER) {
                // Relaxed: under the queue lock.
                self.state.fetch_and(!READERS_WAITING, Ordering::Relaxed);
            }
            return;
        }
        if queue.any(0, |tag| tag == WRITER) {
            return;
        }
        // The last queued writer left: readers it held back may go in.
        let state = self.state.load(Ordering::Relaxed);
        if state & READERS_WAITING != 0 && !is_write_locked(state) {
            // Readers hold the lock (or nobody does) and no writer waits:
            // add the queued readers to the holders. Readers' fast path is
            // closed while READERS_WAITING is set, and writers cannot take
            // a read-locked lock, so the RMW below races with read unlocks
            // only.
            // Count them in before waking them (waiter invariant 3).
            let n = queue.count(0, |tag| tag == READER) as u32;
            // AcqRel: Acquire for the state we build on, Release for the
            // readers' tokens that follow.
            self.state.fetch_add(n, Ordering::AcqRel);
            self.state
                .fetch_and(!(READERS_WAITING | WRITERS_WAITING), Ordering::AcqRel);
            queue.notify_all_where(0, |tag| (tag == READER).then_some(HANDOFF));
        } else {
            // Relaxed: under the queue lock.
            self.state.fetch_and(!WRITERS_WAITING, Ordering::Relaxed);
        }
    }
}

impl<T: Default> Default for RwMutex<T> {
    fn default() -> Self {
        RwMutex::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwMutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwMutex");
        match self.try_read() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// A read lock on an [`RwMutex`]; released on drop.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwMutexReadGuard<'a, T: ?Sized> {
    lock: &'a RwMutex<T>,
}

// SAFETY: the guard only gives `&T`; sending or sharing it shares `&T`.
unsafe impl<T: ?Sized + Sync> Sync for RwMutexReadGuard<'_, T> {}
// SAFETY: as above; the lock word may be released from any thread.
unsafe impl<T: ?Sized + Sync> Send for RwMutexReadGuard<'_, T> {}

impl<T: ?Sized> Deref for RwMutexReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a read lock is held, so no writer has `&mut T`.
        unsafe { &*self.lock.data.get_shared() }
    }
}

impl<T: ?Sized> Drop for RwMutexReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.read_unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwMutexReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// The write lock on an [`RwMutex`]; released on drop.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwMutexWriteGuard<'a, T: ?Sized> {
    lock: &'a RwMutex<T>,
}

// SAFETY: sharing the guard shares `&T`.
unsafe impl<T: ?Sized + Sync> Sync for RwMutexWriteGuard<'_, T> {}
// SAFETY: sending the guard moves `&mut T` access to another thread.
unsafe impl<T: ?Sized + Send> Send for RwMutexWriteGuard<'_, T> {}

impl<T: ?Sized> Deref for RwMutexWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the write lock is held: no other reference exists.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwMutexWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only borrow.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwMutexWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.write_unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwMutexWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// The shared state of the two lock futures.
struct LockFuture<'a, T: ?Sized> {
    lock: &'a RwMutex<T>,
    kind: usize,
    waiter: Option<Arc<Waiter>>,
}

impl<T: ?Sized> LockFuture<'_, T> {
    fn poll_lock(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.waiter.is_none() {
            let fast = if self.kind == READER {
                self.lock.try_read_fast()
            } else {
                self.lock.try_write_fast()
            };
            if fast {
                return Poll::Ready(());
            }
        }
        let (lock, kind) = (self.lock, self.kind);
        // Ready(None): taken at once; Ready(Some(HANDOFF)): handed over.
        Waiter::poll_queued(&mut self.waiter, cx, |w| !lock.take_or_enqueue(kind, w)).map(|_| ())
    }
}

impl<T: ?Sized> Drop for LockFuture<'_, T> {
    fn drop(&mut self) {
        if let Some(waiter) = self.waiter.take() {
            self.lock.cancel(self.kind, &waiter);
        }
    }
}

/// The future returned by [`RwMutex::read_async`].
#[must_use = "futures do nothing unless polled"]
pub struct RwMutexReadFuture<'a, T: ?Sized>(LockFuture<'a, T>);

/// The future returned by [`RwMutex::write_async`].
#[must_use = "futures do nothing unless polled"]
pub struct RwMutexWriteFuture<'a, T: ?Sized>(LockFuture<'a, T>);

impl<T: ?Sized> fmt::Debug for RwMutexReadFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwMutexReadFuture").finish_non_exhaustive()
    }
}

impl<T: ?Sized> fmt::Debug for RwMutexWriteFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwMutexWriteFuture").finish_non_exhaustive()
    }
}

impl<'a, T: ?Sized> Future for RwMutexReadFuture<'a, T> {
    type Output = RwMutexReadGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut self.get_mut().0;
        core::task::ready!(this.poll_lock(cx));
        Poll::Ready(RwMutexReadGuard { lock: this.lock })
    }
}

impl<'a, T: ?Sized> Future for RwMutexWriteFuture<'a, T> {
    type Output = RwMutexWriteGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut self.get_mut().0;
        core::task::ready!(this.poll_lock(cx));
        Poll::Ready(RwMutexWriteGuard { lock: this.lock })
    }
}
