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
//! Each slot has a state byte: `EMPTY`, then `WRITTEN`, stored by its
//! sender after writing the value (Release) and awaited by its receiver
//! (Acquire), then `READ`, stored by its receiver after taking the value
//! out (Release). Each transition has one writer, who makes it after
//! seeing the one before, so both are plain stores: a message costs one
//! read-modify-write on each side (the index CAS) and nothing else. The
//! state bytes sit in chunks of seven slots next to their values
//! (`Chunk`), so a `u64` message takes 9 bytes in a block, not the 16 a
//! flag beside each value would take after padding.
//!
//! # Freeing blocks
//!
//! A sender's last access to a block is its `WRITTEN` store, and a
//! receiver's (but see below) its `READ` store, so a block whose slots are
//! all `READ` is touched by nobody and can go. Receivers reserve slots in
//! index order, so when one reserves a block's last slot (the *closer*),
//! every other slot of the block is already reserved; the closer reads its
//! value and then *retires* the block: if every state is `READ`
//! (Acquire, pairing with the readers' Release), the block is free; if a
//! reader is still busy, the block goes to the `garbage` list, which the
//! next closer (one block, 63 messages, later; whether its own block is
//! free or not) and `Drop` sweep for blocks that have become free. A block
//! in `garbage` waits only for a reader that was between its reservation
//! and its `READ` store at the last sweep, so there are never more blocks
//! there than receivers in that window.
//!
//! A free block becomes the `spare` if there is none (reset, published by
//! a Release CAS), and the sender that links the next block takes the
//! spare (Acquire swap) before it allocates: a steady stream allocates
//! nothing. Only the closer, which retires, ever frees or recycles, so a
//! block is freed once.
//!
//! # Protocol
//!
//! A sender reserves a slot by a CAS of `tail.index` one step forward. The
//! sender that reserves a block's last slot links in the next block (which
//! it allocated *before* its CAS, so nothing can fail after it): it sets
//! `tail.block`, moves `tail.index` past the virtual position with a
//! `fetch_add` (keeping a concurrent close's mark bit) and links `next`.
//! Then it writes the value and stores `WRITTEN`.
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
use hoare_sync::Mutex;

use crate::primitives::{
    Arc, AtomicBool, AtomicPtr, AtomicU8, AtomicUsize, Instant, Ordering, UnsafeCell,
};
use crate::signal::Signal;
use crate::waitlist::WaitList;

/// Index steps per block: `BLOCK_CAP` slots plus the virtual position.
/// Smaller under loom (one chunk) and Miri (two chunks), so that models and
/// tests of a few dozen operations cross block boundaries and recycle
/// blocks; the protocol does not depend on the size (a `LAP` that is not a
/// power of two only makes `% LAP` a division).
#[cfg(not(any(loom, miri)))]
const LAP: usize = 64;
#[cfg(loom)]
const LAP: usize = 8;
#[cfg(all(miri, not(loom)))]
const LAP: usize = 15;
/// Slots per block.
const BLOCK_CAP: usize = LAP - 1;
/// Slots per chunk (see [`Chunk`]).
const CHUNK: usize = 7;
/// Chunks per block.
const CHUNKS: usize = BLOCK_CAP / CHUNK;
const _: () = assert!(BLOCK_CAP % CHUNK == 0, "a block is whole chunks");
/// Indices count in steps of `1 << SHIFT`; the bits below are flags.
const SHIFT: usize = 1;
/// In `tail`: the channel is closed.
const MARK_BIT: usize = 1;

/// A slot's state byte: no value yet.
const EMPTY: u8 = 0;
/// The sender has written the value (stored by the sender, Release).
const WRITTEN: u8 = 1;
/// The receiver has taken the value out (stored by the receiver, Release).
const READ: u8 = 2;

/// `CHUNK` slots: their state bytes, then their values. Keeping a slot's
/// state in its own byte next to a few neighbours' (rather than a flag
/// word beside each value, which alignment pads to a whole word) makes a
/// `u64` slot 9 bytes instead of 16, and a chunk of seven of them one
/// 64-byte cache line's worth, so that a state byte and its value are
/// usually fetched together.
struct Chunk<T> {
    states: [AtomicU8; CHUNK],
    msgs: [UnsafeCell<MaybeUninit<T>>; CHUNK],
}

/// One slot of a block: its state byte and its value cell.
struct Slot<'a, T> {
    state: &'a AtomicU8,
    msg: &'a UnsafeCell<MaybeUninit<T>>,
}

impl<T> Slot<'_, T> {
    /// Waits until the sender that reserved this slot has written it
    /// (inline: the usual case, already written, is one load).
    #[inline]
    fn wait_write(&self) {
        // Acquire: as in `wait_write_slow`.
        if self.state.load(Ordering::Acquire) != WRITTEN {
            self.wait_write_slow();
        }
    }

    /// [`Slot::wait_write`] while the sender is between its reservation
    /// and its `WRITTEN` store.
    #[cold]
    fn wait_write_slow(&self) {
        let mut backoff = Backoff::new();
        // Acquire: pairs with the sender's Release store of `WRITTEN`, so
        // the value is visible.
        while self.state.load(Ordering::Acquire) != WRITTEN {
            backoff.snooze();
        }
    }

    /// The sender's last access to the block: publishes the value.
    #[inline]
    fn mark_written(&self) {
        // Release: publishes the value to the receiver's Acquire load in
        // `wait_write`.
        self.state.store(WRITTEN, Ordering::Release);
    }

    /// The receiver's last access to the slot.
    #[inline]
    fn mark_read(&self) {
        // Release: our read of the value is done before the block is freed
        // or reused (pairs with the Acquire loads of `all_read`); it comes
        // after our Acquire load of `WRITTEN`, so the sender's write is
        // ordered before the free as well.
        self.state.store(READ, Ordering::Release);
    }
}

struct Block<T> {
    next: AtomicPtr<Block<T>>,
    chunks: [Chunk<T>; CHUNKS],
}

impl<T> Block<T> {
    fn new() -> Box<Block<T>> {
        Box::new(Block {
            next: AtomicPtr::new(ptr::null_mut()),
            chunks: core::array::from_fn(|_| Chunk {
                states: core::array::from_fn(|_| AtomicU8::new(EMPTY)),
                msgs: core::array::from_fn(|_| UnsafeCell::new(MaybeUninit::uninit())),
            }),
        })
    }

    /// Slot `offset` (below `BLOCK_CAP`).
    #[inline]
    fn slot(&self, offset: usize) -> Slot<'_, T> {
        let chunk = &self.chunks[offset / CHUNK];
        Slot {
            state: &chunk.states[offset % CHUNK],
            msg: &chunk.msgs[offset % CHUNK],
        }
    }

    /// Slot `offset`, without the bounds check.
    ///
    /// # Safety
    /// `offset < BLOCK_CAP`.
    #[inline]
    unsafe fn slot_unchecked(&self, offset: usize) -> Slot<'_, T> {
        // SAFETY: the caller's promise: `offset / CHUNK < CHUNKS`, and
        // `offset % CHUNK < CHUNK` always.
        unsafe {
            let chunk = self.chunks.get_unchecked(offset / CHUNK);
            Slot {
                state: chunk.states.get_unchecked(offset % CHUNK),
                msg: chunk.msgs.get_unchecked(offset % CHUNK),
            }
        }
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

    /// Whether every slot has been read, so that nobody touches the block
    /// any more (module docs).
    fn all_read(&self) -> bool {
        // Acquire: pairs with each receiver's Release store of `READ`, so
        // its read of the slot happens before we free or reuse the block.
        self.chunks
            .iter()
            .all(|c| c.states.iter().all(|s| s.load(Ordering::Acquire) == READ))
    }

    /// Makes a fully read block like a new one, for reuse.
    fn reset(&self) {
        // Relaxed (all): nobody else holds the block; `recycle`'s Release
        // CAS publishes the reset.
        self.next.store(ptr::null_mut(), Ordering::Relaxed);
        for c in &self.chunks {
            for s in &c.states {
                s.store(EMPTY, Ordering::Relaxed);
            }
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
    /// A free block for the next link (null if none); see the module docs.
    spare: AtomicPtr<Block<T>>,
    /// Retired blocks with a read still in progress (module docs).
    garbage: Mutex<Vec<*mut Block<T>>>,
    /// Whether `garbage` may be non-empty: a hint that spares closers the
    /// lock (written under it).
    has_garbage: AtomicBool,
}

// SAFETY: values move between threads through the slots (so `T: Send`);
// each slot is written by one sender and read by one receiver, ordered by
// its state byte, as the module docs establish; `garbage`
// holds raw block pointers only under its lock.
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
            spare: AtomicPtr::new(ptr::null_mut()),
            garbage: Mutex::new(Vec::new()),
            has_garbage: AtomicBool::new(false),
        }
    }

    /// A block to link in: the spare if there is one, else a new one.
    fn new_block(&self) -> Box<Block<T>> {
        // Acquire: pairs with the Release CAS in `recycle`, so the reset
        // is visible.
        let spare = self.spare.swap(ptr::null_mut(), Ordering::Acquire);
        if spare.is_null() {
            Block::new()
        } else {
            // SAFETY: `recycle` stored a block from `Box::into_raw` that
            // nobody touches any more; the swap made it ours alone.
            unsafe { Box::from_raw(spare) }
        }
    }

    /// Keeps a free block as the spare, or frees it if there is one.
    ///
    /// # Safety
    /// Every slot of `block` has been read and the caller is the only one
    /// to hold it (module docs).
    unsafe fn recycle(&self, block: *mut Block<T>) {
        // SAFETY: the caller's duty: the block is alive and ours.
        unsafe { (*block).reset() };
        // Release: publishes the reset to the sender that takes the spare.
        if self
            .spare
            .compare_exchange(ptr::null_mut(), block, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            // SAFETY: as above; it came from `Box::into_raw`.
            drop(unsafe { Box::from_raw(block) });
        }
    }

    /// Retires the block whose last slot the caller (the closer) has just
    /// read, and sweeps earlier retired blocks that have become free.
    ///
    /// # Safety
    /// The caller reserved and has read `block`'s last slot, and `head`
    /// has moved past the block.
    #[cold]
    unsafe fn retire(&self, block: *mut Block<T>) {
        // SAFETY: only the closer retires, so the block is alive: nobody
        // frees it but us.
        let busy = !unsafe { (*block).all_read() };
        if !busy {
            // SAFETY: every slot read; the closer alone holds it.
            unsafe { self.recycle(block) };
        }
        // A closer whose own block is busy sweeps too (it takes the lock
        // anyway): if only closers with a free block swept, a run of
        // closers that each found a reader still busy would pile up
        // blocks in `garbage` long after those readers finished, and
        // `garbage` would not stay within the bound of the module docs.
        // Relaxed: a hint; a stale `false` leaves the sweep to the next
        // closer or to `Drop`.
        if busy || self.has_garbage.load(Ordering::Relaxed) {
            let free: Vec<*mut Block<T>> = {
                let mut g = self.garbage.lock();
                // SAFETY: blocks in `garbage` stay alive until swept.
                let (free, mut keep): (Vec<_>, Vec<_>) =
                    g.drain(..).partition(|b| unsafe { (**b).all_read() });
                if busy {
                    keep.push(block);
                }
                *g = keep;
                // Relaxed: a hint, written under the lock.
                self.has_garbage.store(!g.is_empty(), Ordering::Relaxed);
                free
            };
            for b in free {
                // SAFETY: fully read, and taken out of `garbage` under its
                // lock, so only we hold it.
                unsafe { self.recycle(b) };
            }
        }
    }

    /// One attempt at the common case of a send: a slot inside the current
    /// block that no other sender takes first. Anything else (the first
    /// block, a block's last slot, closed, a lost race) gives the value
    /// back for the full loop of [`List::try_send`]. Kept small so that it
    /// inlines into the caller.
    #[inline]
    pub(crate) fn send_fast(&self, msg: T) -> Result<(), T> {
        // Acquire (both): as in `try_send`.
        let tail = self.tail.index.load(Ordering::Acquire);
        let block = self.tail.block.load(Ordering::Acquire);
        let offset = (tail >> SHIFT) % LAP;
        if tail & MARK_BIT != 0
            || offset + 1 >= BLOCK_CAP
            || block.is_null()
            // SeqCst: as in `try_send`.
            || self
                .tail
                .index
                .compare_exchange(tail, tail + (1 << SHIFT), Ordering::SeqCst, Ordering::Relaxed)
                .is_err()
        {
            return Err(msg);
        }
        // SAFETY: as in `try_send`: the CAS reserved slot `offset` of
        // `block`, which is not the block's last slot, so there is no
        // block to link.
        unsafe {
            let slot = (*block).slot_unchecked(offset);
            (*slot.msg.get()).write(msg);
            slot.mark_written();
        }
        self.receivers.notify_one();
        Ok(())
    }

    #[inline]
    pub(crate) fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        self.send_fast(msg).or_else(|msg| self.try_send_slow(msg))
    }

    #[inline(never)]
    fn try_send_slow(&self, msg: T) -> Result<(), TrySendError<T>> {
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
                next_block = Some(self.new_block());
            }
            if block.is_null() {
                // The very first send installs the first block.
                let new = Box::into_raw(self.new_block());
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
                        let slot = (*block).slot(offset);
                        (*slot.msg.get()).write(msg);
                        // Our last access to the block.
                        slot.mark_written();
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

    /// One attempt at the common case of a receive: a slot inside the
    /// current block, below the last `tail` seen, that no other receiver
    /// takes first; `None` sends the caller to the full loop.
    #[inline]
    pub(crate) fn recv_fast(&self) -> Option<T> {
        // Acquire (both): as in `try_recv`.
        let head = self.head.index.load(Ordering::Acquire);
        let block = self.head.block.load(Ordering::Acquire);
        let offset = (head >> SHIFT) % LAP;
        if offset + 1 >= BLOCK_CAP
            || block.is_null()
            // Relaxed: a hint, as in `try_recv`.
            || head >> SHIFT >= self.tail_seen.load(Ordering::Relaxed) >> SHIFT
            // SeqCst: as in `try_recv`.
            || self
                .head
                .index
                .compare_exchange(head, head + (1 << SHIFT), Ordering::SeqCst, Ordering::Relaxed)
                .is_err()
        {
            return None;
        }
        // SAFETY: as in `try_recv`: we reserved slot `offset` of `block`,
        // which is not its last, so `head` stays in this block.
        unsafe {
            let slot = (*block).slot_unchecked(offset);
            slot.wait_write();
            let msg = (*slot.msg.get()).assume_init_read();
            // Our last access to the block.
            slot.mark_read();
            Some(msg)
        }
    }

    #[inline]
    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        match self.recv_fast() {
            Some(msg) => Ok(msg),
            None => self.try_recv_slow(),
        }
    }

    #[inline(never)]
    fn try_recv_slow(&self) -> Result<T, TryRecvError> {
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
                    // The block stays alive until our `READ` store (and,
                    // if we are its closer, until we retire it), and the
                    // sender's value is published by `WRITTEN`, which
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
                        let slot = (*block).slot(offset);
                        slot.wait_write();
                        let msg = (*slot.msg.get()).assume_init_read();
                        // The last access to the block, unless we are its
                        // closer.
                        slot.mark_read();
                        if offset + 1 == BLOCK_CAP {
                            self.retire(block);
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

    #[inline]
    pub(crate) fn recv(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        match self.recv_fast() {
            Some(msg) => Ok(msg),
            None => self.recv_slow(deadline),
        }
    }

    #[inline(never)]
    fn recv_slow(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
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

    /// [`List::register_recv`] unless [`List::is_recv_ready`], asked under
    /// the same lock (`WaitList::register_unless`): `true` means ready,
    /// and nothing registered.
    pub(crate) fn register_recv_ready(&self, signal: &Arc<Signal>, case: usize) -> bool {
        self.receivers
            .register_unless(signal, case, core::ptr::null_mut(), || self.is_recv_ready())
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
                    (*(*block).slot(offset).msg.get()).assume_init_drop();
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
        // Relaxed: `&mut self`, nothing to order with.
        let spare = self.spare.load(Ordering::Relaxed);
        let garbage = core::mem::take(&mut *self.garbage.lock());
        for b in garbage
            .into_iter()
            .chain((!spare.is_null()).then_some(spare))
        {
            // SAFETY: retired blocks (fully read, since every receiver has
            // finished) and the spare are owned by the channel alone and
            // linked nowhere; each came from `Box::into_raw`.
            drop(unsafe { Box::from_raw(b) });
        }
    }
}
