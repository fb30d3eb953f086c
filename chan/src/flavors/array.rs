//! The buffered flavor: a bounded ring of stamped slots (`bounded(n)`, n > 0).
//!
//! # Structure
//!
//! `buffer` has `cap` slots. `head` (next position to receive from) and
//! `tail` (next position to send to) are *positions*: `lap * one_lap +
//! index`, where `index < cap` picks the slot and the lap counts trips
//! around the ring. `one_lap` is a power of two above `cap`, and the bit
//! just below it in `tail` (`mark_bit`) marks the channel closed.
//!
//! Each slot has a `stamp`, a position that says what the slot is waiting
//! for:
//!
//! | stamp          | the slot                                               |
//! |----------------|--------------------------------------------------------|
//! | `p`            | is free for the sender that reserves position `p`      |
//! | `p + 1`        | holds the value sent at position `p`, for its receiver |
//! | `p + one_lap`  | was read at `p`, free for the sender one lap later     |
//!
//! # Protocol
//!
//! A sender reads `tail = p` and the slot's stamp. If the stamp is `p`, it
//! reserves the position by a CAS of `tail` to the next position, writes the
//! value and publishes it by storing stamp `p + 1` (Release). A receiver
//! does the mirror image on `head`: stamp `p + 1` means a value is there;
//! it CASes `head` forward, reads the value, and frees the slot for the next
//! lap with stamp `p + one_lap` (Release). Each slot therefore alternates
//! strictly between one writer and one reader, and the stamps' Release /
//! Acquire pairs carry the value from one to the other. A stamp one lap
//! behind means the buffer is full (for a sender) or empty (for a
//! receiver), confirmed against the other index after a SeqCst fence.
//!
//! Between a successful CAS and the stamp store a position is *reserved*:
//! the counterpart sees an index that moved but a slot not yet ready and
//! backs off. Nothing can fail in that window (a write or read of the slot
//! cannot panic), so every reservation is completed.
//!
//! Closing sets `mark_bit` in `tail` (one `fetch_or`), after which no
//! sender can reserve; receivers drain up to `tail` and then see `Closed`.
//!
//! Waiting: `senders` and `receivers` are waiter lists (`waitlist.rs`).
//! The index CASes are SeqCst, which is what the lists' no-lost-wake-up
//! argument needs.
//!
//! # Values given back
//!
//! A send that finds a receiver waiting on an empty buffer hands it the
//! value directly (`give`, as Go's `chansend` does): a blocked thread, or
//! a pending `recv_async` future. A future can be dropped after that and
//! before it is polled again; it then gives the value back (`give_back`),
//! into `returned`, a small locked queue that every receive looks at
//! first (`has_returned`, a flag beside `head`, saves it the lock while
//! the queue is empty, which is nearly always). The value was sent before
//! anything now in the ring (the ring was empty when it was handed over),
//! so a receiver that retries after dropping its future gets the values in
//! the order they were sent. `give` declines while `returned` holds a
//! value, so a sender never overtakes it. While a value waits there the
//! channel holds one value more than its capacity.

use core::mem::MaybeUninit;

use std::collections::VecDeque;

use hoare_sync::Mutex;

use super::zero::Packet;
use super::{Backoff, try_with_backoff};
use crate::err::{RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError};
use crate::primitives::{Arc, AtomicBool, AtomicUsize, Instant, Ordering, UnsafeCell, fence};
use crate::signal::{ABORTED, Signal};
use crate::waitlist::WaitList;

struct Slot<T> {
    stamp: AtomicUsize,
    msg: UnsafeCell<MaybeUninit<T>>,
}

/// A bounded ring channel.
///
/// Layout (`repr(C)`, in this order): the read-only fields every fast path
/// reads (`buffer`, `cap`, `one_lap`, `mark_bit`); then the receivers' side,
/// `head` with the senders' waiter list, which a receive reads right after
/// moving `head` (to wake a blocked sender); then the senders' side, `tail`
/// with the receivers' waiter list, which a send reads right after moving
/// `tail`. [`Gap`]s of 128 bytes keep the three groups from sharing a
/// cache line or an adjacent-line prefetch pair, as `CachePadded` would,
/// but without raising the alignment: the channel is then an ordinary heap
/// block (`malloc`, served from the allocator's thread cache), not an
/// aligned one (`memalign`, which is several times slower to allocate and
/// free, and a channel made for one message pays it in full). A waiter list shares its line with
/// the index of the side that wakes it; registering a waiter writes that
/// line, which only happens when the channel is full or empty.
#[repr(C)]
pub(crate) struct Array<T> {
    buffer: Box<[Slot<T>]>,
    cap: usize,
    one_lap: usize,
    mark_bit: usize,
    _gap0: Gap,
    head: AtomicUsize,
    /// `returned` may hold a value (module docs); written under its lock,
    /// read by every receive first.
    has_returned: AtomicBool,
    _gap1: Gap,
    tail: AtomicUsize,
    _gap2: Gap,
    senders: WaitList,
    _gap3: Gap,
    receivers: WaitList,
    /// Values given back by dropped receive futures, oldest first.
    returned: Mutex<VecDeque<T>>,
    _gap4: Gap,
}

/// Padding between two groups of fields: the last byte before it and the
/// first byte after it are more than 128 bytes apart, so they never share a
/// cache line (64 bytes) or a 128-byte pair of lines that the adjacent-line
/// prefetcher fetches together.
struct Gap {
    _pad: [u8; 128],
}

impl Gap {
    const fn new() -> Gap {
        Gap { _pad: [0; 128] }
    }
}

// SAFETY: values move between threads through the slots (so `T: Send`);
// each slot is accessed by one thread at a time, as the stamp protocol in
// the module docs establishes.
unsafe impl<T: Send> Send for Array<T> {}
// SAFETY: as for `Send`: shared access is what the protocol is for.
unsafe impl<T: Send> Sync for Array<T> {}

impl<T> Array<T> {
    pub(crate) fn with_capacity(cap: usize) -> Self {
        assert!(cap > 0, "an array channel needs a capacity above zero");
        let mark_bit = (cap + 1).next_power_of_two();
        let one_lap = mark_bit
            .checked_mul(2)
            .expect("channel capacity is too large");
        let buffer = (0..cap)
            .map(|i| Slot {
                stamp: AtomicUsize::new(i),
                msg: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        Array {
            buffer,
            cap,
            one_lap,
            mark_bit,
            _gap0: Gap::new(),
            head: AtomicUsize::new(0),
            has_returned: AtomicBool::new(false),
            _gap1: Gap::new(),
            tail: AtomicUsize::new(0),
            _gap2: Gap::new(),
            senders: WaitList::new(),
            _gap3: Gap::new(),
            receivers: WaitList::new(),
            returned: Mutex::new(VecDeque::new()),
            _gap4: Gap::new(),
        }
    }

    /// The position after `pos`.
    #[inline]
    fn next(&self, pos: usize) -> usize {
        let index = pos & (self.mark_bit - 1);
        if index + 1 < self.cap {
            pos + 1
        } else {
            (pos & !(self.one_lap - 1)).wrapping_add(self.one_lap)
        }
    }

    /// One attempt at the common case of a send: the slot at `tail` is
    /// free and no other sender takes the position first. Anything else
    /// (full, closed, a lost race, a receiver mid-read) gives the value
    /// back for the full loop of [`Array::try_send`]. Kept small so that it
    /// inlines into the caller.
    #[inline]
    fn send_fast(&self, msg: T) -> Result<(), T> {
        // Relaxed: the slot's Acquire stamp load below is what orders us.
        let tail = self.tail.load(Ordering::Relaxed);
        let slot = &self.buffer[tail & (self.mark_bit - 1)];
        // Acquire: as in `try_send`. A stamp never carries the mark bit, so
        // equality also says the channel is open.
        if slot.stamp.load(Ordering::Acquire) != tail
            // SeqCst: as in `try_send`.
            || self
                .tail
                .compare_exchange(tail, self.next(tail), Ordering::SeqCst, Ordering::Relaxed)
                .is_err()
        {
            return Err(msg);
        }
        // SAFETY: as in `try_send`: the CAS reserved the free slot.
        unsafe { (*slot.msg.get()).write(msg) };
        // Release: as in `try_send`.
        slot.stamp.store(tail + 1, Ordering::Release);
        self.receivers.notify_one();
        Ok(())
    }

    /// One attempt at the common case of a receive (the mirror image of
    /// [`Array::send_fast`]); `None` sends the caller to the full loop.
    #[inline]
    pub(crate) fn recv_fast(&self) -> Option<T> {
        // A value given back comes first (module docs). Relaxed: the flag
        // only steers us to the locked queue, whose lock orders the value;
        // the thread that gave a value back reads its own store.
        if self.has_returned.load(Ordering::Relaxed) {
            return None;
        }
        // Relaxed: the slot's Acquire stamp load below is what orders us.
        let head = self.head.load(Ordering::Relaxed);
        let slot = &self.buffer[head & (self.mark_bit - 1)];
        // Acquire: as in `try_recv`.
        if slot.stamp.load(Ordering::Acquire) != head + 1
            // SeqCst: as in `try_recv`.
            || self
                .head
                .compare_exchange(head, self.next(head), Ordering::SeqCst, Ordering::Relaxed)
                .is_err()
        {
            return None;
        }
        // SAFETY: as in `try_recv`: the CAS reserved a written slot.
        let msg = unsafe { (*slot.msg.get()).assume_init_read() };
        // Release: as in `try_recv`.
        slot.stamp
            .store(head.wrapping_add(self.one_lap), Ordering::Release);
        self.notify_senders();
        Some(msg)
    }

    /// The first steps of [`Array::send`] and [`Array::try_send`] when no
    /// receiver thread waits for a hand-over (`give` would decline): one
    /// attempt at [`Array::send_fast`]. `Err` gives the value back for the
    /// full path, which starts again with `give`. For `Sender::send` to
    /// inline.
    #[inline]
    pub(crate) fn send_inline(&self, msg: T) -> Result<(), T> {
        if self.receivers.may_give() {
            return Err(msg);
        }
        self.send_fast(msg)
    }

    #[inline]
    pub(crate) fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        self.give(msg)
            .or_else(|msg| self.send_fast(msg))
            .or_else(|msg| self.try_send_slow(msg))
    }

    /// When a receiver thread is waiting on an empty buffer, hands `msg`
    /// straight to it (as Go's `chansend` does) instead of going through
    /// the ring and waking it to retry: it wakes with the value. The buffer
    /// must be empty (checked under the receivers' lock, with the
    /// receiver's claim begun), so that nothing sent before `msg` is
    /// overtaken; `tail` and `head` equal also says the channel is open.
    ///
    /// A send that succeeds this way leaves the ring as it was, with room
    /// in it. A blocked sender may be waiting for exactly that room: the
    /// receive that made it woke one waiting sender (one freed slot, one
    /// wake-up), and if the woken one was us (a `select!` send case,
    /// retrying), the slot is still free while the next waiting sender
    /// sleeps. So the wake-up is passed on (`notify_senders`: one load when
    /// no sender waits). Found by the fuzz target `chan_threads`: two
    /// `select!` senders and two receiver threads on `bounded(1)`, one
    /// sender asleep next to an empty ring.
    #[inline]
    fn give(&self, msg: T) -> Result<(), T> {
        self.give_directly(msg)?;
        self.notify_senders();
        Ok(())
    }

    /// [`Array::give`] without passing on the room it leaves.
    #[inline]
    fn give_directly(&self, msg: T) -> Result<(), T> {
        if !self.receivers.may_give() {
            return Err(msg);
        }
        self.receivers.give(msg, || {
            // SeqCst: as `is_recv_ready`. A value given back must not be
            // overtaken either (module docs).
            let tail = self.tail.load(Ordering::SeqCst);
            let head = self.head.load(Ordering::SeqCst);
            tail == head && !self.has_returned.load(Ordering::SeqCst)
        })
    }

    /// Takes the oldest value given back, if any (module docs).
    #[cold]
    fn take_returned(&self) -> Option<T> {
        let mut r = self.returned.lock();
        let v = r.pop_front();
        // Relaxed: written under the lock; see `give_back`.
        self.has_returned.store(!r.is_empty(), Ordering::Relaxed);
        v
    }

    /// Gives back a value that a dropped receive future was handed but
    /// never returned (module docs): it is the next value received, and a
    /// waiting receiver is woken for it.
    #[cold]
    pub(crate) fn give_back(&self, v: T) {
        {
            let mut r = self.returned.lock();
            r.push_back(v);
            // SeqCst: the change a waiting receiver's re-check
            // (`is_recv_ready`) must see, ordered before `notify_one`'s
            // SeqCst load of the waiter list's flag (the Dekker pair of
            // `waitlist.rs`, with the flag in place of an index update).
            self.has_returned.store(true, Ordering::SeqCst);
        }
        self.receivers.notify_one();
    }

    #[inline(never)]
    fn try_send_slow(&self, msg: T) -> Result<(), TrySendError<T>> {
        self.try_put(msg)?;
        self.receivers.notify_one();
        Ok(())
    }

    /// The full loop of a non-blocking send into the ring, without the
    /// wake-up of a waiting receiver that must follow a success:
    /// [`Array::try_send_slow`] sends it at once, a hand-off
    /// ([`Array::notify_senders`]) only after it has released the senders'
    /// lock.
    #[inline]
    fn try_put(&self, msg: T) -> Result<(), TrySendError<T>> {
        let mut backoff = Backoff::new();
        // Relaxed: the slot's Acquire stamp load below is what orders us.
        let mut tail = self.tail.load(Ordering::Relaxed);
        loop {
            if tail & self.mark_bit != 0 {
                return Err(TrySendError::Closed(msg));
            }
            let slot = &self.buffer[tail & (self.mark_bit - 1)];
            // Acquire: pairs with the receiver's Release stamp store, so its
            // read of the slot is finished before we overwrite it.
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == tail {
                // SeqCst: the index update the waiter lists' Dekker argument
                // relies on (see `waitlist.rs`).
                match self.tail.compare_exchange_weak(
                    tail,
                    self.next(tail),
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: the CAS reserved position `tail`; the stamp
                        // says the slot is free for it, and no other thread
                        // touches the slot until the stamp store below.
                        unsafe { (*slot.msg.get()).write(msg) };
                        // Release: publishes the value to the receiver's
                        // Acquire stamp load.
                        slot.stamp.store(tail + 1, Ordering::Release);
                        return Ok(());
                    }
                    Err(t) => {
                        tail = t;
                        backoff.spin();
                    }
                }
            } else if stamp.wrapping_add(self.one_lap) == tail + 1 {
                // The slot holds last lap's value: full, unless a receiver
                // has already moved `head` on. SeqCst fence: orders our stamp
                // load before the head load against the receivers' SeqCst
                // CAS, so a full verdict is never stale.
                fence(Ordering::SeqCst);
                let head = self.head.load(Ordering::Relaxed);
                if head.wrapping_add(self.one_lap) == tail {
                    return Err(TrySendError::Full(msg));
                }
                backoff.spin();
                tail = self.tail.load(Ordering::Relaxed);
            } else {
                // Another sender moved on, or a receiver is mid-read.
                backoff.snooze();
                tail = self.tail.load(Ordering::Relaxed);
            }
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
        // Relaxed: as in `recv_fast`.
        if self.has_returned.load(Ordering::Relaxed) {
            if let Some(v) = self.take_returned() {
                return Ok(v);
            }
        }
        let mut backoff = Backoff::new();
        // Relaxed: the slot's Acquire stamp load below is what orders us.
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            let slot = &self.buffer[head & (self.mark_bit - 1)];
            // Acquire: pairs with the sender's Release stamp store, so the
            // value is visible.
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == head + 1 {
                // SeqCst: as in `try_send`.
                match self.head.compare_exchange_weak(
                    head,
                    self.next(head),
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: the CAS reserved position `head`, whose
                        // slot holds an initialized value (stamp `head + 1`);
                        // we move it out exactly once, and the stamp store
                        // below hands the now-empty slot to the next lap.
                        let msg = unsafe { (*slot.msg.get()).assume_init_read() };
                        // Release: our read is done before a sender reuses
                        // the slot (pairs with its Acquire stamp load).
                        slot.stamp
                            .store(head.wrapping_add(self.one_lap), Ordering::Release);
                        self.notify_senders();
                        return Ok(msg);
                    }
                    Err(h) => {
                        head = h;
                        backoff.spin();
                    }
                }
            } else if stamp == head {
                // Nothing written here yet: empty, unless a sender has
                // reserved the position and is writing. SeqCst fence: as in
                // `try_send`'s full check.
                fence(Ordering::SeqCst);
                let tail = self.tail.load(Ordering::Relaxed);
                if tail & !self.mark_bit == head {
                    return Err(if tail & self.mark_bit != 0 {
                        TryRecvError::Closed
                    } else {
                        TryRecvError::Empty
                    });
                }
                backoff.snooze();
                head = self.head.load(Ordering::Relaxed);
            } else {
                backoff.snooze();
                head = self.head.load(Ordering::Relaxed);
            }
        }
    }

    #[inline]
    pub(crate) fn send(
        &self,
        msg: T,
        deadline: Option<Instant>,
    ) -> Result<(), SendTimeoutError<T>> {
        self.give(msg)
            .or_else(|msg| self.send_fast(msg))
            .or_else(|msg| self.send_slow(msg, deadline))
    }

    /// The blocking send once the fast path failed: try with backoff,
    /// then register with the value in a packet and wait. A receiver that
    /// frees a slot moves the value into the ring for us (see
    /// `notify_senders`); otherwise we are woken (or abort on the
    /// re-check or the deadline) with the value still in the packet, and go
    /// round again.
    #[inline(never)]
    fn send_slow(&self, msg: T, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        let mut packet = Some(msg);
        loop {
            let done =
                try_with_backoff(
                    || match self.try_send(packet.take().expect("value present")) {
                        Ok(()) => Some(Ok(())),
                        Err(TrySendError::Closed(v)) => Some(Err(SendTimeoutError::Closed(v))),
                        Err(TrySendError::Full(v)) => {
                            packet = Some(v);
                            None
                        }
                    },
                );
            if let Some(r) = done {
                return r;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(SendTimeoutError::Timeout(
                    packet.take().expect("value present"),
                ));
            }
            wait_with_packet(&self.senders, &mut packet, deadline, || {
                self.is_send_ready()
            });
            // Empty: a receiver moved the value into the ring.
            if packet.is_none() {
                return Ok(());
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

    /// The blocking receive once the fast path failed: try with backoff,
    /// then register with an empty packet and wait. A sender that finds us
    /// waiting on an empty buffer puts its value in the packet (`give`);
    /// otherwise we are woken (or abort on the re-check or the deadline)
    /// with the packet still empty, and go round again.
    #[inline(never)]
    fn recv_slow(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        let mut packet: Option<T> = None;
        loop {
            let done = try_with_backoff(|| match self.try_recv() {
                Ok(v) => Some(Ok(v)),
                Err(TryRecvError::Closed) => Some(Err(RecvTimeoutError::Closed)),
                Err(TryRecvError::Empty) => None,
            });
            if let Some(r) = done {
                return r;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(RecvTimeoutError::Timeout);
            }
            wait_with_packet(&self.receivers, &mut packet, deadline, || {
                self.is_recv_ready()
            });
            // Full: a sender handed us its value.
            if let Some(v) = packet.take() {
                return Ok(v);
            }
        }
    }

    /// A send would not find the buffer full (or the channel is closed).
    pub(crate) fn is_send_ready(&self) -> bool {
        // SeqCst: the waiter's re-check in the Dekker pair of `waitlist.rs`.
        let tail = self.tail.load(Ordering::SeqCst);
        let head = self.head.load(Ordering::SeqCst);
        tail & self.mark_bit != 0 || head.wrapping_add(self.one_lap) != tail & !self.mark_bit
    }

    /// A receive would find a value (or the channel is closed).
    pub(crate) fn is_recv_ready(&self) -> bool {
        // SeqCst: as in `is_send_ready`; `has_returned` pairs with its
        // SeqCst store in `give_back`.
        let head = self.head.load(Ordering::SeqCst);
        let tail = self.tail.load(Ordering::SeqCst);
        tail & self.mark_bit != 0
            || tail & !self.mark_bit != head
            || self.has_returned.load(Ordering::SeqCst)
    }

    /// Whether blocked senders seem to be queued (a hint): a free slot
    /// goes to the first of them (`notify_senders`), so a send that spins
    /// for one could only win it by overtaking them.
    pub(crate) fn senders_queued(&self) -> bool {
        self.senders.seems_waited_on()
    }

    /// Whether waiting receivers seem to be queued (a hint), as
    /// [`Array::senders_queued`]: a value sent goes to the first of them.
    pub(crate) fn receivers_queued(&self) -> bool {
        self.receivers.seems_waited_on()
    }

    pub(crate) fn register_send(&self, signal: &Arc<Signal>, case: usize) {
        self.senders.register(signal, case);
    }

    /// Registers a single-case async send whose value waits in `packet`
    /// (an `OwnedPacket`), for the hand-off of `notify_senders`.
    /// Registers a single-case async send whose value waits in `packet`
    /// (an `OwnedPacket`), for the hand-off of `notify_senders`, unless
    /// [`Array::is_send_ready`], asked under the same lock
    /// (`WaitList::register_unless`): `true` means ready, and nothing
    /// registered.
    ///
    /// The list's hand-off writes an `Option<T>` (`register_packet`), so
    /// the `Option<T>` inside the `Packet<T>` is registered, not the cell
    /// (`packet_value`): under loom the cell is a `loom::cell::UnsafeCell`,
    /// which keeps its access-tracking state in front of the value, and the
    /// hand-off's write through the cell's own address corrupted that
    /// state (loom "internal bug" panic, then a segfault, in the model
    /// `withdrawn_sender_passes_the_hand_off_on`); natively the two
    /// addresses agree only because our `UnsafeCell` wrapper happens to be
    /// laid out like its one field.
    pub(crate) fn register_send_packet_ready(
        &self,
        signal: &Arc<Signal>,
        case: usize,
        packet: *mut (),
    ) -> bool {
        self.senders
            .register_unless(signal, case, Self::packet_value(packet), || {
                self.is_send_ready()
            })
    }

    /// A receive case's registration unless [`Array::is_recv_ready`], as
    /// [`Array::register_send_packet_ready`]; with the empty `packet` (an
    /// `OwnedPacket`) of a committed receive future, which a send may hand
    /// its value into (`give`), or none (null).
    pub(crate) fn register_recv_ready(
        &self,
        signal: &Arc<Signal>,
        case: usize,
        packet: *mut (),
    ) -> bool {
        let packet = if packet.is_null() {
            packet
        } else {
            Self::packet_value(packet)
        };
        self.receivers
            .register_unless(signal, case, packet, || self.is_recv_ready())
    }

    /// The address of the `Option<T>` inside the `OwnedPacket<T>` whose
    /// `Packet<T>` is at `packet` (see `register_send_packet_ready`).
    fn packet_value(packet: *mut ()) -> *mut () {
        // SAFETY: `packet` is an `OwnedPacket<T>`'s live `Packet<T>`, not
        // yet registered, so only its owner (our caller) touches it.
        let value: *mut Option<T> = unsafe { (*packet.cast::<Packet<T>>()).get() };
        value.cast()
    }

    pub(crate) fn unregister_send(&self, signal: &Arc<Signal>, case: usize) {
        self.senders.unregister(signal, case);
    }

    pub(crate) fn register_recv(&self, signal: &Arc<Signal>, case: usize) {
        self.receivers.register(signal, case);
    }

    pub(crate) fn unregister_recv(&self, signal: &Arc<Signal>, case: usize) {
        self.receivers.unregister(signal, case);
    }

    /// Passes on a wake-up a cancelled future received but did not use.
    pub(crate) fn forward_send(&self) {
        self.notify_senders();
    }

    /// After a slot was freed: completes the send of the first blocked
    /// sender thread by moving its value into the ring (Go's `chanrecv`
    /// does the same), or wakes the first waiting select or future. The
    /// sender thread then returns at once instead of waking up to retry and
    /// racing other senders for the slot.
    #[inline]
    fn notify_senders(&self) {
        // The common case, no blocked sender: one load, before any of the
        // hand-off's set-up below.
        if self.senders.is_idle() {
            return;
        }
        self.notify_senders_slow();
    }

    #[cold]
    fn notify_senders_slow(&self) {
        // The value goes to a waiting receiver thread (`give`: an unpark)
        // or into the ring with `try_put`, which wakes no receiver: that is
        // done here, once the senders' lock is released, so that no
        // receiver's waker runs under it (`signal.rs`, invariant 3). (The
        // hand-off used `try_send`, which ran a waiting task's
        // `Waker::wake` under the senders' lock; a waker that touches this
        // channel, as one that polls its task inline may, deadlocked on
        // that lock: loom model
        // `hand_off_wakes_a_receiving_task_outside_the_lock`.)
        //
        // A value given straight to a waiting receiver thread leaves the
        // freed slot free, so the next blocked sender gets the same chance
        // (as in `give`); each round completes one sender's send, so the
        // loop ends.
        loop {
            let mut in_ring = false;
            let mut given = false;
            self.senders.notify_one_handing_off(|v: T| {
                let v = match self.give_directly(v) {
                    Ok(()) => {
                        given = true;
                        return Ok(());
                    }
                    Err(v) => v,
                };
                self.try_put(v)
                    .map(|()| in_ring = true)
                    .map_err(TrySendError::into_inner)
            });
            if in_ring {
                self.receivers.notify_one();
            }
            if !given {
                return;
            }
        }
    }

    /// Passes on a wake-up a cancelled future received but did not use.
    pub(crate) fn forward_recv(&self) {
        self.receivers.notify_one();
    }

    /// Closes the channel; `false` if it was closed already.
    pub(crate) fn close(&self) -> bool {
        // SeqCst: an index update like any other, for the waiter lists.
        let tail = self.tail.fetch_or(self.mark_bit, Ordering::SeqCst);
        if tail & self.mark_bit != 0 {
            return false;
        }
        self.senders.notify_all();
        self.receivers.notify_all();
        true
    }

    pub(crate) fn is_closed(&self) -> bool {
        // SeqCst: close is a SeqCst RMW; a plain load would do, SeqCst keeps
        // `is_closed` ordered with the user's other SeqCst reads.
        self.tail.load(Ordering::SeqCst) & self.mark_bit != 0
    }

    /// Values waiting: in the ring, plus any given back (module docs).
    pub(crate) fn len(&self) -> usize {
        // Relaxed: a snapshot, as the ring's count is.
        let returned = if self.has_returned.load(Ordering::Relaxed) {
            self.returned.lock().len()
        } else {
            0
        };
        self.ring_len() + returned
    }

    /// Values in the ring.
    fn ring_len(&self) -> usize {
        loop {
            // SeqCst: a consistent snapshot of both indices: we retry until
            // `tail` did not move while we read `head`.
            let tail = self.tail.load(Ordering::SeqCst);
            let head = self.head.load(Ordering::SeqCst);
            if self.tail.load(Ordering::SeqCst) == tail {
                let hix = head & (self.mark_bit - 1);
                let tix = tail & (self.mark_bit - 1);
                return if hix < tix {
                    tix - hix
                } else if hix > tix {
                    self.cap - hix + tix
                } else if tail & !self.mark_bit == head {
                    0
                } else {
                    self.cap
                };
            }
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }
}

impl<T> Drop for Array<T> {
    fn drop(&mut self) {
        // `&mut self`: every handle is gone, so no slot is reserved.
        let mut head = self.head.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Relaxed) & !self.mark_bit;
        while head != tail {
            let slot = &self.buffer[head & (self.mark_bit - 1)];
            // SAFETY: positions in [head, tail) hold initialized values that
            // nobody received (all reservations completed, see module docs).
            unsafe { (*slot.msg.get()).assume_init_drop() };
            head = self.next(head);
        }
    }
}

/// One blocking wait of a sender or receiver thread with its `packet`
/// registered on `list` (`WaitList::register_unless`): until a counterpart
/// claims it (maybe handing a value over through the packet), `ready` says
/// at the re-check after registering that the channel changed (the entry
/// is then taken back at once, under the lock it was registered with), or
/// `deadline` passes. On return the entry is gone (removed by the claimer,
/// or here), so nobody else touches `packet` any more.
fn wait_with_packet<P>(
    list: &WaitList,
    packet: &mut Option<P>,
    deadline: Option<Instant>,
    ready: impl Fn() -> bool,
) {
    let p: *mut Option<P> = packet;
    Signal::with_thread(|signal| {
        // Ready at the re-check: the entry was taken back under the lock
        // before anybody saw the packet; the caller goes round.
        if list.register_unless(signal, 0, p.cast(), ready) {
            return;
        }
        if signal.wait(deadline) == ABORTED {
            list.unregister(signal, 0);
        }
    });
}
