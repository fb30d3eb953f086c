//! The unbounded flavor: a linked list of blocks of slots (`unbounded()`).
//!
//! # Structure
//!
//! Values live in blocks of `BLOCK_CAP` slots linked by `next` pointers.
//! `head` and `tail` each hold an *index* and the block that index points
//! into. An index counts slots in steps of `1 << SHIFT`; the low bit of
//! `tail` (`MARK_BIT`) marks the channel closed. Each block spans `LAP` index
//! steps, one more than it has slots: offset `BLOCK_CAP` is a virtual
//! position meaning "the next block is being linked in; wait".
//!
//! Each slot has a `written` flag, set by its sender after writing the
//! value (Release) and awaited by its receiver (Acquire). Each block counts
//! the reads of its slots (`reads`, in the block header, away from the
//! slots the senders are writing): the receiver that completes the last
//! read frees the block. By then every sender is done with it (a sender's
//! last access to the block is its `written` store) and every receiver too
//! (a receiver touches the block only between reserving a slot and
//! counting its read), so exactly one thread frees each block, after
//! everyone else.
//!
//! # Protocol
//!
//! A sender reserves a slot by a CAS of `tail.index` one step forward. The
//! sender that reserves a block's last slot links in the next block (which
//! it allocated *before* its CAS, so nothing can fail after it): it sets
//! `tail.block`, moves `tail.index` past the virtual position with a
//! `fetch_add` (keeping a concurrent close's mark bit) and links `next`.
//! Then it writes the value and sets `written`.
//!
//! A receiver reserves a slot by a CAS of `head.index`; an index equal to
//! `tail`'s means empty (or closed, if marked). Reading `tail`, a line the
//! senders keep writing, on every receive would cost a cache miss each
//! time, so receivers keep the last `tail` they saw in `tail_seen`, on
//! their own cache line: while `head` is below it the channel cannot be
//! empty (`tail` only grows). The receiver that takes a block's last slot
//! moves `head` to the next block.
//!
//! The two index CASes are SeqCst, which is what the waiter list's
//! no-lost-wake-up argument needs (`waitlist.rs`). Senders never wait, so
//! there is only a receivers' list.

use core::mem::MaybeUninit;
use core::ptr;

use crossbeam_utils::CachePadded;

use super::{Backoff, block_recv};
use crate::err::{RecvTimeoutError, TryRecvError, TrySendError};
use crate::primitives::{Arc, AtomicBool, AtomicPtr, AtomicUsize, Instant, Ordering, UnsafeCell};
use crate::signal::Signal;
use crate::waitlist::WaitList;

/// Index steps per block: `BLOCK_CAP` slots plus the virtual position.
const LAP: usize = 32;
/// Slots per block.
const BLOCK_CAP: usize = LAP - 1;
/// Indices count in steps of `1 << SHIFT`; the bits below are flags.
const SHIFT: usize = 1;
/// In `tail`: the channel is closed.
const MARK_BIT: usize = 1;

struct Slot<T> {
    msg: UnsafeCell<MaybeUninit<T>>,
    written: AtomicBool,
}

impl<T> Slot<T> {
    /// Waits until the sender that reserved this slot has written it.
    fn wait_write(&self) {
        let mut backoff = Backoff::new();
        // Acquire: pairs with the sender's Release store of `written`, so
        // the value is visible.
        while !self.written.load(Ordering::Acquire) {
            backoff.snooze();
        }
    }
}

struct Block<T> {
    next: AtomicPtr<Block<T>>,
    /// Completed reads; the one that makes it `BLOCK_CAP` frees the block.
    reads: AtomicUsize,
    slots: [Slot<T>; BLOCK_CAP],
}

impl<T> Block<T> {
    fn new() -> Box<Block<T>> {
        Box::new(Block {
            next: AtomicPtr::new(ptr::null_mut()),
            reads: AtomicUsize::new(0),
            slots: core::array::from_fn(|_| Slot {
                msg: UnsafeCell::new(MaybeUninit::uninit()),
                written: AtomicBool::new(false),
            }),
        })
    }

    /// Waits until the sender of the last slot has linked the next block.
    fn wait_next(&self) -> *mut Block<T> {
        let mut backoff = Backoff::new();
        loop {
            // Acquire: pairs with the Release store of `next` in `try_send`,
            // so the new block's initialization is visible.
            let next = self.next.load(Ordering::Acquire);
            if !next.is_null() {
                return next;
            }
            backoff.snooze();
        }
    }

    /// Counts one completed read of `this`; frees the block after the last.
    ///
    /// # Safety
    /// `this` is a live block and the caller has just finished reading one
    /// of its slots (and will not touch the block again).
    unsafe fn read_done(this: *mut Block<T>) {
        // SAFETY: alive until the last read is counted, which may be ours.
        let reads = unsafe { &(*this).reads };
        // AcqRel: Release orders our read of the slot before the count;
        // Acquire lets the last reader see every other reader's count (and
        // so their reads) before it frees.
        if reads.fetch_add(1, Ordering::AcqRel) + 1 == BLOCK_CAP {
            // SAFETY: every slot was read and nobody else touches the block
            // (module docs); it came from `Box::into_raw` in `try_send`.
            drop(unsafe { Box::from_raw(this) });
        }
    }
}

struct Position<T> {
    index: AtomicUsize,
    block: AtomicPtr<Block<T>>,
}

/// An unbounded channel.
pub(crate) struct List<T> {
    head: CachePadded<Position<T>>,
    /// The last `tail.index` a receiver read (see the module docs); on the
    /// receivers' side of the structure.
    tail_seen: CachePadded<AtomicUsize>,
    tail: CachePadded<Position<T>>,
    receivers: WaitList,
}

// SAFETY: values move between threads through the slots (so `T: Send`);
// each slot is written by one sender and read by one receiver, ordered by
// its `state` word, as the module docs establish.
unsafe impl<T: Send> Send for List<T> {}
// SAFETY: as for `Send`.
unsafe impl<T: Send> Sync for List<T> {}

impl<T> List<T> {
    pub(crate) fn new() -> Self {
        List {
            head: CachePadded::new(Position {
                index: AtomicUsize::new(0),
                block: AtomicPtr::new(ptr::null_mut()),
            }),
            tail_seen: CachePadded::new(AtomicUsize::new(0)),
            tail: CachePadded::new(Position {
                index: AtomicUsize::new(0),
                block: AtomicPtr::new(ptr::null_mut()),
            }),
            receivers: WaitList::new(),
        }
    }

    pub(crate) fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        let mut backoff = Backoff::new();
        // Acquire (both): pair with the Release stores that link a block, so
        // the block we read through is initialized.
        let mut tail = self.tail.index.load(Ordering::Acquire);
        let mut block = self.tail.block.load(Ordering::Acquire);
        let mut next_block = None;
        loop {
            if tail & MARK_BIT != 0 {
                return Err(TrySendError::Closed(msg));
            }
            let offset = (tail >> SHIFT) % LAP;
            if offset == BLOCK_CAP {
                // Another sender is linking the next block.
                backoff.snooze();
                tail = self.tail.index.load(Ordering::Acquire);
                block = self.tail.block.load(Ordering::Acquire);
                continue;
            }
            // About to take the last slot: allocate the next block now, so
            // nothing can fail once the slot is reserved.
            if offset + 1 == BLOCK_CAP && next_block.is_none() {
                next_block = Some(Block::<T>::new());
            }
            if block.is_null() {
                // The very first send installs the first block.
                let new = Box::into_raw(Block::<T>::new());
                // Release: publishes the block's initialization.
                if self
                    .tail
                    .block
                    .compare_exchange(ptr::null_mut(), new, Ordering::Release, Ordering::Relaxed)
                    .is_ok()
                {
                    // Release: as above, for receivers.
                    self.head.block.store(new, Ordering::Release);
                    block = new;
                } else {
                    // SAFETY: `new` came from `Box::into_raw` above and was
                    // never shared.
                    next_block = Some(unsafe { Box::from_raw(new) });
                    tail = self.tail.index.load(Ordering::Acquire);
                    block = self.tail.block.load(Ordering::Acquire);
                    continue;
                }
            }
            let new_tail = tail + (1 << SHIFT);
            // SeqCst: the index update of the waiter list's Dekker argument.
            match self.tail.index.compare_exchange_weak(
                tail,
                new_tail,
                Ordering::SeqCst,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    // SAFETY: `block` is the block `tail` pointed into (both
                    // were read after the same link step, and the index CAS
                    // succeeded, so no link happened in between). Blocks are
                    // freed only after all their slots are read, and ours is
                    // not written yet.
                    unsafe {
                        if offset + 1 == BLOCK_CAP {
                            let next = Box::into_raw(next_block.take().expect("allocated"));
                            // Release (all three): publish the new block's
                            // initialization to senders and receivers.
                            self.tail.block.store(next, Ordering::Release);
                            self.tail.index.fetch_add(1 << SHIFT, Ordering::Release);
                            (*block).next.store(next, Ordering::Release);
                        }
                        let slot = &(*block).slots[offset];
                        (*slot.msg.get()).write(msg);
                        // Release: publishes the value to the receiver's
                        // Acquire load in `wait_write`. Our last access to
                        // the block.
                        slot.written.store(true, Ordering::Release);
                    }
                    self.receivers.notify_one();
                    return Ok(());
                }
                Err(t) => {
                    tail = t;
                    block = self.tail.block.load(Ordering::Acquire);
                    backoff.spin();
                }
            }
        }
    }

    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut backoff = Backoff::new();
        // Acquire (both): pair with the Release stores that move `head` to a
        // new block.
        let mut head = self.head.index.load(Ordering::Acquire);
        let mut block = self.head.block.load(Ordering::Acquire);
        loop {
            let offset = (head >> SHIFT) % LAP;
            if offset == BLOCK_CAP {
                // Another receiver is moving `head` to the next block.
                backoff.snooze();
                head = self.head.index.load(Ordering::Acquire);
                block = self.head.block.load(Ordering::Acquire);
                continue;
            }
            let new_head = head + (1 << SHIFT);
            // Relaxed: a hint; it only ever lags the real `tail`.
            if head >> SHIFT >= self.tail_seen.load(Ordering::Relaxed) >> SHIFT {
                // SeqCst: "empty" must not be stale against a send that
                // completed before us (the sender's CAS is SeqCst).
                let tail = self.tail.index.load(Ordering::SeqCst);
                if head >> SHIFT == tail >> SHIFT {
                    return Err(if tail & MARK_BIT != 0 {
                        TryRecvError::Closed
                    } else {
                        TryRecvError::Empty
                    });
                }
                // Relaxed: a hint (above).
                self.tail_seen.store(tail, Ordering::Relaxed);
            }
            if block.is_null() {
                // The first send is installing the first block.
                backoff.snooze();
                head = self.head.index.load(Ordering::Acquire);
                block = self.head.block.load(Ordering::Acquire);
                continue;
            }
            // SeqCst: as in `try_send`.
            match self.head.index.compare_exchange_weak(
                head,
                new_head,
                Ordering::SeqCst,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    // SAFETY: we reserved the slot at `offset` of `block`
                    // (`head` and `block` are consistent, as in `try_send`).
                    // The block stays alive until we count our read, and
                    // the sender's value is published by `written`, which
                    // `wait_write` waits for.
                    unsafe {
                        if offset + 1 == BLOCK_CAP {
                            let next = (*block).wait_next();
                            // Release (both): publish the move for the next
                            // receiver's Acquire loads.
                            self.head.block.store(next, Ordering::Release);
                            self.head
                                .index
                                .store(new_head.wrapping_add(1 << SHIFT), Ordering::Release);
                        }
                        let slot = &(*block).slots[offset];
                        slot.wait_write();
                        let msg = (*slot.msg.get()).assume_init_read();
                        Block::read_done(block);
                        return Ok(msg);
                    }
                }
                Err(h) => {
                    head = h;
                    block = self.head.block.load(Ordering::Acquire);
                    backoff.spin();
                }
            }
        }
    }

    pub(crate) fn recv(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        block_recv(
            &self.receivers,
            deadline,
            || self.try_recv(),
            || self.is_recv_ready(),
        )
    }

    /// A receive would find a value (or the channel is closed).
    pub(crate) fn is_recv_ready(&self) -> bool {
        // SeqCst: the waiter's re-check in the Dekker pair of `waitlist.rs`.
        let head = self.head.index.load(Ordering::SeqCst);
        let tail = self.tail.index.load(Ordering::SeqCst);
        tail & MARK_BIT != 0 || head >> SHIFT != tail >> SHIFT
    }

    pub(crate) fn register_recv(&self, signal: &Arc<Signal>, case: usize) {
        self.receivers.register(signal, case);
    }

    pub(crate) fn unregister_recv(&self, signal: &Arc<Signal>, case: usize) {
        self.receivers.unregister(signal, case);
    }

    /// Passes on a wake-up a cancelled future received but did not use.
    pub(crate) fn forward_recv(&self) {
        self.receivers.notify_one();
    }

    /// Closes the channel; `false` if it was closed already.
    pub(crate) fn close(&self) -> bool {
        // SeqCst: an index update like any other, for the waiter list.
        let tail = self.tail.index.fetch_or(MARK_BIT, Ordering::SeqCst);
        if tail & MARK_BIT != 0 {
            return false;
        }
        self.receivers.notify_all();
        true
    }

    pub(crate) fn is_closed(&self) -> bool {
        // SeqCst: see `Array::is_closed`.
        self.tail.index.load(Ordering::SeqCst) & MARK_BIT != 0
    }

    pub(crate) fn len(&self) -> usize {
        loop {
            // SeqCst: a consistent snapshot (retry while `tail` moves).
            let tail = self.tail.index.load(Ordering::SeqCst) >> SHIFT;
            let head = self.head.index.load(Ordering::SeqCst) >> SHIFT;
            if self.tail.index.load(Ordering::SeqCst) >> SHIFT == tail {
                // Skip the virtual positions at the end of each block.
                let (mut head, mut tail) = (head, tail);
                if tail % LAP == BLOCK_CAP {
                    tail = tail.wrapping_add(1);
                }
                if head % LAP == BLOCK_CAP {
                    head = head.wrapping_add(1);
                }
                let blocks = tail / LAP - head / LAP;
                return (tail % LAP + blocks * LAP)
                    .wrapping_sub(head % LAP)
                    .wrapping_sub(blocks);
            }
        }
    }
}

impl<T> Drop for List<T> {
    fn drop(&mut self) {
        // `&mut self`: every handle is gone, so every reserved slot was
        // completed and nobody else touches the blocks.
        let mut head = self.head.index.load(Ordering::Relaxed);
        let tail = self.tail.index.load(Ordering::Relaxed) & !MARK_BIT;
        let mut block = self.head.block.load(Ordering::Relaxed);
        while head >> SHIFT != tail >> SHIFT {
            let offset = (head >> SHIFT) % LAP;
            // SAFETY: slots in [head, tail) hold written, unread values, and
            // the blocks between them are linked and alive.
            unsafe {
                if offset < BLOCK_CAP {
                    (*(*block).slots[offset].msg.get()).assume_init_drop();
                } else {
                    let next = (*block).next.load(Ordering::Relaxed);
                    drop(Box::from_raw(block));
                    block = next;
                }
            }
            head = head.wrapping_add(1 << SHIFT);
        }
        if !block.is_null() {
            // SAFETY: the last block, from `Box::into_raw`, freed once.
            drop(unsafe { Box::from_raw(block) });
        }
    }
}
