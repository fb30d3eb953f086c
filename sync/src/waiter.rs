//! The waiter toolkit: [`Waiter`], [`WaitQueue`] and [`Parker`].
//!
//! Every blocking or async wait in hoare goes through these three types.
//!
//! # The protocol
//!
//! A *waiter* is one pending wait, by a thread or by a future. It lives in an
//! [`Arc`] shared by the waiting side and by the [`WaitQueue`] it sits in.
//! Its `state` word moves one way only:
//!
//! | state      | meaning                                                      |
//! |------------|--------------------------------------------------------------|
//! | `WAITING`  | queued, nobody has picked it                                 |
//! | `SLEEPING` | as `WAITING`, and its thread is (about to be) in `futex_wait` |
//! | `NOTIFIED` | a notifier popped it and wrote its `token`                   |
//!
//! Invariants:
//!
//! 1. A waiter is popped from its queue and moved to `NOTIFIED` in one
//!    critical section of the queue's lock. So, holding that lock, a waiter
//!    is either still in the queue or already carries its token; there is no
//!    third case. This is what makes cancellation exact: a future that is
//!    dropped locks the queue and either removes itself (nobody gave it
//!    anything) or reads the token it was given and passes it on (a lock
//!    handed to it is unlocked, permits granted to it are released, a
//!    wake-up is forwarded). Nothing is lost and nothing is swallowed.
//! 2. The owner of a queue updates its own state word (a mutex's "someone is
//!    parked" bit, say) under the same lock, so "I saw the resource busy and
//!    queued myself" and "I freed the resource and looked for waiters" are
//!    serialized: no wake-up falls between them.
//! 3. A notified waiter may observe its token at once (a thread spins on it
//!    before sleeping) and act on it, before the queue lock is released.
//!    So an owner that hands a resource over writes its state word *before*
//!    notifying; a waiter acting early must not see the pre-hand-off state.
//! 4. The actual wake (a `futex_wake` or `Waker::wake`) happens after the
//!    queue's lock is released, so user wakers never run under the lock and
//!    the lock's hold time stays a few instructions.
//!
//! The token is a `usize` whose meaning belongs to the primitive: "the lock
//! is yours", "try again", "n permits granted".

use core::fmt;
use core::task::{Context, Poll, Waker};
use std::collections::VecDeque;

use crate::primitives::{
    Arc, AtomicU32, AtomicUsize, Ordering, SpinWait, futex_wait, futex_wake_one,
};
use crate::spinlock::{SpinGuard, SpinLock};

const WAITING: u32 = 0;
const SLEEPING: u32 = 1;
const NOTIFIED: u32 = 2;

/// One pending wait, by a blocked thread or by a pending future.
///
/// Create it with [`Waiter::new`], put it in a [`WaitQueue`], then either
/// block on it with [`Waiter::wait`] or poll it with [`Waiter::poll`]. A
/// notifier hands it a `usize` token whose meaning the primitive defines.
///
/// ```
/// use hoare_sync::waiter::{WaitQueue, Waiter};
/// use std::sync::Arc;
///
/// let queue = Arc::new(WaitQueue::new());
/// let waiter = Waiter::new();
/// queue.lock().push_back(0, 0, waiter.clone());
///
/// let q = queue.clone();
/// let t = std::thread::spawn(move || q.lock().notify_first(0, 42));
/// assert_eq!(waiter.wait(), 42);
/// assert!(t.join().unwrap());
/// ```
pub struct Waiter {
    state: AtomicU32,
    token: AtomicUsize,
    waker: SpinLock<Option<Waker>>,
}

impl fmt::Debug for Waiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waiter")
            .field("token", &self.token())
            .finish()
    }
}

impl Waiter {
    /// A new waiter, not yet notified.
    ///
    /// Takes a waiter from the calling thread's one-slot cache (filled by
    /// [`Waiter::recycle`]) when there is one, so a thread or executor
    /// worker that waits over and over does not allocate each time.
    pub fn new() -> Arc<Waiter> {
        cache::take().unwrap_or_else(|| {
            Arc::new(Waiter {
                state: AtomicU32::new(WAITING),
                token: AtomicUsize::new(0),
                waker: SpinLock::new(None),
            })
        })
    }

    /// Hands a finished waiter back for reuse by [`Waiter::new`] on this
    /// thread. Does nothing unless the caller holds the only reference
    /// (the queue and the notifier have let go of it).
    pub fn recycle(mut waiter: Arc<Waiter>) {
        if let Some(w) = Arc::get_mut(&mut waiter) {
            w.state.store(WAITING, Ordering::Relaxed);
            *w.waker.get_mut() = None;
            cache::put(waiter);
        }
    }

    /// A new waiter for a task, with `waker` already registered, so the
    /// first [`Waiter::poll`] after queueing it is not needed: a notifier
    /// finds the waker from the start.
    pub fn with_waker(waker: &Waker) -> Arc<Waiter> {
        let mut waiter = Waiter::new();
        match Arc::get_mut(&mut waiter) {
            // Fresh or recycled: ours alone, so no lock is needed.
            Some(w) => *w.waker.get_mut() = Some(waker.clone()),
            None => *waiter.waker.lock() = Some(waker.clone()),
        }
        waiter
    }

    /// The token, if a notifier has handed one over.
    pub fn token(&self) -> Option<usize> {
        // Acquire: pairs with the Release swap in `set_notified`, so the
        // token and everything the notifier wrote before are visible.
        if self.state.load(Ordering::Acquire) == NOTIFIED {
            Some(self.token.load(Ordering::Relaxed))
        } else {
            None
        }
    }

    /// Blocks the calling thread until notified; returns the token.
    ///
    /// Spins briefly first, then sleeps on the futex.
    pub fn wait(&self) -> usize {
        let mut spin = SpinWait::default();
        loop {
            if let Some(token) = self.token() {
                return token;
            }
            if !spin.spin() {
                break;
            }
        }
        loop {
            // Announce the sleep, so the notifier knows to issue a futex
            // wake. Relaxed on failure: the loop re-reads with Acquire.
            match self.state.compare_exchange(
                WAITING,
                SLEEPING,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) | Err(SLEEPING) => futex_wait(&self.state, SLEEPING),
                Err(_) => {}
            }
            if let Some(token) = self.token() {
                return token;
            }
        }
    }

    /// Polls for the notification from a future; registers `cx`'s waker.
    pub fn poll(&self, cx: &mut Context<'_>) -> Poll<usize> {
        if let Some(token) = self.token() {
            return Poll::Ready(token);
        }
        {
            let mut slot = self.waker.lock();
            match &*slot {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => *slot = Some(cx.waker().clone()),
            }
        }
        // Re-check after publishing the waker: a notifier that took the
        // (empty) slot before we filled it has already set NOTIFIED, and the
        // slot's lock orders its store before our load.
        match self.token() {
            Some(token) => Poll::Ready(token),
            None => Poll::Pending,
        }
    }

    /// Drives a future's wait through its slot: the first call makes a
    /// waiter with `cx`'s waker and hands it to `enqueue`, which queues it
    /// (returning `true`) or finds there is nothing to wait for (`false`:
    /// `Ready(None)`). Later calls poll the queued waiter; once notified the
    /// slot is emptied (so the future's drop has nothing to cancel) and the
    /// token returned as `Ready(Some(token))`.
    ///
    /// ```
    /// use hoare_sync::waiter::{WaitQueue, Waiter};
    /// use std::task::{Context, Poll, Waker};
    ///
    /// let queue = WaitQueue::new();
    /// let mut slot = None;
    /// let cx = &mut Context::from_waker(Waker::noop());
    /// let enqueue = |w: &_| {
    ///     queue.lock().push_back(0, 0, std::sync::Arc::clone(w));
    ///     true
    /// };
    /// assert!(Waiter::poll_queued(&mut slot, cx, enqueue).is_pending());
    /// queue.lock().notify_first(0, 7);
    /// let never = |_: &_| unreachable!();
    /// assert_eq!(Waiter::poll_queued(&mut slot, cx, never), Poll::Ready(Some(7)));
    /// assert!(slot.is_none());
    /// ```
    pub fn poll_queued(
        slot: &mut Option<Arc<Waiter>>,
        cx: &mut Context<'_>,
        enqueue: impl FnOnce(&Arc<Waiter>) -> bool,
    ) -> Poll<Option<usize>> {
        let Some(waiter) = slot else {
            // The waker is in place before the waiter is visible, so a
            // notification right after queueing finds it: no re-check.
            let waiter = Waiter::with_waker(cx.waker());
            if !enqueue(&waiter) {
                Waiter::recycle(waiter);
                return Poll::Ready(None);
            }
            *slot = Some(waiter);
            return Poll::Pending;
        };
        let token = core::task::ready!(waiter.poll(cx));
        Waiter::recycle(slot.take().expect("matched above"));
        Poll::Ready(Some(token))
    }

    /// Marks the waiter notified with `token`; returns whether its thread
    /// sleeps on the futex. Called under the owning queue's lock.
    fn set_notified(&self, token: usize) -> bool {
        self.token.store(token, Ordering::Relaxed);
        // Release: pairs with the Acquire load in `token`.
        self.state.swap(NOTIFIED, Ordering::Release) == SLEEPING
    }

    /// Wakes the thread or task behind a waiter already marked notified.
    /// Called after the queue's lock is released.
    fn wake(&self, sleeping: bool) {
        if sleeping {
            futex_wake_one(&self.state);
        }
        let waker = self.waker.lock().take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

struct Entry {
    key: usize,
    tag: usize,
    waiter: Arc<Waiter>,
}

/// A FIFO of [`Waiter`]s guarded by a small spin lock.
///
/// Entries carry a `key` (several primitives may share one queue, as in the
/// address-keyed table behind [`Mutex`](crate::Mutex)) and a `tag` the owner
/// interprets (a reader or a writer, the number of permits wanted). All
/// operations go through [`WaitQueue::lock`]; wake-ups are issued when the
/// returned guard is dropped, after the lock is released.
pub struct WaitQueue {
    inner: SpinLock<VecDeque<Entry>>,
}

impl fmt::Debug for WaitQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitQueue").finish_non_exhaustive()
    }
}

// A panic cannot leave a queue half-updated: no user code runs under its
// lock, and the entries are plain data.
impl core::panic::RefUnwindSafe for WaitQueue {}
impl core::panic::UnwindSafe for WaitQueue {}

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl WaitQueue {
    /// An empty queue.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        WaitQueue {
            inner: SpinLock::new(VecDeque::new()),
        }
    }

    /// An empty queue.
    #[cfg(loom)]
    pub fn new() -> Self {
        WaitQueue {
            inner: SpinLock::new(VecDeque::new()),
        }
    }

    /// Locks the queue. Keep the critical section short: no blocking, no
    /// user code.
    pub fn lock(&self) -> QueueGuard<'_> {
        QueueGuard {
            entries: Some(self.inner.lock()),
            first_wake: None,
            more_wakes: Vec::new(),
        }
    }
}

/// Exclusive access to a [`WaitQueue`]; wakes the notified waiters on drop.
pub struct QueueGuard<'a> {
    // `Some` until the guard drops; taken there to unlock before waking.
    entries: Option<SpinGuard<'a, VecDeque<Entry>>>,
    // The first notified waiter is kept inline: the common single wake-up
    // then costs no allocation.
    first_wake: Option<(Arc<Waiter>, bool)>,
    more_wakes: Vec<(Arc<Waiter>, bool)>,
}

impl fmt::Debug for QueueGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueGuard")
            .field("len", &self.entries().len())
            .finish()
    }
}

impl QueueGuard<'_> {
    fn entries(&self) -> &VecDeque<Entry> {
        self.entries.as_ref().expect("present until drop")
    }

    fn entries_mut(&mut self) -> &mut VecDeque<Entry> {
        self.entries.as_mut().expect("present until drop")
    }

    /// Queues `waiter` last under `key`, with the owner's `tag`.
    pub fn push_back(&mut self, key: usize, tag: usize, waiter: Arc<Waiter>) {
        self.entries_mut().push_back(Entry { key, tag, waiter });
    }

    /// Queues `waiter` first (a waiter that was woken and lost the race
    /// goes back to the head, as in Go's `semacquire(lifo = true)`).
    pub fn push_front(&mut self, key: usize, tag: usize, waiter: Arc<Waiter>) {
        self.entries_mut().push_front(Entry { key, tag, waiter });
    }

    /// The tag of the first waiter under `key`.
    pub fn first_tag(&self, key: usize) -> Option<usize> {
        self.tags(key).next()
    }

    /// Whether a waiter under `key` is queued.
    pub fn contains_key(&self, key: usize) -> bool {
        self.first_tag(key).is_some()
    }

    /// Whether a waiter under `key` whose tag satisfies `pred` is queued.
    pub fn any(&self, key: usize, pred: impl FnMut(usize) -> bool) -> bool {
        self.tags(key).any(pred)
    }

    /// The tags of the waiters under `key`, first to last.
    pub fn tags(&self, key: usize) -> impl Iterator<Item = usize> + '_ {
        self.entries()
            .iter()
            .filter(move |e| e.key == key)
            .map(|e| e.tag)
    }

    /// How many waiters under `key` have a tag satisfying `pred`.
    pub fn count(&self, key: usize, mut pred: impl FnMut(usize) -> bool) -> usize {
        self.tags(key).filter(|&tag| pred(tag)).count()
    }

    /// Pops the first waiter under `key` and hands it `token`. Returns
    /// whether there was one.
    pub fn notify_first(&mut self, key: usize, token: usize) -> bool {
        let mut once = Some(token);
        self.notify_front_while(key, |_| once.take()) > 0
    }

    /// Pops waiters under `key` from the front while `grant(tag)` returns a
    /// token for them; stops at the first `None`. Returns how many.
    pub fn notify_front_while(
        &mut self,
        key: usize,
        mut grant: impl FnMut(usize) -> Option<usize>,
    ) -> usize {
        let mut n = 0;
        while let Some(i) = self.entries().iter().position(|e| e.key == key) {
            let Some(token) = grant(self.entries()[i].tag) else {
                break;
            };
            let entry = self.entries_mut().remove(i).expect("index from position");
            self.notify(entry.waiter, token);
            n += 1;
        }
        n
    }

    /// Pops every waiter under `key` for which `grant(tag)` returns a
    /// token, wherever it stands in the queue. Returns how many.
    pub fn notify_all_where(
        &mut self,
        key: usize,
        mut grant: impl FnMut(usize) -> Option<usize>,
    ) -> usize {
        let mut n = 0;
        let mut i = 0;
        while i < self.entries().len() {
            let e = &self.entries()[i];
            if e.key == key {
                if let Some(token) = grant(e.tag) {
                    let entry = self.entries_mut().remove(i).expect("index in range");
                    self.notify(entry.waiter, token);
                    n += 1;
                    continue;
                }
            }
            i += 1;
        }
        n
    }

    /// Pops every waiter under `key` and hands each `token`.
    pub fn notify_all(&mut self, key: usize, token: usize) -> usize {
        self.notify_all_where(key, |_| Some(token))
    }

    /// Changes the tag of the first waiter under `key` tagged `from` to
    /// `to`, leaving it where it stands. Returns whether there was one.
    /// (An owner whose waiter moves to another stage of its wait without
    /// being woken: an `RwMutex` writer handed the writer slot while
    /// readers still hold the lock goes on waiting for them.)
    ///
    /// ```
    /// use hoare_sync::waiter::{WaitQueue, Waiter};
    ///
    /// let queue = WaitQueue::new();
    /// let mut q = queue.lock();
    /// q.push_back(0, 1, Waiter::new());
    /// assert!(q.retag_first(0, 1, 2));
    /// assert_eq!(q.first_tag(0), Some(2));
    /// assert!(!q.retag_first(0, 1, 2));
    /// ```
    pub fn retag_first(&mut self, key: usize, from: usize, to: usize) -> bool {
        match self
            .entries_mut()
            .iter_mut()
            .find(|e| e.key == key && e.tag == from)
        {
            Some(e) => {
                e.tag = to;
                true
            }
            None => false,
        }
    }

    /// Removes `waiter` if it is still queued (cancellation). `false` means
    /// it was already notified and carries its token.
    pub fn remove(&mut self, waiter: &Arc<Waiter>) -> bool {
        self.remove_tagged(waiter).is_some()
    }

    /// As [`remove`](Self::remove), returning the tag the waiter had (which
    /// [`retag_first`](Self::retag_first) may have changed since it was
    /// queued), or `None` if it was already notified.
    pub fn remove_tagged(&mut self, waiter: &Arc<Waiter>) -> Option<usize> {
        let i = self
            .entries()
            .iter()
            .position(|e| Arc::ptr_eq(&e.waiter, waiter))?;
        self.entries_mut().remove(i).map(|e| e.tag)
    }

    fn notify(&mut self, waiter: Arc<Waiter>, token: usize) {
        let sleeping = waiter.set_notified(token);
        if self.first_wake.is_none() {
            self.first_wake = Some((waiter, sleeping));
        } else {
            self.more_wakes.push((waiter, sleeping));
        }
    }
}

impl Drop for QueueGuard<'_> {
    fn drop(&mut self) {
        // Unlock first (invariant 4), then wake.
        drop(self.entries.take());
        if let Some((waiter, sleeping)) = self.first_wake.take() {
            waiter.wake(sleeping);
        }
        if !self.more_wakes.is_empty() {
            for (waiter, sleeping) in self.more_wakes.drain(..) {
                waiter.wake(sleeping);
            }
        }
    }
}

/// Blocks a thread until another thread calls [`Parker::unpark`].
///
/// One token, like [`std::thread::park`]: an `unpark` before `park` makes the
/// next `park` return at once. Unlike `std`'s, it needs no `Thread` handle
/// and costs no system call when nobody sleeps.
///
/// ```
/// use hoare_sync::waiter::Parker;
/// use std::sync::Arc;
///
/// let p = Arc::new(Parker::new());
/// let q = p.clone();
/// let t = std::thread::spawn(move || q.unpark());
/// p.park();
/// t.join().unwrap();
/// ```
#[derive(Debug, Default)]
pub struct Parker {
    state: AtomicU32,
}

const EMPTY: u32 = 0;
const PARKED: u32 = 1;
const TOKEN: u32 = 2;

impl Parker {
    /// A parker with no token.
    pub fn new() -> Self {
        Parker {
            state: AtomicU32::new(EMPTY),
        }
    }

    /// Blocks until a token is available, then consumes it.
    pub fn park(&self) {
        // Acquire: pairs with the Release swap in `unpark`.
        if self.state.swap(EMPTY, Ordering::Acquire) == TOKEN {
            return;
        }
        loop {
            match self
                .state
                .compare_exchange(EMPTY, PARKED, Ordering::Acquire, Ordering::Acquire)
            {
                Ok(_) => futex_wait(&self.state, PARKED),
                Err(TOKEN) => {
                    self.state.store(EMPTY, Ordering::Relaxed);
                    return;
                }
                Err(_) => futex_wait(&self.state, PARKED),
            }
            // Acquire: pairs with the Release swap in `unpark`.
            if self
                .state
                .compare_exchange(TOKEN, EMPTY, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
        }
    }

    /// Makes a token available, waking the parked thread if there is one.
    pub fn unpark(&self) {
        // Release: pairs with the Acquire in `park`, so what the unparker
        // wrote before is visible to the parked thread.
        if self.state.swap(TOKEN, Ordering::Release) == PARKED {
            futex_wake_one(&self.state);
        }
    }
}

/// The per-thread one-slot cache behind [`Waiter::new`] and
/// [`Waiter::recycle`]. Off under loom, where every waiter must be a fresh
/// model object.
#[cfg(not(loom))]
mod cache {
    use std::cell::Cell;

    use super::{Arc, Waiter};

    std::thread_local! {
        static SLOT: Cell<Option<Arc<Waiter>>> = const { Cell::new(None) };
    }

    pub(super) fn take() -> Option<Arc<Waiter>> {
        SLOT.try_with(Cell::take).ok().flatten()
    }

    pub(super) fn put(waiter: Arc<Waiter>) {
        let _ = SLOT.try_with(|slot| slot.set(Some(waiter)));
    }
}

#[cfg(loom)]
mod cache {
    use super::{Arc, Waiter};

    pub(super) fn take() -> Option<Arc<Waiter>> {
        None
    }

    pub(super) fn put(_waiter: Arc<Waiter>) {}
}
