//! The unbounded flavor: a linked list of blocks of slots (`unbounded()`).
//!
//! # Structure
//!
//! Values live in blocks of `BLOCK_CAP` slots linked by `next` pointers.
//! `head` and `tail` each hold an *index* and the block that index points
//! into. An index counts slots in steps of `1 << SHIFT`; the low bit is a
//! flag (`MARK_BIT`): in `tail` it marks the channel closed, in `head` it
//! caches "head's block is not the last one" (so a receiver need not look
//! at `tail` to know a value is there). Each block spans `LAP` index
//! steps, one more than it has slots: offset `BLOCK_CAP` is a virtual
//! position meaning "the next block is being linked in; wait".
//!
//! Each slot has a `state` word of three bits:
//!
//! | bit       | set by                                                      |
//! |-----------|-------------------------------------------------------------|
//! | `WRITE`   | the sender, after writing the value (Release)               |
//! | `READ`    | the receiver, after moving the value out                    |
//! | `DESTROY` | the receiver freeing the block, if this slot was not read yet |
//!
//! # Protocol
//!
//! A sender reserves a slot by a CAS of `tail.index` one step forward. The
//! sender that reserves a block's last slot links in the next block (which
//! it allocated *before* its CAS, so nothing can fail after it): it sets
//! `tail.block`, moves `tail.index` past the virtual position with a
//! `fetch_add` (keeping a concurrent close's mark bit) and links `next`.
//! Then it writes the value and sets `WRITE`.
//!
//! A receiver reserves a slot by a CAS of `head.index`; an index equal to
//! `tail`'s means empty (or closed, if marked). The receiver that takes a
//! block's last slot moves `head` to the next block. After reading a slot,
//! the receiver marks it `READ`. Freeing a block needs every slot read:
//! the receiver of the last slot walks the block's other slots, and where
//! a slot is still being read it sets `DESTROY` and leaves; that slot's
//! reader, seeing `DESTROY` after its own `READ`, continues the walk from
//! its slot. Exactly one thread frees each block, after all its readers.
//!
//! The two index CASes are SeqCst, which is what the waiter list's
//! no-lost-wake-up argument needs (`waitlist.rs`). Senders never wait, so
//! there is only a receivers' list.

use core::mem::MaybeUninit;
use core::ptr;

use crossbeam_utils::CachePadded;

use super::{Attempt, Backoff, block};
use crate::err::{RecvTimeoutError, TryRecvError, TrySendError};
use crate::primitives::{Arc, AtomicPtr, AtomicUsize, Instant, Ordering, UnsafeCell, fence};
use crate::signal::Signal;
use crate::waitlist::WaitList;

const WRITE: usize = 1;
const READ: usize = 2;
const DESTROY: usize = 4;

/// Index steps per block: `BLOCK_CAP` slots plus the virtual position.
const LAP: usize = 32;
/// Slots per block.
const BLOCK_CAP: usize = LAP - 1;
/// Indices count in steps of `1 << SHIFT`; the bits below are flags.
const SHIFT: usize = 1;
/// In `tail`: closed. In `head`: head's block is not the last one.
const MARK_BIT: usize = 1;

struct Slot<T> {
    msg: UnsafeCell<MaybeUninit<T>>,
    state: AtomicUsize,
}

impl<T> Slot<T> {
    /// Waits until the sender that reserved this slot has written it.
    fn wait_write(&self) {
        let mut backoff = Backoff::new();
        // Acquire: pairs with the sender's Release `fetch_or(WRITE)`, so the
        // value is visible.
        while self.state.load(Ordering::Acquire) & WRITE == 0 {
            backoff.snooze();
        }
    }
}

struct Block<T> {
    next: AtomicPtr<Block<T>>,
    slots: [Slot<T>; BLOCK_CAP],
}

impl<T> Block<T> {
    fn new() -> Box<Block<T>> {
        Box::new(Block {
            next: AtomicPtr::new(ptr::null_mut()),
            slots: core::array::from_fn(|_| Slot {
                msg: UnsafeCell::new(MaybeUninit::uninit()),
                state: AtomicUsize::new(0),
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

    /// Frees `this` once every slot from `start` on has been read; if one
    /// is still being read, leaves the job to its reader.
    ///
    /// # Safety
    /// `this` is a live block whose slots before `start` are all read, and
    /// no thread will reserve a slot in it any more.
    unsafe fn destroy(this: *mut Block<T>, start: usize) {
        // The last slot's reader started the walk; it needs no mark.
        for i in start..BLOCK_CAP - 1 {
            // SAFETY: the block is alive until this walk frees it.
            let slot = unsafe { &(*this).slots[i] };
            // AcqRel: Acquire sees that slot's reader is done (its Release
            // `fetch_or(READ)`); Release hands our earlier reads of the
            // block to it if it continues the walk.
            if slot.state.load(Ordering::Acquire) & READ == 0
                && slot.state.fetch_or(DESTROY, Ordering::AcqRel) & READ == 0
            {
                return;
            }
        }
        // SAFETY: every slot is read and nobody else holds the block: it
        // came from `Box::into_raw` in `try_send` and is freed once.
        drop(unsafe { Box::from_raw(this) });
    }
}

struct Position<T> {
    index: AtomicUsize,
    block: AtomicPtr<Block<T>>,
}

/// An unbounded channel.
pub(crate) struct List<T> {
    head: CachePadded<Position<T>>,
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
                        // Acquire load in `wait_write`.
                        slot.state.fetch_or(WRITE, Ordering::Release);
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
            let mut new_head = head + (1 << SHIFT);
            if new_head & MARK_BIT == 0 {
                // Not known to be behind the last block: compare with tail.
                // SeqCst fence: orders our `head` read before the `tail`
                // read against the senders' SeqCst CAS, so "empty" is not
                // stale.
                fence(Ordering::SeqCst);
                let tail = self.tail.index.load(Ordering::Relaxed);
                if head >> SHIFT == tail >> SHIFT {
                    return Err(if tail & MARK_BIT != 0 {
                        TryRecvError::Closed
                    } else {
                        TryRecvError::Empty
                    });
                }
                if (head >> SHIFT) / LAP != (tail >> SHIFT) / LAP {
                    new_head |= MARK_BIT;
                }
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
                    // The block stays alive until our `READ` mark or the
                    // walk we start, and the sender's value is published by
                    // `WRITE`, which `wait_write` waits for.
                    unsafe {
                        if offset + 1 == BLOCK_CAP {
                            let next = (*block).wait_next();
                            let mut next_index = (new_head & !MARK_BIT).wrapping_add(1 << SHIFT);
                            // Relaxed: a hint; a stale null only costs a
                            // look at `tail` later.
                            if !(*next).next.load(Ordering::Relaxed).is_null() {
                                next_index |= MARK_BIT;
                            }
                            // Release (both): publish the move for the next
                            // receiver's Acquire loads.
                            self.head.block.store(next, Ordering::Release);
                            self.head.index.store(next_index, Ordering::Release);
                        }
                        let slot = &(*block).slots[offset];
                        slot.wait_write();
                        let msg = (*slot.msg.get()).assume_init_read();
                        if offset + 1 == BLOCK_CAP {
                            Block::destroy(block, 0);
                        } else if slot.state.fetch_or(READ, Ordering::AcqRel) & DESTROY != 0 {
                            // AcqRel: see `Block::destroy`.
                            Block::destroy(block, offset + 1);
                        }
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
        block(
            &self.receivers,
            deadline,
            || match self.try_recv() {
                Ok(v) => Attempt::Done(Ok(v)),
                Err(TryRecvError::Closed) => Attempt::Done(Err(RecvTimeoutError::Closed)),
                Err(TryRecvError::Empty) => Attempt::Retry,
            },
            || self.is_recv_ready(),
        )
        .unwrap_or(Err(RecvTimeoutError::Timeout))
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

    /// Drops every queued value (the last receiver left); the channel is
    /// closed first, so this ends.
    pub(crate) fn discard_all(&self) {
        loop {
            match self.try_recv() {
                Ok(v) => drop(v),
                Err(TryRecvError::Closed) => return,
                Err(TryRecvError::Empty) => unreachable!("discard_all on an open channel"),
            }
        }
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
        let mut head = self.head.index.load(Ordering::Relaxed) & !MARK_BIT;
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
