//! [`RwMutex`]: Go's `sync.RWMutex`: one atomic add per read lock,
//! writer-preferring, with direct hand-off.
//!
//! # The idea (Go's, adapted)
//!
//! Go's `RWMutex` takes a read lock with one unconditional atomic add to
//! `readerCount` and gives it back with one atomic subtract. A writer
//! announces itself by adding a large negative constant to that count, so
//! the add of every later reader returns "a writer is pending" and that
//! reader blocks; the writer then waits for the readers that were inside.
//! Neither reader path can fail and retry, unlike a compare-exchange loop
//! (std's, parking_lot's and this file's earlier one), where two readers on
//! two cores keep failing each other's exchange while the line bounces.
//!
//! hoare keeps that shape in one word: the reader count in the low bits,
//! and the writer's announcement is the `WRITER` bit (Go's large constant).
//! One thing differs. A reader whose add finds a flag set takes its add
//! back, exactly as a leaving reader does, before it spins or queues. So
//! the count is always "readers inside, plus readers on their way out", and
//! a writer waits for the count itself to reach zero. Go keeps its blocked
//! readers in `readerCount` (its writer's unlock learns from it how many to
//! release), so it needs a second counter, `readerWait`, for the readers
//! that were inside when the writer came. Here blocked readers wait in the
//! queue instead, and the count *is* that second counter. This is what lets
//! an async writer give up while it waits: it clears its bit and is gone.
//! With Go's two counters, a reader that has seen the writer's constant but
//! not yet decremented `readerWait` would decrement it later on behalf of a
//! writer that no longer exists.
//!
//! # State word
//!
//! | bits      | name              | meaning                                              |
//! |-----------|-------------------|------------------------------------------------------|
//! | `0..28`   | count             | readers inside, plus readers backing out (see above) |
//! | `1 << 28` | `WRITER`          | a writer owns the writer slot: it holds the lock, or waits for the count to reach 0 |
//! | `1 << 29` | `DRAIN_WAITING`   | that writer is queued (tag `DRAINER`) until the count reaches 0 |
//! | `1 << 30` | `READERS_WAITING` | readers are queued (tag `READER`)                    |
//! | `1 << 31` | `WRITERS_WAITING` | writers are queued for the slot (tag `WRITER_TAG`)   |
//!
//! Invariants:
//!
//! 1. The three waiting bits change only under the queue's lock, in the
//!    same critical section that queues or removes the matching waiters, so
//!    under that lock each bit says exactly whether such a waiter is queued
//!    (waiter invariant 2). At most one `DRAINER` exists: the slot owner.
//! 2. Every waiting bit implies `WRITER`, at every instant: a waiting bit
//!    is set only by an exchange that sees `WRITER` set, and `WRITER` is
//!    cleared only by an exchange that clears the waiting bits with it or
//!    sees none. So a state without `WRITER` has no flag at all.
//! 3. While `WRITER` is set no reader gets in by itself: the lock-free
//!    path needs a state with no flag, the queued path needs `WRITER`
//!    clear. The only readers that join the count then are those a
//!    hand-off admits (`release_slot`) and those backing out.
//! 4. The slot owner holds the write lock from the moment it sees (with
//!    Acquire) a count of 0 after it owns the slot, or is handed the lock.
//!    Every reader inside adds 1 to the count until it leaves, so a count
//!    of 0 means nobody reads, and by 3 nobody will while the slot is owned.
//!
//! # Transitions
//!
//! 1. **Read lock** (`try_read_fast`): `fetch_add(1)`. A previous state with
//!    no flag and fewer than `MAX_READERS` readers means the lock is taken.
//!    Otherwise the reader backs out (`read_unlock`), spins while the writer
//!    is not asleep and nobody is queued, retrying, and then takes the
//!    queue's lock: with `WRITER` clear it adds itself there (a CAS), else
//!    it sets `READERS_WAITING` (a CAS that sees `WRITER`) and queues.
//! 2. **Read unlock** (`read_unlock`): `fetch_sub(1)`. If that took the count
//!    from 1 to 0 with `DRAIN_WAITING` set, the thread takes the queue's
//!    lock and, if the count is still 0 and the bit still set, clears the
//!    bit and hands the lock to the `DRAINER` (`hand_to_drainer`).
//! 3. **Write lock** (`write`): `fetch_or(WRITER)`. If the bit was clear the
//!    writer owns the slot (no exchange can fail); with a count of 0 it
//!    holds the lock. Otherwise it waits for the count to drain: it spins
//!    on Acquire loads, then under the queue's lock either sees 0 or sets
//!    `DRAIN_WAITING` (a CAS that sees a count above 0) and queues as the
//!    `DRAINER`. If the bit was already set, the writer spins while nobody
//!    is queued, retrying the `fetch_or` when the bit clears, and then under
//!    the queue's lock claims the slot as above or sets `WRITERS_WAITING`
//!    (a CAS that sees `WRITER`) and queues tagged `WRITER_TAG`.
//! 4. **Write unlock** (`write_unlock`): `WRITER -> 0` by CAS. With readers
//!    backing out in the count (but nothing queued) it clears `WRITER` in a
//!    CAS loop; with a waiting bit set, it takes the queue's lock and runs
//!    `release_slot`.
//! 5. **`release_slot`** (under the queue's lock, by the slot owner: an
//!    unlocking writer or a cancelled `DRAINER`), in one CAS: add every
//!    queued reader to the count; if a writer is queued, keep `WRITER`
//!    (the slot passes to it, so no newcomer can take it in between), with
//!    `WRITERS_WAITING` if more writers are queued and `DRAIN_WAITING` if
//!    the count is not 0; else clear every flag. Then hand each queued reader
//!    its read lock, and hand the first queued writer the lock (count 0) or
//!    retag it `DRAINER` (it goes on sleeping until the readers leave).
//! 6. **Cancellation** of an async waiter, under the queue's lock: a queued
//!    `READER` or `WRITER_TAG` leaves the queue and clears its waiting bit if
//!    it was the last of its kind; a queued `DRAINER` owns the slot and
//!    gives it up through `release_slot`, which admits the readers it held
//!    back; a waiter already handed its lock unlocks it.
//!
//! # Policy (as Go)
//!
//! * Writer preference: once a writer owns the slot, new readers wait, so a
//!   stream of readers cannot starve a writer; writers wait for the slot in
//!   FIFO order and are handed it without a gap a newcomer could use.
//! * No reader starvation either: when a writer unlocks and readers are
//!   queued, *all* of them get the lock, even if another writer waits; that
//!   writer goes next, once they are done.
//!
//! # Why no wake-up is lost
//!
//! * A queued `READER` set `READERS_WAITING` in a CAS that saw `WRITER`, under
//!   the queue's lock. From then on the slot owner's lock-free unlock fails
//!   (it needs no waiting bit), so the slot is given up only by
//!   `release_slot`, under the same lock, after the queueing; and
//!   `release_slot` admits every queued reader. A cancelled `DRAINER` goes
//!   through `release_slot` too.
//! * A queued `WRITER_TAG` set `WRITERS_WAITING` the same way, so the slot is
//!   passed on by `release_slot`, which picks it (or an earlier writer,
//!   whose turn comes with the same bit kept set).
//! * The `DRAINER` set `DRAIN_WAITING` in a CAS under the queue's lock that
//!   saw a count above 0. Only departures lower the count, each by one, so
//!   some later `fetch_sub` takes it from 1 to 0 and sees the bit (nothing
//!   but `hand_to_drainer` and `release_slot`, under the lock, clears it):
//!   that thread runs `hand_to_drainer` under the lock, after the queueing.
//!   It may find the count above 0 again: a reader backing out raised it,
//!   or the drainer was cancelled and `release_slot` passed the slot, with
//!   the bit, to the next writer along with readers it admitted. Either way
//!   those readers' own `fetch_sub`s end with another 1 to 0 under the bit,
//!   which checks in turn; handing over on a count above 0 would let that
//!   writer in beside the admitted readers.
//! * Every notification writes the state first (waiter invariant 3): a
//!   waiter that sees its token at once and unlocks at once finds the word
//!   that says it owns what it was handed.
//!
//! # Orderings
//!
//! The data is published along two paths. Writer to readers: the Release
//! RMW that clears `WRITER` (or `release_slot`'s AcqRel CAS) and the Acquire
//! `fetch_add` (or CAS) of a reader that reads that value or a later one.
//! Readers to writer: each reader's Release `fetch_sub`, and the Acquire
//! load, `fetch_or` or CAS with which the slot owner sees a count of 0. Every
//! write of the word is a read-modify-write, so the word's history is one
//! release sequence after another: an Acquire that reads it synchronizes
//! with every earlier Release, not only the latest. A hand-off passes the
//! same edges on through the waiter's token (Release in `set_notified`,
//! Acquire in `Waiter::token`). Operations that only move waiting bits under
//! the queue's lock are Relaxed: the lock orders them.

use core::fmt;
use core::future::Future;
use core::ops::{Deref, DerefMut};
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::primitives::{Arc, AtomicU32, Ordering, SpinWait, UnsafeCell};
use crate::waiter::{QueueGuard, WaitQueue, Waiter};

const MASK: u32 = (1 << 28) - 1;
/// The most read locks held at once. Half the count's range: readers
/// backing out add to the count past this limit without reaching `WRITER`.
const MAX_READERS: u32 = 1 << 27;
const WRITER: u32 = 1 << 28;
const DRAIN_WAITING: u32 = 1 << 29;
const READERS_WAITING: u32 = 1 << 30;
const WRITERS_WAITING: u32 = 1 << 31;
const WAITING: u32 = DRAIN_WAITING | READERS_WAITING | WRITERS_WAITING;

/// Queue tags.
const READER: usize = 0;
const WRITER_TAG: usize = 1;
const DRAINER: usize = 2;

/// Token: the lock (of the kind asked for) is granted.
const HANDOFF: usize = 1;

#[inline]
fn readers(state: u32) -> u32 {
    state & MASK
}

/// No flag and room for one more reader. The flags are the high bits, so
/// this is one comparison.
#[inline]
fn is_read_lockable(state: u32) -> bool {
    state < MAX_READERS
}

/// Whether a read unlock that saw `prev` took the count from 1 to 0 while
/// a queued writer waits for that.
#[inline]
fn is_last_reader_before_drainer(prev: u32) -> bool {
    prev & (DRAIN_WAITING | MASK) == DRAIN_WAITING | 1
}

/// A reader-writer lock, as Go's `sync.RWMutex`: many readers or one writer.
///
/// A read lock costs one atomic add and its release one atomic subtract,
/// whatever the number of readers, as Go's. Writer-preferring: once a writer
/// waits, new readers wait behind it. When the writer is done, all the
/// readers that queued meanwhile get the lock together. No poisoning.
/// Taking a lock the current thread already holds (read then write, or
/// write then anything) deadlocks, as in Go.
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
        // Acquire: pairs with the Release of the last unlock (a reader's
        // `fetch_sub`, a writer's clear of `WRITER`), so with a count of 0
        // their accesses happen before ours.
        let prev = self.state.fetch_or(WRITER, Ordering::Acquire);
        if prev != 0 {
            self.write_contended(prev);
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
            kind: WRITER_TAG,
            waiter: None,
        })
    }

    /// Mutable access without locking: `&mut self` proves exclusivity.
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` means no guard and no other reference exists.
        unsafe { &mut *self.data.get() }
    }

    /// Transition 1's lock-free part: one `fetch_add`, never retried. On
    /// failure the increment is taken back before returning.
    #[inline]
    fn try_read_fast(&self) -> bool {
        // Acquire: pairs with the Release with which the last writer gave
        // the lock up (`write_unlock`, `release_slot`): its writes happen
        // before our reads.
        let prev = self.state.fetch_add(1, Ordering::Acquire);
        if is_read_lockable(prev) {
            return true;
        }
        self.back_out();
        false
    }

    /// A reader whose add found a flag leaves as a reader leaves: the
    /// writer draining the count may be waiting for exactly this decrement.
    #[cold]
    #[inline(never)]
    fn back_out(&self) {
        self.read_unlock();
    }

    /// Lock-free write acquisition from the idle state only: with readers
    /// inside, claiming the slot would commit us to waiting for them.
    #[inline]
    fn try_write_fast(&self) -> bool {
        // Acquire: as in `write`.
        self.state
            .compare_exchange(0, WRITER, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    #[cold]
    fn read_contended(&self) {
        let mut spin = SpinWait::default();
        loop {
            // Relaxed: a hint; `try_read_fast` is the Acquire.
            let state = self.state.load(Ordering::Relaxed);
            if is_read_lockable(state) && self.try_read_fast() {
                return;
            }
            if state & WAITING != 0 || !spin.spin() {
                break;
            }
        }
        let waiter = Waiter::new();
        if !self.take_or_enqueue(READER, &waiter) {
            waiter.wait();
            Waiter::recycle(waiter);
        }
    }

    /// `prev`: the state before our `fetch_or(WRITER)`, which was not 0.
    #[cold]
    fn write_contended(&self, mut prev: u32) {
        let mut spin = SpinWait::default();
        loop {
            if prev & WRITER == 0 {
                // Our `fetch_or` claimed the slot: wait for the readers.
                self.wait_for_readers(prev);
                return;
            }
            if prev & WAITING != 0 || !spin.spin() {
                break;
            }
            // Relaxed: a hint; the `fetch_or` is the Acquire.
            prev = self.state.load(Ordering::Relaxed);
            if prev & WRITER == 0 {
                // Acquire: as in `write`.
                prev = self.state.fetch_or(WRITER, Ordering::Acquire);
            }
        }
        let waiter = Waiter::new();
        if !self.take_or_enqueue(WRITER_TAG, &waiter) {
            waiter.wait();
            Waiter::recycle(waiter);
        }
    }

    /// We own the slot; `state` was the word when we claimed it. Returns
    /// once the count has drained to 0 (invariant 4).
    fn wait_for_readers(&self, state: u32) {
        if readers(state) == 0 {
            return;
        }
        let mut spin = SpinWait::default();
        while spin.spin() {
            // Acquire: pairs with the leaving readers' Release `fetch_sub`.
            if readers(self.state.load(Ordering::Acquire)) == 0 {
                return;
            }
        }
        let waiter = Waiter::new();
        let mut queue = self.queue.lock();
        // Acquire: as above.
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if readers(state) == 0 {
                drop(queue);
                Waiter::recycle(waiter);
                return;
            }
            // Only under the queue lock, seeing a count above 0, so the
            // departure that empties it will see the bit (transition 3).
            // Acquire on failure: the reload may show the count at 0, and
            // then we hold the lock (as above). Success needs no ordering
            // (the hand-off's token will carry the edge); Acquire there
            // only keeps the pair plain.
            match self.state.compare_exchange_weak(
                state,
                state | DRAIN_WAITING,
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(s) => state = s,
            }
        }
        queue.push_back(0, DRAINER, waiter.clone());
        drop(queue);
        waiter.wait();
        Waiter::recycle(waiter);
    }

    /// Under the queue lock: take the lock of `kind` (`READER` or
    /// `WRITER_TAG`) if allowed now, else queue `waiter`. Returns whether
    /// the lock was taken.
    fn take_or_enqueue(&self, kind: usize, waiter: &Arc<Waiter>) -> bool {
        let mut queue = self.queue.lock();
        let mut state = self.state.load(Ordering::Relaxed);
        let tag = loop {
            // `None`: the lock is taken; `Some(tag)`: queue with `tag`.
            let (new, tag) = if kind == READER {
                if state & WRITER == 0 {
                    assert!(
                        readers(state) < MAX_READERS,
                        "RwMutex: too many concurrent readers"
                    );
                    (state + 1, None)
                } else {
                    (state | READERS_WAITING, Some(READER))
                }
            } else if state & WRITER == 0 {
                if readers(state) == 0 {
                    (state | WRITER, None)
                } else {
                    // Claim the slot and wait for the readers inside.
                    (state | WRITER | DRAIN_WAITING, Some(DRAINER))
                }
            } else {
                (state | WRITERS_WAITING, Some(WRITER_TAG))
            };
            // Acquire: when the lock is taken, pairs with the Release of
            // the last unlock (as in `try_read_fast` and `write`).
            match self
                .state
                .compare_exchange_weak(state, new, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => break tag,
                Err(s) => state = s,
            }
        };
        match tag {
            None => true,
            Some(tag) => {
                queue.push_back(0, tag, waiter.clone());
                false
            }
        }
    }

    #[inline]
    fn read_unlock(&self) {
        // Release: pairs with the Acquire with which a writer sees the
        // count at 0, so our reads happen before its writes.
        let prev = self.state.fetch_sub(1, Ordering::Release);
        if is_last_reader_before_drainer(prev) {
            self.hand_to_drainer();
        }
    }

    /// Transition 2's slow part: the count went from 1 to 0 while the slot
    /// owner was queued for that.
    #[cold]
    fn hand_to_drainer(&self) {
        let mut queue = self.queue.lock();
        // Acquire: the readers' Release decrements (this load reads the end
        // of their release sequence) happen before the writer we hand the
        // lock to; its token passes the edge on.
        let state = self.state.load(Ordering::Acquire);
        if state & DRAIN_WAITING == 0 || readers(state) != 0 {
            // Handed over already, or the drainer was cancelled. With the
            // bit still set and a count above 0, a reader backing out
            // raised it, or a cancelled drainer passed the slot to the
            // next writer with readers it admitted: their departures will
            // check again.
            return;
        }
        // Relaxed: under the queue lock; the token's Release follows it.
        self.state.fetch_and(!DRAIN_WAITING, Ordering::Relaxed);
        queue.notify_all_where(0, |tag| (tag == DRAINER).then_some(HANDOFF));
    }

    #[inline]
    fn write_unlock(&self) {
        // Release: pairs with the next owner's Acquire.
        if let Err(state) =
            self.state
                .compare_exchange(WRITER, 0, Ordering::Release, Ordering::Relaxed)
        {
            self.write_unlock_slow(state);
        }
    }

    #[cold]
    fn write_unlock_slow(&self, mut state: u32) {
        // Readers backing out are in the count, nobody is queued: clear
        // `WRITER` alone (invariant 2 holds: no waiting bit).
        while state & WAITING == 0 {
            // Release: as in `write_unlock`.
            match self.state.compare_exchange_weak(
                state,
                state & !WRITER,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(s) => state = s,
            }
        }
        let mut queue = self.queue.lock();
        self.release_slot(&mut queue);
    }

    /// Transition 5. Under the queue lock, by the slot owner (a writer
    /// unlocking, or a `DRAINER` that was cancelled and has left the
    /// queue): admit every queued reader, and pass the slot to the first
    /// queued writer or give it up.
    fn release_slot(&self, queue: &mut QueueGuard<'_>) {
        let admitted = queue.count(0, |tag| tag == READER) as u32;
        let writers = queue.count(0, |tag| tag == WRITER_TAG);
        let mut state = self.state.load(Ordering::Relaxed);
        let new = loop {
            let count = readers(state) + admitted;
            assert!(count < MAX_READERS, "RwMutex: too many concurrent readers");
            let new = match writers {
                0 => count,
                1 if count == 0 => WRITER,
                1 => WRITER | DRAIN_WAITING | count,
                _ if count == 0 => WRITER | WRITERS_WAITING,
                _ => WRITER | WRITERS_WAITING | DRAIN_WAITING | count,
            };
            // AcqRel. Release: publishes the writes of the writer giving
            // the lock up, to the readers and writer handed it here and to
            // every reader whose `fetch_add` reads this value or a later
            // one. Acquire: the Release decrements of readers that left
            // happen before a writer handed the lock with a count of 0.
            match self
                .state
                .compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => break new,
                Err(s) => state = s,
            }
        };
        // State first, then the tokens (waiter invariant 3).
        queue.notify_all_where(0, |tag| (tag == READER).then_some(HANDOFF));
        if writers > 0 {
            if readers(new) == 0 {
                let mut granted = false;
                queue.notify_all_where(0, |tag| {
                    (tag == WRITER_TAG && !granted).then(|| {
                        granted = true;
                        HANDOFF
                    })
                });
            } else {
                // It owns the slot now and sleeps on until the count
                // drains (`hand_to_drainer`).
                queue.retag_first(0, WRITER_TAG, DRAINER);
            }
        }
    }

    /// Transition 6: a dropped future that had queued `waiter`.
    fn cancel(&self, kind: usize, waiter: &Arc<Waiter>) {
        let mut queue = self.queue.lock();
        match queue.remove_tagged(waiter) {
            None => {
                drop(queue);
                // Handed its lock before it could leave: give it back.
                if kind == READER {
                    self.read_unlock();
                } else {
                    self.write_unlock();
                }
            }
            Some(READER) => {
                if !queue.any(0, |tag| tag == READER) {
                    // Relaxed: under the queue lock.
                    self.state.fetch_and(!READERS_WAITING, Ordering::Relaxed);
                }
            }
            Some(WRITER_TAG) => {
                if !queue.any(0, |tag| tag == WRITER_TAG) {
                    // Relaxed: under the queue lock.
                    self.state.fetch_and(!WRITERS_WAITING, Ordering::Relaxed);
                }
            }
            Some(_drainer) => self.release_slot(&mut queue),
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
