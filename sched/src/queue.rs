//! Run queues: each P's local ring and `runnext` slot, and the global
//! inject queue (Go's `runq`, `runnext` and `sched.runq`, `proc.go`).
//!
//! # The local ring
//!
//! A fixed ring of [`LOCAL_CAP`] task pointers with two free-running `u32`
//! indices. `tail` is written only by the P's owner (push); `head` is
//! advanced by CAS by everyone who takes tasks: the owner's `pop` and
//! thieves' `steal_into`, which takes half of the tasks at once.
//!
//! - **push (owner):** if `tail - head < LOCAL_CAP`, write the slot at
//!   `tail` and publish it by storing `tail + 1` (Release). A full ring
//!   moves half of its tasks, plus the new one, to the global queue in one
//!   batch (claimed by one CAS of `head`), so a burst of spawns spreads to
//!   the other workers.
//! - **pop / steal:** read `head` and `tail` (Acquire), copy the slots of
//!   the range, then claim the range by a CAS of `head`. If the CAS fails
//!   someone else took tasks first and the copies are discarded, never
//!   used. Slots are atomics (Relaxed), so a copy that races with the owner
//!   overwriting a slot of the next lap is not a data race; such a copy is
//!   always discarded, because the owner writes a slot only after `head`
//!   moved past it, which fails our CAS.
//!
//! Invariants: a task pointer is in at most one queue or slot; it is taken
//! out by exactly one successful CAS (of `head` or of `runnext`), so each
//! `Notified` is run (or dropped at shutdown) once. The indices wrap at
//! 2^32; a thread would have to stall while 2^32 tasks pass through one
//! ring for a stale CAS to succeed (Go has the same bound).
//!
//! # runnext
//!
//! A task woken by a running task goes to `runnext`, not to the ring's
//! tail, so a producer and a consumer that wake each other run back to
//! back on one worker (Go's `ready(gp, next=true)`, tokio's LIFO slot). The
//! task it displaces goes to the ring. A worker runs `runnext` at most
//! [`RUNNEXT_CAP`] times in a row before it takes from the ring, so two
//! tasks ping-ponging through `runnext` cannot starve the rest. Unlike
//! tokio's LIFO slot, thieves may take `runnext` (one CAS) when the ring is
//! empty and its owner is busy polling, so a task woken by a goroutine
//! that then blocks its thread is not stranded (tokio-rs/tokio#4941).

use std::collections::VecDeque;

use crossbeam_utils::CachePadded;

use crate::primitives::{AtomicPtr, AtomicU32, AtomicUsize, Mutex, Ordering, lock};
use crate::task::Notified;

/// What the queues hold: an owned pointer-sized handle (a task's
/// [`Notified`]; a box in the loom models).
pub trait Item: Send {
    /// Gives up the handle as a pointer.
    fn into_raw(self) -> *mut ();
    /// Takes the handle back.
    ///
    /// # Safety
    /// `p` came from [`Item::into_raw`] and is taken back once.
    unsafe fn from_raw(p: *mut ()) -> Self;
}

impl Item for Notified {
    fn into_raw(self) -> *mut () {
        Notified::into_raw(self).cast()
    }

    unsafe fn from_raw(p: *mut ()) -> Self {
        // SAFETY: the caller's duty, as `Notified::from_raw`'s.
        unsafe { Notified::from_raw(p.cast()) }
    }
}

impl<T: Send> Item for Box<T> {
    fn into_raw(self) -> *mut () {
        Box::into_raw(self).cast()
    }

    unsafe fn from_raw(p: *mut ()) -> Self {
        // SAFETY: the caller's duty: a pointer from `Box::into_raw`.
        unsafe { Box::from_raw(p.cast()) }
    }
}

/// Slots in each P's local ring (Go's and tokio's size); 4 under loom, so
/// that a model can fill a ring (tokio's models do the same).
#[cfg(not(loom))]
pub const LOCAL_CAP: usize = 256;
/// Slots in each P's local ring (Go's and tokio's size); 4 under loom, so
/// that a model can fill a ring (tokio's models do the same).
#[cfg(loom)]
pub const LOCAL_CAP: usize = 4;

/// Runs of `runnext` in a row before the ring gets a turn.
pub const RUNNEXT_CAP: u32 = 3;

/// A P's local run queue: the ring and `runnext`.
pub struct Local<T: Item> {
    head: CachePadded<AtomicU32>,
    tail: CachePadded<AtomicU32>,
    runnext: CachePadded<AtomicPtr<()>>,
    slots: Box<[AtomicPtr<()>]>,
    /// Items cross threads through the slots (`Item: Send`).
    _items: core::marker::PhantomData<fn(T) -> T>,
}

impl<T: Item> Local<T> {
    /// An empty ring.
    pub fn new() -> Self {
        Local {
            head: CachePadded::new(AtomicU32::new(0)),
            tail: CachePadded::new(AtomicU32::new(0)),
            runnext: CachePadded::new(AtomicPtr::new(core::ptr::null_mut())),
            slots: (0..LOCAL_CAP)
                .map(|_| AtomicPtr::new(core::ptr::null_mut()))
                .collect(),
            _items: core::marker::PhantomData,
        }
    }

    #[inline]
    fn slot(&self, i: u32) -> &AtomicPtr<()> {
        &self.slots[i as usize % LOCAL_CAP]
    }

    /// Whether the ring and `runnext` are both empty (a snapshot).
    pub fn is_empty(&self) -> bool {
        // Acquire/SeqCst: a snapshot for the park re-check (`worker.rs`),
        // which orders it with a SeqCst fence.
        let h = self.head.load(Ordering::Acquire);
        let t = self.tail.load(Ordering::Acquire);
        h == t && self.runnext.load(Ordering::Acquire).is_null()
    }

    /// Tasks in the ring (a snapshot), not counting `runnext`.
    pub fn len(&self) -> usize {
        let h = self.head.load(Ordering::Acquire);
        let t = self.tail.load(Ordering::Acquire);
        t.wrapping_sub(h) as usize
    }

    /// Owner only: puts `task` into `runnext`; a task it displaces goes to
    /// the ring (then `true`).
    pub fn push_next(&self, task: T, inject: &Inject<T>) -> bool {
        // AcqRel: Release publishes the task to whoever takes it from the
        // slot; Acquire takes ownership of the displaced one.
        let old = self.runnext.swap(task.into_raw(), Ordering::AcqRel);
        if !old.is_null() {
            // SAFETY: a pointer in `runnext` came from `into_raw` and the
            // swap took it out: we own it.
            self.push_back(unsafe { T::from_raw(old) }, inject);
            return true;
        }
        false
    }

    /// Owner only: appends `task` to the ring, or moves half of a full
    /// ring plus `task` to `inject`.
    pub fn push_back(&self, task: T, inject: &Inject<T>) {
        let task = task.into_raw();
        loop {
            // Acquire: the consumers that moved `head` finished reading
            // their slots, which we may now overwrite.
            let h = self.head.load(Ordering::Acquire);
            // Relaxed: only the owner (us) writes `tail`.
            let t = self.tail.load(Ordering::Relaxed);
            if (t.wrapping_sub(h) as usize) < LOCAL_CAP {
                // Relaxed: published by the Release store of `tail`.
                self.slot(t).store(task, Ordering::Relaxed);
                self.tail.store(t.wrapping_add(1), Ordering::Release);
                return;
            }
            if self.push_overflow(task, h, t, inject) {
                return;
            }
            // A consumer took tasks meanwhile: there may be room now.
        }
    }

    /// Moves the older half of a full ring and `task` to `inject`; `false`
    /// if a consumer moved `head` first.
    #[cold]
    fn push_overflow(&self, task: *mut (), h: u32, t: u32, inject: &Inject<T>) -> bool {
        let n = (t.wrapping_sub(h) / 2) as usize;
        let batch: Vec<*mut ()> = (0..n as u32)
            .map(|i| self.slot(h.wrapping_add(i)).load(Ordering::Relaxed))
            .collect();
        // Release: our slot reads are done before a new owner write of
        // these slots (pairs with the Acquire `head` load in `push_back`).
        if self
            .head
            .compare_exchange(
                h,
                h.wrapping_add(n as u32),
                Ordering::Release,
                Ordering::Relaxed,
            )
            .is_err()
        {
            return false;
        }
        // SAFETY: the CAS gave us these `n` ring entries, and `task` is
        // ours: each pointer came from `into_raw` and is turned back once.
        let tasks = batch
            .into_iter()
            .chain(core::iter::once(task))
            .map(|p| unsafe { T::from_raw(p) });
        inject.push_batch(tasks);
        true
    }

    /// Takes the task to run next: `runnext` (if `use_next`), else the
    /// ring's head. Owner only for `runnext`'s fairness accounting, but
    /// safe for anyone.
    pub fn pop(&self, use_next: bool) -> Option<(T, bool)> {
        if use_next {
            if let Some(t) = self.take_next() {
                return Some((t, true));
            }
        }
        if let Some(t) = self.pop_ring() {
            return Some((t, false));
        }
        // The ring was empty: `runnext` even when its turn was skipped.
        self.take_next().map(|t| (t, true))
    }

    /// Takes `runnext` if set.
    pub fn take_next(&self) -> Option<T> {
        // Cheap check first: a swap would dirty the line for the owner.
        // Acquire: pairs with the Release of `push_next`.
        if self.runnext.load(Ordering::Acquire).is_null() {
            return None;
        }
        let p = self.runnext.swap(core::ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: the swap took the pointer out of the slot: it is ours.
        (!p.is_null()).then(|| unsafe { T::from_raw(p) })
    }

    fn pop_ring(&self) -> Option<T> {
        // Acquire: pairs with the owner's Release of `tail` (the slot's
        // contents) and with other consumers' CAS of `head`.
        let mut h = self.head.load(Ordering::Acquire);
        loop {
            let t = self.tail.load(Ordering::Acquire);
            if h == t {
                return None;
            }
            let p = self.slot(h).load(Ordering::Relaxed);
            // Release: our read of the slot is done before the owner may
            // overwrite it (it loads `head` with Acquire first).
            match self.head.compare_exchange_weak(
                h,
                h.wrapping_add(1),
                Ordering::Release,
                Ordering::Acquire,
            ) {
                // SAFETY: the CAS gave us position `h`, whose slot the
                // owner filled (`tail` was past it) and nobody else took.
                Ok(_) => return Some(unsafe { T::from_raw(p) }),
                Err(a) => h = a,
            }
        }
    }

    /// Thief: moves half of `self`'s ring into `dst` (the thief's own,
    /// empty ring) and returns one of the tasks to run now. With an empty
    /// ring, takes `runnext` when `take_next` says its owner is busy.
    pub fn steal_into(&self, dst: &Local<T>, take_next: bool) -> Option<T> {
        // Relaxed: only the thief (dst's owner) writes dst's `tail`.
        let dst_tail = dst.tail.load(Ordering::Relaxed);
        let mut h = self.head.load(Ordering::Acquire);
        loop {
            let t = self.tail.load(Ordering::Acquire);
            let n = t.wrapping_sub(h);
            let n = n - n / 2;
            if n == 0 {
                return if take_next { self.take_next() } else { None };
            }
            if n as usize > LOCAL_CAP / 2 {
                // `head` and `tail` from different moments: read again.
                h = self.head.load(Ordering::Acquire);
                continue;
            }
            for i in 0..n {
                let p = self.slot(h.wrapping_add(i)).load(Ordering::Relaxed);
                // Relaxed: published by our Release store of dst's `tail`.
                dst.slot(dst_tail.wrapping_add(i))
                    .store(p, Ordering::Relaxed);
            }
            // Release: our slot reads precede the owner's next overwrite.
            match self.head.compare_exchange_weak(
                h,
                h.wrapping_add(n),
                Ordering::Release,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    // Keep the last one to run; publish the rest.
                    let last = dst_tail.wrapping_add(n - 1);
                    let p = dst.slot(last).load(Ordering::Relaxed);
                    if n > 1 {
                        dst.tail.store(last, Ordering::Release);
                    }
                    // SAFETY: the CAS gave us the `n` entries; this one is
                    // not published in `dst` (its `tail` stops before it).
                    return Some(unsafe { T::from_raw(p) });
                }
                Err(a) => h = a,
            }
        }
    }

    /// Takes every task (shutdown).
    pub fn drain(&self, out: &mut Vec<T>) {
        out.extend(self.take_next());
        while let Some(t) = self.pop_ring() {
            out.push(t);
        }
    }
}

/// The global queue: tasks pushed from outside the workers, overflow of the
/// local rings, and tasks a worker hands back. A mutex-protected FIFO with
/// a lock-free length for the emptiness checks. Once closed (shutdown) it
/// drops what is pushed instead of keeping it: a task queued there would
/// keep the runtime's shared state alive through its own reference.
pub struct Inject<T> {
    queue: Mutex<InjectState<T>>,
    len: AtomicUsize,
}

struct InjectState<T> {
    tasks: VecDeque<T>,
    closed: bool,
}

impl<T: Item> Inject<T> {
    /// An empty, open queue.
    pub fn new() -> Self {
        Inject {
            queue: Mutex::new(InjectState {
                tasks: VecDeque::new(),
                closed: false,
            }),
            len: AtomicUsize::new(0),
        }
    }

    /// Whether the queue is empty (a snapshot).
    pub fn is_empty(&self) -> bool {
        // Acquire: a snapshot, ordered by the callers' fences.
        self.len.load(Ordering::Acquire) == 0
    }

    /// Appends a task (dropped if the queue is closed).
    pub fn push(&self, task: T) {
        self.push_batch(core::iter::once(task));
    }

    /// Appends tasks (dropped if the queue is closed).
    pub fn push_batch(&self, tasks: impl Iterator<Item = T>) {
        let mut q = lock(&self.queue);
        if q.closed {
            drop(q);
            // Dropped outside the lock: it may free the task.
            tasks.for_each(drop);
            return;
        }
        q.tasks.extend(tasks);
        // Release: written under the lock; read without it as a hint.
        self.len.store(q.tasks.len(), Ordering::Release);
    }

    /// Takes the oldest task.
    pub fn pop(&self) -> Option<T> {
        if self.is_empty() {
            return None;
        }
        let mut q = lock(&self.queue);
        let t = q.tasks.pop_front();
        self.len.store(q.tasks.len(), Ordering::Release);
        t
    }

    /// Takes one task to run and moves up to `max` more into `dst` (the
    /// caller's own ring, with room for them): Go's `globrunqget`.
    pub fn pop_batch(&self, dst: &Local<T>, max: usize, inject: &Inject<T>) -> Option<T> {
        if self.is_empty() {
            return None;
        }
        let mut q = lock(&self.queue);
        let first = q.tasks.pop_front()?;
        let room = LOCAL_CAP - dst.len();
        let n = q.tasks.len().min(max).min(room);
        let batch: Vec<T> = q.tasks.drain(..n).collect();
        self.len.store(q.tasks.len(), Ordering::Release);
        drop(q);
        for t in batch {
            dst.push_back(t, inject);
        }
        Some(first)
    }

    /// Refuses further tasks (shutdown).
    pub fn close(&self) {
        lock(&self.queue).closed = true;
    }

    /// Takes every task.
    pub fn drain(&self, out: &mut Vec<T>) {
        let mut q = lock(&self.queue);
        out.extend(q.tasks.drain(..));
        self.len.store(0, Ordering::Release);
    }
}
