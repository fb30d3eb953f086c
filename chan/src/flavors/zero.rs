//! The unbuffered flavor (`bounded(0)`): a rendezvous of one sender and
//! one receiver.
//!
//! # Structure
//!
//! No buffer: the value goes straight from a sender to a receiver. One
//! lock guards the list of waiting senders, the list of waiting receivers
//! and the `closed` flag. Every hand-over happens under that lock, so the
//! flavor is a small state machine that can be checked by reading.
//!
//! A waiting **sender** always registers a *packet*, a slot holding its
//! value (`Packet<T>`, on the blocked thread's stack or in the future's
//! heap box). A waiting **receiver** is one of two kinds:
//!
//! - *committed* (a thread blocked in `recv`/`recv_timeout`, a pending
//!   `recv_async` future, a receive case of a `select!`): it registers an
//!   empty packet, and a sender that claims it writes the value into that
//!   packet. The receiver is done the moment it is claimed, and the sender
//!   too: as in Go, where a sender that finds a parked receiver copies the
//!   value to it and goes on, one message costs one wait, not one on each
//!   side. A select's cases share one claim word, and the sender writes
//!   first and claims second (below), so only the case that fires ever
//!   holds a value.
//! - *wake-only* (a `Receiver`'s `Stream`, which rebuilds its receive at
//!   every poll and has nowhere to keep a packet): it registers no packet.
//!   A sender that finds only such receivers registers its own packet and
//!   claims one of them just to wake it; the woken receiver then takes the
//!   value from the sender's packet itself. A woken receiver that goes
//!   away passes the wake-up on.
//!
//! # Values given back
//!
//! A future can be dropped at any time, also after a sender wrote a value
//! into its packet and before it was polled again. The value must not be
//! lost, and the sender has already returned: so the dropped future gives
//! the value back to the channel, which keeps it in `returned` and hands
//! it to the next receiver before anything else (it was sent before any
//! value still waiting in a sender's packet). A value given back goes to
//! a waiting committed receiver at once if there is one, or wakes a
//! wake-only one. `returned` is empty whenever a committed receiver waits
//! (a receiver registers only after finding it empty, under the lock, and
//! a value given back goes to such a receiver first), so a sender never
//! overtakes a value given back. Values still there when the channel is
//! dropped are dropped with it, like a buffered channel's; after `close`,
//! receivers drain them before they see the channel closed.

//! # Hand-over under the lock
//!
//! Whoever completes a rendezvous moves the value between the packet and
//! itself **first** and claims the counterpart's signal **second**; if the
//! claim fails (the counterpart timed out or another case of its select
//! won), it moves the value back. Both steps happen under the lock. So a
//! waiter that sees itself claimed (Acquire) finds the transfer finished,
//! and a waiter that withdrew first and then takes the lock finds its
//! packet as it left it.
//!
//! The one kind of claim that moves no value is `close`: every waiter is
//! claimed, senders find their value still in their packet (returned in the
//! error) and committed receivers find their packet empty (`Closed`).
//!
//! Consequences (documented on `try_send`): a `try_send` succeeds only when
//! a committed receiver is waiting; a `Stream` on the other side is woken
//! instead and the value waits in the sender's packet until it comes.

use std::collections::VecDeque;

use hoare_sync::Mutex;

use crate::err::{RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError};
use crate::primitives::{Arc, Instant, UnsafeCell};
use crate::signal::{ABORTED, Signal, WAITING};
use crate::waitlist::{Entry, Waiters};

/// The slot a waiting sender's value, or a committed receiver's incoming
/// value, sits in.
pub(crate) type Packet<T> = UnsafeCell<Option<T>>;

// A word-sized value's packet fits in a signal's room, natively and under
// loom (whose models thereby exercise the room).
const _: () = assert!(
    size_of::<Packet<usize>>() <= size_of::<[usize; crate::signal::ROOM_WORDS]>()
        && align_of::<Packet<usize>>() <= align_of::<usize>()
);

/// A packet owned by a waiting future or `select!` case, so the case
/// itself may move while its entry points at the packet: on the heap, or,
/// for the one case of a single-case wait whose packet fits, in the wait's
/// signal (`Signal::packet_room`), which saves an allocation per wait.
///
/// Held as a raw pointer, not as a `Box`: moving a `Box` asserts unique
/// access to its contents, which would invalidate the pointer a registered
/// entry holds (Miri's Stacked Borrows reports it).
pub(crate) struct OwnedPacket<T> {
    ptr: core::ptr::NonNull<Packet<T>>,
    /// From `Box::leak` (freed by `drop`); otherwise in a signal's room.
    on_heap: bool,
}

// SAFETY: the packet's value is only touched under the channel lock while
// registered, and by the owner (through `&mut`/by value) otherwise, so the
// handle may move to and be shared with other threads when `T: Send`;
// `&OwnedPacket` gives no access to the value.
unsafe impl<T: Send> Send for OwnedPacket<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for OwnedPacket<T> {}

impl<T> OwnedPacket<T> {
    pub(crate) fn new(v: T) -> Self {
        Self::holding(Some(v))
    }

    /// An empty packet, for a committed receiver.
    pub(crate) fn empty() -> Self {
        Self::holding(None)
    }

    fn holding(v: Option<T>) -> Self {
        let b = Box::new(UnsafeCell::new(v));
        OwnedPacket {
            ptr: core::ptr::NonNull::from(Box::leak(b)),
            on_heap: true,
        }
    }

    /// A packet holding `v` in `signal`'s packet room, or on the heap if a
    /// packet does not fit there.
    ///
    /// # Safety
    /// `signal` is the signal of a single-case wait and this packet is its
    /// case's only one (nothing else uses the room meanwhile), and the
    /// signal outlives the packet (the case's registration holds it until
    /// the packet is gone: `RecvCase::unregister`, `SendCase::unregister`).
    pub(crate) unsafe fn in_room(signal: &Signal, v: Option<T>) -> Self {
        match signal.packet_room::<Packet<T>>() {
            Some(ptr) => {
                // SAFETY: the room fits a `Packet<T>` (`packet_room`) and is
                // ours alone (the caller's duty); it holds no packet now
                // (the last one was dropped in place when its wait ended),
                // so nothing is overwritten.
                unsafe { ptr.as_ptr().write(UnsafeCell::new(v)) };
                OwnedPacket {
                    ptr,
                    on_heap: false,
                }
            }
            None => Self::holding(v),
        }
    }

    /// The address to register.
    pub(crate) fn as_ptr(&self) -> *mut () {
        self.ptr.as_ptr().cast()
    }

    /// The value, if no receiver took it.
    ///
    /// # Safety
    /// The packet's entry is no longer registered in any channel.
    pub(crate) unsafe fn into_value(self) -> Option<T> {
        // SAFETY: unregistered, so this is the only access (caller's duty);
        // `drop` then frees the allocation or empties the room.
        unsafe { take(self.as_ptr()) }
    }
}

impl<T> Drop for OwnedPacket<T> {
    fn drop(&mut self) {
        // Every path that drops an `OwnedPacket` has removed its entry
        // first (`SendCase::unregister`, reached from `Drop` through
        // `withdraw`), so no channel can reach it any more.
        if self.on_heap {
            // SAFETY: the pointer came from `Box::leak` in `holding` and is
            // freed only here.
            drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
        } else {
            // SAFETY: `in_room` wrote a `Packet<T>` there, which is dropped
            // only here (the room is raw memory, dropped by nobody else),
            // and the signal is still alive (`in_room`'s contract).
            unsafe { core::ptr::drop_in_place(self.ptr.as_ptr()) };
        }
    }
}

struct Inner<T> {
    senders: Waiters,
    receivers: Waiters,
    closed: bool,
    /// Values given back by dropped receive futures (module docs), oldest
    /// first.
    returned: VecDeque<T>,
}

/// An unbuffered channel.
pub(crate) struct Zero<T> {
    inner: Mutex<Inner<T>>,
}

// SAFETY: values of type `T` move between threads through the packets and
// `returned`, so `T: Send` is required and sufficient; everything else is
// under the lock.
unsafe impl<T: Send> Send for Zero<T> {}
// SAFETY: as for `Send`.
unsafe impl<T: Send> Sync for Zero<T> {}

/// Takes the value out of a packet.
///
/// # Safety
/// `p` points to a live `Packet<T>` and the caller holds the right to
/// touch it: it is the packet's owner after its wait ended, or it holds the
/// channel lock while the packet's entry is registered.
unsafe fn take<T>(p: *mut ()) -> Option<T> {
    // SAFETY: the caller's duty.
    unsafe { (*(*(p as *const Packet<T>)).get()).take() }
}

/// Puts a value into a packet.
///
/// # Safety
/// As for [`take`].
unsafe fn put<T>(p: *mut (), v: T) {
    // SAFETY: the caller's duty.
    unsafe { *(*(p as *const Packet<T>)).get() = Some(v) };
}

impl<T> Zero<T> {
    pub(crate) fn new() -> Self {
        Zero {
            inner: Mutex::new(Inner {
                senders: Waiters::new(),
                receivers: Waiters::new(),
                closed: false,
                returned: VecDeque::new(),
            }),
        }
    }

    /// Hands `msg` to a committed receiver, under the lock.
    fn give(inner: &mut Inner<T>, msg: T, skip: Option<&Arc<Signal>>) -> Result<Entry, T> {
        if !inner.returned.is_empty() {
            // Not reached (see the module docs), but a value must never
            // overtake one given back.
            return Err(msg);
        }
        let mut msg = Some(msg);
        let claimed = inner.receivers.claim_with(skip, |e| {
            if e.packet.is_null() {
                return false;
            }
            // SAFETY: we hold the lock and the entry is registered, so its
            // packet is alive and nobody else touches it.
            unsafe { put(e.packet, msg.take().expect("value present")) };
            if e.signal.try_claim(e.case) {
                true
            } else {
                // SAFETY: as above; the receiver withdrew, take it back.
                msg = unsafe { take(e.packet) };
                false
            }
        });
        match claimed {
            Some(e) => Ok(e),
            None => Err(msg.expect("value kept")),
        }
    }

    /// Takes the oldest value given back, or else one from a waiting
    /// sender (with its entry, to wake), under the lock.
    fn take_value(inner: &mut Inner<T>, skip: Option<&Arc<Signal>>) -> Option<(T, Option<Entry>)> {
        if let Some(v) = inner.returned.pop_front() {
            return Some((v, None));
        }
        Self::take_from_sender(inner, skip).map(|(v, e)| (v, Some(e)))
    }

    /// Takes a value from a waiting sender, under the lock.
    fn take_from_sender(inner: &mut Inner<T>, skip: Option<&Arc<Signal>>) -> Option<(T, Entry)> {
        let mut got = None;
        let claimed = inner.senders.claim_with(skip, |e| {
            // SAFETY: we hold the lock and the entry is registered, so its
            // packet is alive, and a registered sender's packet is full.
            let v = unsafe { take::<T>(e.packet) };
            if e.signal.try_claim(e.case) {
                got = v;
                true
            } else {
                if let Some(v) = v {
                    // SAFETY: as above; the sender withdrew, give it back.
                    unsafe { put(e.packet, v) };
                }
                false
            }
        })?;
        Some((got.expect("a waiting sender's packet is full"), claimed))
    }

    pub(crate) fn try_send(
        &self,
        msg: T,
        skip: Option<&Arc<Signal>>,
    ) -> Result<(), TrySendError<T>> {
        let mut inner = self.inner.lock();
        if inner.closed {
            return Err(TrySendError::Closed(msg));
        }
        match Self::give(&mut inner, msg, skip) {
            Ok(e) => {
                drop(inner);
                e.signal.wake();
                Ok(())
            }
            Err(msg) => Err(TrySendError::Full(msg)),
        }
    }

    pub(crate) fn try_recv(&self, skip: Option<&Arc<Signal>>) -> Result<T, TryRecvError> {
        let mut inner = self.inner.lock();
        if let Some((v, e)) = Self::take_value(&mut inner, skip) {
            drop(inner);
            if let Some(e) = e {
                e.signal.wake();
            }
            return Ok(v);
        }
        if inner.closed {
            Err(TryRecvError::Closed)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    pub(crate) fn send(
        &self,
        msg: T,
        deadline: Option<Instant>,
    ) -> Result<(), SendTimeoutError<T>> {
        let mut inner = self.inner.lock();
        if inner.closed {
            return Err(SendTimeoutError::Closed(msg));
        }
        let msg = match Self::give(&mut inner, msg, None) {
            Ok(e) => {
                drop(inner);
                e.signal.wake();
                return Ok(());
            }
            Err(msg) => msg,
        };
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(SendTimeoutError::Timeout(msg));
        }
        Signal::with_thread(|signal| {
            let packet: Packet<T> = UnsafeCell::new(Some(msg));
            let p: *mut () = (&packet as *const Packet<T>).cast_mut().cast();
            inner.senders.register(signal, 0, p);
            let woken = inner.receivers.claim(Some(signal), |e| e.packet.is_null());
            drop(inner);
            if let Some(e) = woken {
                e.signal.wake();
            }
            if signal.wait(deadline) == ABORTED {
                let mut inner = self.inner.lock();
                inner.senders.unregister(signal, 0);
                drop(inner);
                // SAFETY: our entry is gone, so the packet is ours alone;
                // nobody claimed us, so the value is still there.
                let v = unsafe { take::<T>(p) }.expect("unclaimed sender keeps its value");
                return Err(SendTimeoutError::Timeout(v));
            }
            // SAFETY: claimed: the claimer finished with the packet before
            // its claim (module docs), so it is ours alone again.
            match unsafe { take::<T>(p) } {
                None => Ok(()),
                Some(v) => Err(SendTimeoutError::Closed(v)),
            }
        })
    }

    pub(crate) fn recv(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        let mut inner = self.inner.lock();
        if let Some((v, e)) = Self::take_value(&mut inner, None) {
            drop(inner);
            if let Some(e) = e {
                e.signal.wake();
            }
            return Ok(v);
        }
        if inner.closed {
            return Err(RecvTimeoutError::Closed);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(RecvTimeoutError::Timeout);
        }
        Signal::with_thread(|signal| {
            let packet: Packet<T> = UnsafeCell::new(None);
            let p: *mut () = (&packet as *const Packet<T>).cast_mut().cast();
            inner.receivers.register(signal, 0, p);
            drop(inner);
            if signal.wait(deadline) == ABORTED {
                let mut inner = self.inner.lock();
                inner.receivers.unregister(signal, 0);
                return Err(RecvTimeoutError::Timeout);
            }
            // SAFETY: claimed: the claimer finished writing before its claim.
            match unsafe { take::<T>(p) } {
                Some(v) => Ok(v),
                None => Err(RecvTimeoutError::Closed),
            }
        })
    }

    /// Registers a waiting receiver: committed, with the empty packet `p`
    /// (a `Packet<T>` that stays alive and in place until
    /// `unregister_recv` or a claim), or wake-only if `p` is null.
    pub(crate) fn register_recv(&self, signal: &Arc<Signal>, case: usize, p: *mut ()) {
        self.register_recv_ready(signal, case, p);
    }

    /// [`Zero::register_recv`], then [`Zero::is_recv_ready`] for the
    /// same wait, under one lock.
    pub(crate) fn register_recv_ready(
        &self,
        signal: &Arc<Signal>,
        case: usize,
        p: *mut (),
    ) -> bool {
        let mut inner = self.inner.lock();
        inner.receivers.register(signal, case, p);
        Self::recv_ready(&inner, Some(signal))
    }

    /// Gives back a value that a dropped receive future was handed but
    /// never returned (module docs): to a waiting committed receiver, or
    /// into `returned` for the next receive, waking a wake-only receiver
    /// to come for it.
    pub(crate) fn give_back(&self, v: T) {
        let mut inner = self.inner.lock();
        let woken = match Self::give(&mut inner, v, None) {
            Ok(e) => Some(e),
            Err(v) => {
                inner.returned.push_back(v);
                inner.receivers.claim(None, |e| e.packet.is_null())
            }
        };
        drop(inner);
        if let Some(e) = woken {
            e.signal.wake();
        }
    }

    pub(crate) fn unregister_recv(&self, signal: &Arc<Signal>, case: usize) {
        let mut inner = self.inner.lock();
        inner.receivers.unregister(signal, case);
    }

    /// Registers a waiting sender whose value is in the packet `p` (a
    /// `Packet<T>` that stays alive and in place until `unregister_send`
    /// or a claim), and wakes one wake-only receiver to come and take it.
    pub(crate) fn register_send(&self, signal: &Arc<Signal>, case: usize, p: *mut ()) {
        self.register_send_ready(signal, case, p);
    }

    /// [`Zero::register_send`], then [`Zero::is_send_ready`] for the same
    /// wait, under one lock.
    pub(crate) fn register_send_ready(
        &self,
        signal: &Arc<Signal>,
        case: usize,
        p: *mut (),
    ) -> bool {
        let mut inner = self.inner.lock();
        inner.senders.register(signal, case, p);
        let woken = inner.receivers.claim(Some(signal), |e| e.packet.is_null());
        let ready = Self::send_ready(&inner, Some(signal));
        drop(inner);
        if let Some(e) = woken {
            e.signal.wake();
        }
        ready
    }

    /// Removes a waiting sender; its value is whatever its packet holds.
    pub(crate) fn unregister_send(&self, signal: &Arc<Signal>, case: usize) {
        let mut inner = self.inner.lock();
        inner.senders.unregister(signal, case);
    }

    /// A receive by the wait `skip` would complete now.
    ///
    /// Only senders still waiting count: an entry whose wait was already
    /// decided (claimed by another receiver, or withdrawn) stays listed
    /// until its owner removes it, and counting it would send a select
    /// round and round (register, "ready", withdraw, try, fail) while that
    /// owner waits for the core to remove it.
    pub(crate) fn is_recv_ready(&self, skip: Option<&Arc<Signal>>) -> bool {
        Self::recv_ready(&self.inner.lock(), skip)
    }

    /// [`Zero::is_recv_ready`] under the lock.
    fn recv_ready(inner: &Inner<T>, skip: Option<&Arc<Signal>>) -> bool {
        inner.closed
            || !inner.returned.is_empty()
            || inner.senders.any(skip, |e| e.signal.state() == WAITING)
    }

    /// A send by the wait `skip` would complete now (only committed
    /// receivers still waiting count; see `is_recv_ready`).
    pub(crate) fn is_send_ready(&self, skip: Option<&Arc<Signal>>) -> bool {
        Self::send_ready(&self.inner.lock(), skip)
    }

    /// [`Zero::is_send_ready`] under the lock.
    fn send_ready(inner: &Inner<T>, skip: Option<&Arc<Signal>>) -> bool {
        inner.closed
            || inner
                .receivers
                .any(skip, |e| !e.packet.is_null() && e.signal.state() == WAITING)
    }

    /// A woken wake-only receiver went away: wake another one if a value
    /// still waits (given back, or in a sender's packet).
    pub(crate) fn forward_recv(&self) {
        let mut inner = self.inner.lock();
        if inner.returned.is_empty() && !inner.senders.any(None, |e| e.signal.state() == WAITING) {
            return;
        }
        let woken = inner.receivers.claim(None, |e| e.packet.is_null());
        drop(inner);
        if let Some(e) = woken {
            e.signal.wake();
        }
    }

    pub(crate) fn close(&self) -> bool {
        let mut inner = self.inner.lock();
        if inner.closed {
            return false;
        }
        inner.closed = true;
        let mut woken = inner.senders.claim_all();
        woken.extend(inner.receivers.claim_all());
        drop(inner);
        for e in woken {
            e.signal.wake();
        }
        true
    }

    /// Values waiting in the channel: only values given back by dropped
    /// receive futures (module docs); usually none.
    pub(crate) fn len(&self) -> usize {
        self.inner.lock().returned.len()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.inner.lock().closed
    }
}
