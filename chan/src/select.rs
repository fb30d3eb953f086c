//! The selection protocol behind `select!`, `select_async!`, [`Select`]
//! and the async futures.
//!
//! # Cases
//!
//! A *case* is one operation a select may perform: a receive on a
//! receiver or a send of a given value on a sender ([`RecvCase`],
//! [`SendCase`]). The protocol sees cases only through the object-safe
//! [`Case`] trait, so one select mixes channels of any payload types.
//!
//! # One round
//!
//! 1. **Try.** Visit the cases in a fresh uniformly random order (a
//!    Fisher–Yates shuffle, as Go's `pollorder`) and attempt each without
//!    blocking. The first that completes fires. A random order makes the
//!    choice uniform among the ready cases, and a case only ever consumes a
//!    value when it fires: a receive that takes a value *is* the firing.
//! 2. **Register.** Otherwise put one entry per case, all sharing one
//!    [`Signal`], on the channels' waiter lists, then check every case
//!    again (a counterpart that acted before seeing the entry is caught
//!    here) and withdraw if one is ready.
//! 3. **Wait** until a counterpart claims the signal for some case `i`,
//!    or the deadline (of `default(timeout)` or of a timer channel)
//!    passes. A signal is claimed once (`signal.rs`), so one case wins.
//! 4. **Unregister** every entry. If case `i` was an unbuffered send
//!    whose value a receiver took, it has fired. Otherwise go back to 1:
//!    for the other flavors a claim means "case `i` may be ready now".
//!
//! A claim is a wake-up meant for one waiter. When a select that was
//! claimed for case `i` then fires another case (or is dropped, for a
//! future), it passes the wake-up on to the next waiter of case `i`'s
//! channel (`Case::forward`), so a value never sits in a channel while
//! its receivers sleep.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::channel::{Receiver, ReceiverFlavor, Sender, SenderFlavor};
use crate::err::{RecvError, SendError, TryRecvError, TrySendError};
use crate::flavors::Backoff;
use crate::flavors::zero::OwnedPacket;
use crate::primitives::{
    Arc, Instant, async_spin_outcome, async_spin_rounds, random_below, spin_burst,
};
use crate::signal::{BUSY, SELECTED, Signal, WAITING};
use crate::timer::Sleep;

/// One operation of a select, as the protocol sees it.
///
/// Implemented by [`RecvCase`] and [`SendCase`]; public only for the
/// `select!` macros.
#[doc(hidden)]
pub trait Case {
    /// Attempts the operation without blocking; `true` if it completed
    /// (the outcome is stored in the case).
    fn try_fire(&mut self) -> bool;
    /// Puts an entry for case `index` of `signal`'s wait on the channel.
    fn register(&mut self, signal: &Arc<Signal>, index: usize);
    /// Removes the entry, if registered.
    fn unregister(&mut self);
    /// Whether the operation would complete now (the check after
    /// registering).
    fn is_ready(&self) -> bool;
    /// `register`, then `is_ready`: for a flavor whose check takes the
    /// lock the registration took, both in one critical section.
    fn register_ready(&mut self, signal: &Arc<Signal>, index: usize) -> bool {
        self.register(signal, index);
        self.is_ready()
    }
    /// After `unregister`: whether a claim already completed the
    /// operation (an unbuffered send whose value was taken).
    fn completed_by_claim(&self) -> bool;
    /// The instant at which the case becomes ready by itself (timers).
    fn due(&self) -> Option<Instant>;
    /// Passes on a wake-up this case received and did not use.
    fn forward(&self);
    /// Whether other waits seem to be queued ahead of this case for what
    /// it wants (a hint): the channel serves them first, so a future's
    /// spin (`spin_until_fired`) could only succeed by overtaking them,
    /// and spinning would only add traffic on the lines the side that
    /// serves them writes.
    fn queued_ahead(&self) -> bool {
        false
    }
    /// If registered: aborts the wait (a no-op if it was decided already)
    /// and says whether a counterpart claimed it for this case.
    fn abort(&self) -> Option<bool>;
    /// Withdraws a registered case whose wait is being abandoned (a
    /// dropped future): aborts the wait, removes the entry, and passes on
    /// a claim that came for this case. Nothing if not registered.
    fn withdraw(&mut self) {
        let Some(claimed) = self.abort() else { return };
        self.unregister();
        if claimed && !self.completed_by_claim() {
            self.forward();
        }
    }
}

/// Where a case is registered.
struct Registration {
    signal: Arc<Signal>,
    index: usize,
}

impl Registration {
    fn new(signal: &Arc<Signal>, index: usize) -> Self {
        Registration {
            signal: signal.clone(),
            index,
        }
    }

    /// The claim this case got, if its signal was claimed for it.
    fn claimed_for_me(&self) -> bool {
        self.signal.state() == SELECTED + self.index
    }

    /// Aborts the wait; whether it had been claimed for this case.
    fn abort(&self) -> bool {
        self.signal.try_abort();
        self.claimed_for_me()
    }
}

/// A receive case.
#[doc(hidden)]
pub struct RecvCase<'a, T> {
    rx: &'a Receiver<T>,
    result: Option<Result<T, RecvError>>,
    reg: Option<Registration>,
    /// While the case waits committed (unbuffered flavor when `commit`,
    /// buffered when also `single`): the empty packet a sender writes the
    /// value into (boxed so the case itself may move).
    packet: Option<OwnedPacket<T>>,
    /// Whether the case waits on an unbuffered channel as a committed
    /// receiver, which a sender hands the value and goes on
    /// (`flavors/zero.rs`). A sender writes the value and then claims the
    /// wait, taking the value back if the claim fails, so of a `select!`'s
    /// cases only the one that fires ever holds a value. `false` only for
    /// a `Stream`'s receive, which rebuilds its case at every poll and has
    /// nowhere to keep a packet between polls.
    commit: bool,
    /// The only case of its wait (a `recv_async` future), so it may also
    /// wait committed on a buffered channel, whose hand-over claims in two
    /// steps (`signal.rs`, `BUSY`): a select's other cases must not see
    /// their wait look decided while a hand-over that may fail is under
    /// way.
    single: bool,
}

impl<'a, T> RecvCase<'a, T> {
    /// A receive on `rx`.
    pub fn new(rx: &'a Receiver<T>) -> Self {
        RecvCase {
            rx,
            result: None,
            reg: None,
            packet: None,
            commit: true,
            single: false,
        }
    }

    /// A receive on `rx` that is the only case of its wait (see `single`).
    pub(crate) fn single(rx: &'a Receiver<T>) -> Self {
        let mut case = RecvCase::new(rx);
        case.single = true;
        case
    }

    /// The packet to register for a wait on `signal`: an empty one for a
    /// committed case, none (wake-only) otherwise. The caller decides
    /// whether the flavor lets this case commit (see `commit` and
    /// `single`). The only case of its wait keeps the packet in the
    /// signal's room when it fits.
    fn new_packet(&mut self, signal: &Signal) -> *mut () {
        if !self.commit {
            return core::ptr::null_mut();
        }
        let packet = if self.single {
            // SAFETY: the only case of its wait has the signal's room to
            // itself, and its registration (made right after this, by our
            // caller) holds the signal until `unregister` has consumed the
            // packet.
            unsafe { OwnedPacket::in_room(signal, None) }
        } else {
            OwnedPacket::empty()
        };
        let p = packet.as_ptr();
        self.packet = Some(packet);
        p
    }

    fn take_result(&mut self) -> Option<Result<T, RecvError>> {
        self.result.take()
    }

    pub(crate) fn take_result_pub(&mut self) -> Option<Result<T, RecvError>> {
        self.take_result()
    }
}

impl<T> Case for RecvCase<'_, T> {
    #[inline]
    fn try_fire(&mut self) -> bool {
        let skip = self.reg.as_ref().map(|r| &r.signal);
        let r = match &self.rx.flavor {
            ReceiverFlavor::Zero(c) => c.try_recv(skip),
            _ => self.rx.try_recv(),
        };
        match r {
            Ok(v) => self.result = Some(Ok(v)),
            Err(TryRecvError::Closed) => self.result = Some(Err(RecvError)),
            Err(TryRecvError::Empty) => return false,
        }
        true
    }

    fn register(&mut self, signal: &Arc<Signal>, index: usize) {
        match &self.rx.flavor {
            // Wake-only: a single case waits committed through
            // `register_ready`, the only registration `SingleWait` makes.
            ReceiverFlavor::Array(c) => c.register_recv(signal, index),
            ReceiverFlavor::List(c) => c.register_recv(signal, index),
            ReceiverFlavor::Zero(c) => {
                let p = self.new_packet(signal);
                c.register_recv(signal, index, p);
            }
            _ => {}
        }
        self.reg = Some(Registration::new(signal, index));
    }

    fn register_ready(&mut self, signal: &Arc<Signal>, index: usize) -> bool {
        match &self.rx.flavor {
            ReceiverFlavor::Zero(c) => {
                let p = self.new_packet(signal);
                let ready = c.register_recv_ready(signal, index, p);
                self.reg = Some(Registration::new(signal, index));
                ready
            }
            // Registered only if not ready, under one lock
            // (`WaitList::register_unless`): "ready" leaves nothing to
            // unregister.
            ReceiverFlavor::Array(c) => {
                let p = if self.commit && self.single {
                    self.new_packet(signal)
                } else {
                    core::ptr::null_mut()
                };
                if c.register_recv_ready(signal, index, p) {
                    // Never listed, so no sender saw the packet: it is
                    // still empty.
                    self.packet = None;
                    return true;
                }
                self.reg = Some(Registration::new(signal, index));
                false
            }
            ReceiverFlavor::List(c) => {
                if c.register_recv_ready(signal, index) {
                    return true;
                }
                self.reg = Some(Registration::new(signal, index));
                false
            }
            _ => {
                self.register(signal, index);
                self.is_ready()
            }
        }
    }

    fn unregister(&mut self) {
        // Held until the packet is consumed below: a packet may live in the
        // signal's room (`new_packet`).
        let reg = self.reg.take();
        // A claim removed the entry already (`waitlist.rs`): no lock needed.
        if let Some(r) = reg.as_ref().filter(|r| !r.claimed_for_me()) {
            match &self.rx.flavor {
                ReceiverFlavor::Array(c) => c.unregister_recv(&r.signal, r.index),
                ReceiverFlavor::List(c) => c.unregister_recv(&r.signal, r.index),
                ReceiverFlavor::Zero(c) => c.unregister_recv(&r.signal, r.index),
                _ => {}
            }
        }
        if let Some(packet) = self.packet.take() {
            // SAFETY: the entry is gone (removed just now under the
            // channel's lock, or by its claimer), so nobody else touches
            // the packet.
            if let Some(v) = unsafe { packet.into_value() } {
                // Only a sender that claimed us for this case fills the
                // packet: the receive is done.
                self.result = Some(Ok(v));
            }
        }
        drop(reg);
    }

    fn is_ready(&self) -> bool {
        match &self.rx.flavor {
            ReceiverFlavor::Array(c) => c.is_recv_ready(),
            ReceiverFlavor::List(c) => c.is_recv_ready(),
            ReceiverFlavor::Zero(c) => c.is_recv_ready(self.reg.as_ref().map(|r| &r.signal)),
            ReceiverFlavor::At(c, _) => c.is_ready(),
            ReceiverFlavor::Tick(c, _) => c.is_ready(),
            ReceiverFlavor::Never => false,
        }
    }

    fn completed_by_claim(&self) -> bool {
        self.result.is_some()
    }

    fn due(&self) -> Option<Instant> {
        match &self.rx.flavor {
            ReceiverFlavor::At(c, _) => c.next_due(),
            ReceiverFlavor::Tick(c, _) => Some(c.next_due()),
            _ => None,
        }
    }

    fn forward(&self) {
        match &self.rx.flavor {
            ReceiverFlavor::Array(c) => c.forward_recv(),
            ReceiverFlavor::List(c) => c.forward_recv(),
            ReceiverFlavor::Zero(c) => c.forward_recv(),
            _ => {}
        }
    }

    fn queued_ahead(&self) -> bool {
        match &self.rx.flavor {
            ReceiverFlavor::Array(c) => c.receivers_queued(),
            _ => false,
        }
    }

    fn abort(&self) -> Option<bool> {
        self.reg.as_ref().map(Registration::abort)
    }
}

impl<T> RecvCase<'_, T> {
    /// The part of `drop` for a case that waited or holds a value.
    #[cold]
    #[inline(never)]
    fn drop_slow(&mut self) {
        if self.reg.is_some() {
            self.withdraw();
        }
        // A committed case dropped after a sender handed it a value (and
        // before it was polled again): the value goes back to the channel,
        // first in line (`flavors/zero.rs` and `flavors/array.rs`, values
        // given back).
        if let Some(Ok(v)) = self.result.take() {
            match &self.rx.flavor {
                ReceiverFlavor::Zero(c) => c.give_back(v),
                ReceiverFlavor::Array(c) => c.give_back(v),
                _ => drop(v),
            }
        }
        // Emptied here, so that the fields' own drops below are tests.
        self.packet = None;
        self.result = None;
    }
}

impl<T> Drop for RecvCase<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // Tested here, inline, so that the cases of a `select!` that never
        // waited (the common case: all but the fired one, which gave its
        // outcome away) cost a few tests each, not a call.
        if self.reg.is_some() || self.packet.is_some() || self.result.is_some() {
            self.drop_slow();
        }
    }
}

/// A send case. The value is given up front (Go evaluates a send case's
/// value before selecting); if the case does not fire, the value stays in
/// the case and is dropped with it (or given back by [`Select`]).
#[doc(hidden)]
pub struct SendCase<'a, T> {
    tx: &'a Sender<T>,
    msg: Option<T>,
    /// Unbuffered flavor, and the buffered one when `hand_off`: the value
    /// waits here while registered (boxed so the case itself may move).
    packet: Option<OwnedPacket<T>>,
    result: Option<Result<(), SendError<T>>>,
    reg: Option<Registration>,
    /// The only case of its wait (a `send_async` future or a sink), so a
    /// receiver may complete it by moving the value into a buffered
    /// channel (`WaitList::notify_one_handing_off`). Never for a case of a
    /// `select!`: the hand-off's `BUSY` step would make the select look
    /// decided to its other channels for a moment, and a wake-up they skip
    /// meanwhile would be lost if the hand-off then fails.
    hand_off: bool,
}

impl<'a, T> SendCase<'a, T> {
    /// A send of `msg` on `tx`.
    pub fn new(tx: &'a Sender<T>, msg: T) -> Self {
        SendCase {
            tx,
            msg: Some(msg),
            packet: None,
            result: None,
            reg: None,
            hand_off: false,
        }
    }

    /// A send of `msg` on `tx` that is the only case of its wait (see
    /// `hand_off`).
    pub(crate) fn single(tx: &'a Sender<T>, msg: T) -> Self {
        let mut case = SendCase::new(tx, msg);
        case.hand_off = true;
        case
    }

    fn take_result(&mut self) -> Option<Result<(), SendError<T>>> {
        self.result.take()
    }

    /// Moves `v` into a new packet for a wait on `signal` (which the case
    /// keeps until it unregisters) and returns the packet's address to
    /// register: in the signal's room for the only case of its wait, when
    /// it fits, as in `RecvCase::new_packet`; on the heap otherwise.
    fn park(&mut self, signal: &Signal, v: T) -> *mut () {
        let packet = if self.hand_off {
            // SAFETY: as in `RecvCase::new_packet`: a `hand_off` case is the
            // only one of its wait, and its registration holds the signal
            // until `unregister` (or, for a sink, `SendParts`, which drops
            // the packet before the registration) is done with the packet.
            unsafe { OwnedPacket::in_room(signal, Some(v)) }
        } else {
            OwnedPacket::new(v)
        };
        let p = packet.as_ptr();
        self.packet = Some(packet);
        p
    }

    /// The value, if the case did not fire.
    pub(crate) fn take_value_pub(&mut self) -> Option<T> {
        self.msg.take()
    }

    pub(crate) fn take_result_pub(&mut self) -> Option<Result<(), SendError<T>>> {
        self.take_result()
    }
}

impl<T> Case for SendCase<'_, T> {
    #[inline]
    fn try_fire(&mut self) -> bool {
        let Some(v) = self.msg.take() else {
            return self.result.is_some();
        };
        let r = match &self.tx.flavor {
            SenderFlavor::Zero(c) => c.try_send(v, self.reg.as_ref().map(|r| &r.signal)),
            _ => self.tx.try_send(v),
        };
        match r {
            Ok(()) => self.result = Some(Ok(())),
            Err(TrySendError::Closed(v)) => self.result = Some(Err(SendError(v))),
            Err(TrySendError::Full(v)) => {
                self.msg = Some(v);
                return false;
            }
        }
        true
    }

    fn register(&mut self, signal: &Arc<Signal>, index: usize) {
        match &self.tx.flavor {
            // Wake-only: a `hand_off` case leaves its value in a packet
            // through `register_ready`, the only registration `SingleWait`
            // makes.
            SenderFlavor::Array(c) => c.register_send(signal, index),
            SenderFlavor::List(_) => {}
            SenderFlavor::Zero(c) => {
                if let Some(v) = self.msg.take() {
                    let p = self.park(signal, v);
                    c.register_send(signal, index, p);
                }
            }
        }
        self.reg = Some(Registration::new(signal, index));
    }

    fn register_ready(&mut self, signal: &Arc<Signal>, index: usize) -> bool {
        match &self.tx.flavor {
            SenderFlavor::Zero(_) => {}
            SenderFlavor::Array(_) if self.hand_off => {}
            _ => {
                self.register(signal, index);
                return self.is_ready();
            }
        }
        let Some(v) = self.msg.take() else {
            // Fired already (only a fired case has no value): "ready", so
            // that the caller goes on to the outcome instead of waiting.
            return true;
        };
        let p = self.park(signal, v);
        let ready = match &self.tx.flavor {
            SenderFlavor::Zero(c) => c.register_send_ready(signal, index, p),
            // Registered only if not ready, under one lock, as for a
            // receive case.
            // The packet, never seen by a receiver, stays until the
            // caller's `unregister` takes the value back out of it.
            SenderFlavor::Array(c) => {
                if c.register_send_packet_ready(signal, index, p) {
                    return true;
                }
                false
            }
            SenderFlavor::List(_) => unreachable!("an unbounded send never waits"),
        };
        self.reg = Some(Registration::new(signal, index));
        ready
    }

    fn unregister(&mut self) {
        // Held until the packet is consumed below, as in `RecvCase`.
        let reg = self.reg.take();
        // A claim removed the entry already (`waitlist.rs`): no lock needed.
        if let Some(r) = reg.as_ref().filter(|r| !r.claimed_for_me()) {
            match &self.tx.flavor {
                SenderFlavor::Array(c) => c.unregister_send(&r.signal, r.index),
                SenderFlavor::List(_) => {}
                SenderFlavor::Zero(c) => c.unregister_send(&r.signal, r.index),
            }
        }
        if let Some(packet) = self.packet.take() {
            // SAFETY: the entry is gone (removed just now under the list's
            // lock, or by its claimer), or it never stayed listed
            // (`register_ready` found the channel ready and removed it
            // under the lock it registered it with), so nobody else touches
            // the packet.
            match unsafe { packet.into_value() } {
                Some(v) => self.msg = Some(v),
                // Only a receiver that claimed us for this case empties the
                // packet (`flavors/zero.rs`, and the buffered flavor's
                // hand-off in `waitlist.rs`).
                None => self.result = Some(Ok(())),
            }
        }
    }

    fn is_ready(&self) -> bool {
        match &self.tx.flavor {
            SenderFlavor::Array(c) => c.is_send_ready(),
            SenderFlavor::List(_) => true,
            SenderFlavor::Zero(c) => c.is_send_ready(self.reg.as_ref().map(|r| &r.signal)),
        }
    }

    fn completed_by_claim(&self) -> bool {
        self.result.is_some()
    }

    fn due(&self) -> Option<Instant> {
        None
    }

    fn forward(&self) {
        if let SenderFlavor::Array(c) = &self.tx.flavor {
            c.forward_send();
        }
    }

    fn queued_ahead(&self) -> bool {
        match &self.tx.flavor {
            SenderFlavor::Array(c) => c.senders_queued(),
            _ => false,
        }
    }

    fn abort(&self) -> Option<bool> {
        self.reg.as_ref().map(Registration::abort)
    }
}

impl<T> Drop for SendCase<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // As for `RecvCase`.
        if self.reg.is_some() {
            self.withdraw_cold();
        }
    }
}

impl<T> SendCase<'_, T> {
    #[cold]
    #[inline(never)]
    fn withdraw_cold(&mut self) {
        self.withdraw();
    }
}

/// How long a select may wait.
#[derive(Clone, Copy, Debug)]
#[doc(hidden)]
pub enum Mode {
    /// Until a case fires.
    Block,
    /// Not at all (`default =>`).
    NonBlocking,
    /// Until the instant (`default(timeout) =>`).
    Deadline(Option<Instant>),
}

impl Mode {
    /// `default(timeout)`.
    pub fn timeout(d: core::time::Duration) -> Self {
        Mode::Deadline(Instant::now().checked_add(d))
    }

    fn deadline(self) -> Option<Instant> {
        match self {
            Mode::Deadline(d) => d,
            _ => None,
        }
    }
}

/// A random visiting order of `n` cases, drawn lazily: position `k` is
/// fixed only when the round reaches it ([`Order::draw`]), so a round whose
/// first case is ready pays for one random number, not `n - 1`.
struct Order {
    /// The order for up to 32 cases (positions `0..n`).
    small: [u8; 32],
    /// The order for more cases.
    large: Vec<usize>,
    n: usize,
}

/// `0, 1, .., 31`: copied whole into a new [`Order`] (filling it element by
/// element, then moving it, stalled the first load of the moved copy on
/// store forwarding; it showed in profiles of `select!`).
const IDENTITY: [u8; 32] = {
    let mut a = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        a[i] = i as u8;
        i += 1;
    }
    a
};

impl Order {
    fn new(n: usize) -> Self {
        Order {
            small: IDENTITY,
            large: if n > 32 { (0..n).collect() } else { Vec::new() },
            n,
        }
    }

    /// Fixes position `k` of a fresh uniformly random order and returns the
    /// case there: swaps a uniformly chosen one of positions `k..n` into
    /// `k` (the forward Fisher–Yates step, as Go's `pollorder`). Drawing
    /// positions `0, 1, ..` in turn yields a uniformly random permutation
    /// whatever order the previous round left.
    fn draw(&mut self, k: usize) -> usize {
        let left = self.n - k;
        let j = if left > 1 { k + random_below(left) } else { k };
        if self.n > 32 {
            self.large.swap(k, j);
            self.large[k]
        } else {
            self.small.swap(k, j);
            usize::from(self.small[k])
        }
    }

    /// The case at position `k`, once drawn.
    fn get(&self, k: usize) -> usize {
        if self.n > 32 {
            self.large[k]
        } else {
            usize::from(self.small[k])
        }
    }
}

/// Step 1 of a round: try every case in a fresh random order; a round that
/// fires none has drawn the whole order, which registration then follows.
fn try_all(cases: &mut [&mut dyn Case], order: &mut Order) -> Option<usize> {
    (0..cases.len()).find_map(|k| {
        let i = order.draw(k);
        cases[i].try_fire().then_some(i)
    })
}

/// The earliest of `deadline` and the cases' timer instants.
fn earliest(cases: &[&mut dyn Case], deadline: Option<Instant>) -> Option<Instant> {
    cases.iter().filter_map(|c| c.due()).chain(deadline).min()
}

/// Fires the case picked in `fired`, passing on a claim that came for
/// another case.
fn settle(cases: &[&mut dyn Case], fired: usize, claimed: Option<usize>) -> usize {
    if let Some(c) = claimed.filter(|&c| c != fired) {
        cases[c].forward();
    }
    fired
}

/// Step 4 of a round, once the wait is decided (`state` is not
/// `WAITING`): removes every entry. `Ok(i)` if a claim already completed
/// case `i` (an unbuffered send whose value was taken); otherwise the case
/// a claim came for, if any, to be tried again or passed on.
fn conclude(cases: &mut [&mut dyn Case], state: usize) -> Result<usize, Option<usize>> {
    for c in cases.iter_mut() {
        c.unregister();
    }
    match state.checked_sub(SELECTED) {
        Some(i) if cases[i].completed_by_claim() => Ok(i),
        claimed => Err(claimed),
    }
}

/// Runs a blocking select; returns the fired case, or `None` for the
/// default (non-blocking mode, or the deadline passed).
#[doc(hidden)]
pub fn run_blocking(cases: &mut [&mut dyn Case], mode: Mode) -> Option<usize> {
    let mut order = Order::new(cases.len());
    let mut claimed = None;
    loop {
        if let Some(i) = try_all(cases, &mut order) {
            return Some(settle(cases, i, claimed));
        }
        // A claimed case that is not ready any more had its wake-up's cause
        // used by somebody else: nothing to pass on (every path below
        // either returns or sets `claimed` afresh).
        let deadline = match mode {
            Mode::NonBlocking => return None,
            Mode::Block => None,
            Mode::Deadline(d) => d,
        };
        // Like a single operation, try again for a short while before
        // paying for registration on every channel.
        let mut backoff = Backoff::new();
        while !backoff.is_completed() {
            backoff.snooze();
            if let Some(i) = try_all(cases, &mut order) {
                return Some(i);
            }
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return None;
        }
        let outcome = Signal::with_thread(|signal| {
            for k in 0..cases.len() {
                cases[order.get(k)].register(signal, order.get(k));
            }
            if cases.iter().any(|c| c.is_ready()) {
                signal.try_abort();
            }
            let state = signal.wait(earliest(cases, deadline));
            conclude(cases, state)
        });
        match outcome {
            Ok(i) => return Some(i),
            Err(c) => claimed = c,
        }
    }
}

/// The state of an async select between polls.
#[doc(hidden)]
pub struct AsyncSelect {
    mode: Mode,
    signal: Option<Arc<Signal>>,
    registered: bool,
    sleep: Option<Sleep>,
    order: Option<Order>,
}

impl AsyncSelect {
    /// A select that will run in `mode`.
    pub fn new(mode: Mode) -> Self {
        AsyncSelect {
            mode,
            signal: None,
            registered: false,
            sleep: None,
            order: None,
        }
    }

    /// One poll of the select over `cases` (the same cases, in the same
    /// order, at every poll). `Ready(None)` is the default.
    pub fn poll(
        &mut self,
        cases: &mut [&mut dyn Case],
        cx: &mut Context<'_>,
    ) -> Poll<Option<usize>> {
        let mut claimed = None;
        if self.registered {
            let signal = self.signal.as_ref().expect("registered");
            // `BUSY`: a hand-off is under way (`signal.rs`); it ends in a
            // claim, which wakes us, or back in `WAITING`.
            let mut state = signal.state();
            if (state == WAITING || state == BUSY) && !signal.will_wake(cx.waker()) {
                // Polled from another task: a claim would wake the old one.
                // Withdraw, and register afresh below with this waker.
                state = signal.try_abort();
            }
            if state == WAITING || state == BUSY {
                let due = earliest(cases, self.mode.deadline());
                match due {
                    Some(at) if Instant::now() >= at => state = signal.try_abort(),
                    Some(at) => {
                        if self.sleep.as_ref().is_none_or(|s| s.at() != at) {
                            self.sleep = Some(Sleep::new(at));
                        }
                        if self.sleep.as_mut().expect("set").poll(cx).is_ready() {
                            state = signal.try_abort();
                        } else {
                            return Poll::Pending;
                        }
                    }
                    None => return Poll::Pending,
                }
            }
            debug_assert!(state != WAITING && state != BUSY);
            self.registered = false;
            match conclude(cases, state) {
                Ok(i) => return Poll::Ready(Some(i)),
                Err(c) => claimed = c,
            }
        }
        let order = self.order.get_or_insert_with(|| Order::new(cases.len()));
        loop {
            if let Some(i) = try_all(cases, order) {
                return Poll::Ready(Some(settle(cases, i, claimed)));
            }
            let deadline = match self.mode {
                Mode::NonBlocking => return Poll::Ready(None),
                Mode::Block => None,
                Mode::Deadline(d) => d,
            };
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Poll::Ready(None);
            }
            // Every entry is gone (invariant 2 of `signal.rs`), so the
            // signal can start a new wait if nobody else still holds it.
            let signal = Signal::prepare_task(&mut self.signal, cx.waker());
            for k in 0..cases.len() {
                cases[order.get(k)].register(signal, order.get(k));
            }
            if cases.iter().any(|c| c.is_ready()) {
                match conclude(cases, signal.try_abort()) {
                    Ok(i) => return Poll::Ready(Some(i)),
                    Err(c) => claimed = c,
                }
                continue;
            }
            self.registered = true;
            if let Some(at) = earliest(cases, deadline) {
                let mut sleep = Sleep::new(at);
                if sleep.poll(cx).is_ready() {
                    // Due already: go round once more.
                    self.registered = false;
                    match conclude(cases, signal.try_abort()) {
                        Ok(i) => return Poll::Ready(Some(i)),
                        Err(c) => claimed = c,
                    }
                    continue;
                }
                self.sleep = Some(sleep);
            }
            return Poll::Pending;
        }
    }
}

impl Drop for AsyncSelect {
    fn drop(&mut self) {
        // The cases withdrew themselves (or are dropped right after us and
        // do so then); the signal goes back to the pool only if unshared.
        if let Some(s) = self.signal.take() {
            Signal::recycle_task(s);
        }
    }
}

impl core::fmt::Debug for AsyncSelect {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AsyncSelect")
            .field("mode", &self.mode)
            .field("registered", &self.registered)
            .finish()
    }
}

/// The state of a single-case future between polls: a `recv_async` or
/// `send_async` future, or a stream's or a sink's pending operation.
///
/// The protocol of [`AsyncSelect`] for one case, without what only a
/// `select_async!` needs (a random order, deadlines, dynamic dispatch):
/// try the operation, and retry it through a short adaptive spin
/// (`async_spin_rounds`: under a microsecond, and none where spinning does
/// not pay, such as on a single-threaded executor, where the partner task
/// cannot run meanwhile); otherwise register, check once more, and return
/// `Pending` until a claim wakes the task (or, for a timer channel, until
/// it is due), then go round again. A poll while registered costs one load
/// when it comes from the task the claim will wake.
#[derive(Default)]
pub(crate) struct SingleWait {
    signal: Option<Arc<Signal>>,
    registered: bool,
    /// A timer channel's due instant, while registered on one.
    sleep: Option<Sleep>,
}

impl SingleWait {
    /// One poll of the operation `case` (the same case at every poll);
    /// `Ready` once it fired (its outcome is in the case).
    #[inline]
    pub(crate) fn poll<C: Case>(&mut self, case: &mut C, cx: &mut Context<'_>) -> Poll<()> {
        if self.registered {
            let signal = self.signal.as_ref().expect("registered");
            let state = signal.state();
            // `BUSY`: a hand-off is under way; it ends in a claim, which
            // wakes us, or back in `WAITING`.
            if (state == WAITING || state == BUSY)
                && signal.will_wake(cx.waker())
                && self.sleep.as_mut().is_none_or(|s| s.poll(cx).is_pending())
            {
                return Poll::Pending;
            }
            // Claimed, due, or polled from another task (which a claim
            // would not wake): withdraw, start afresh. A claimed wait is
            // decided already: no compare-and-swap to find that out again.
            if state == WAITING || state == BUSY {
                signal.try_abort();
            }
            self.registered = false;
            self.sleep = None;
            case.unregister();
            // A claimed case that is not ready any more had its wake-up's
            // cause used by somebody else: nothing to pass on.
            if case.completed_by_claim() {
                return Poll::Ready(());
            }
        }
        if case.try_fire() || spin_until_fired(case) {
            return Poll::Ready(());
        }
        loop {
            // Every entry is gone (invariant 2 of `signal.rs`): the signal
            // may start a new wait if nobody else still holds it.
            let signal = Signal::prepare_task(&mut self.signal, cx.waker());
            if !case.register_ready(signal, 0) {
                if let Some(at) = case.due() {
                    let mut sleep = Sleep::new(at);
                    if sleep.poll(cx).is_pending() {
                        self.sleep = Some(sleep);
                        self.registered = true;
                        return Poll::Pending;
                    }
                    // Due already: withdraw and try once more below.
                } else {
                    self.registered = true;
                    return Poll::Pending;
                }
            }
            signal.try_abort();
            case.unregister();
            if case.completed_by_claim() || case.try_fire() {
                return Poll::Ready(());
            }
        }
    }
}

/// Retries `case` for a few short spin rounds (as many as
/// `async_spin_rounds` allows, adapting to how the last spins went); `true`
/// if it fired.
#[inline]
fn spin_until_fired<C: Case>(case: &mut C) -> bool {
    // Waits queued ahead are served first: no spin, and no verdict on how
    // spinning goes either.
    if case.queued_ahead() {
        return false;
    }
    let budget = async_spin_rounds();
    for round in 0..budget {
        spin_burst(round);
        if case.try_fire() {
            async_spin_outcome(Some(round));
            return true;
        }
    }
    if budget > 0 {
        async_spin_outcome(None);
    }
    false
}

impl Drop for SingleWait {
    #[inline]
    fn drop(&mut self) {
        // The case withdrew itself (or is dropped right after us and does
        // so then); the signal goes back to the pool only if unshared.
        if let Some(s) = self.signal.take() {
            Signal::recycle_task(s);
        }
    }
}

impl core::fmt::Debug for SingleWait {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SingleWait")
            .field("registered", &self.registered)
            .finish()
    }
}

/// Ends a single-case future's slow path once its outcome is out: the
/// case, spent, is let go without its drop glue ([`dispose`]) and the wait
/// returns its signal to the pool.
#[inline]
fn finish<C: Outcome>(slow: &mut Option<(C, SingleWait)>) {
    if let Some((case, wait)) = slow.take() {
        dispose(case);
        drop(wait);
    }
}

/// The future of [`Receiver::recv_async`].
///
/// The first poll tries the common case inline (a value ready in a
/// buffered or unbounded channel, `Receiver::recv_quick`). Only if that
/// fails does the future build its case and wait state: a receive that
/// completes at once costs one attempt, and dropping its future one test.
#[must_use = "futures do nothing unless polled"]
pub struct RecvFuture<'a, T> {
    rx: &'a Receiver<T>,
    /// The case and its wait, from the first poll that does not complete
    /// at once.
    slow: Option<(RecvCase<'a, T>, SingleWait)>,
}

impl<'a, T> RecvFuture<'a, T> {
    pub(crate) fn new(rx: &'a Receiver<T>) -> Self {
        RecvFuture { rx, slow: None }
    }
}

// The future is never self-referential (a waiting case's packet lives on
// the heap or in its wait's signal, never in the future), so it may move
// between polls.
impl<T> Unpin for RecvFuture<'_, T> {}

impl<T> Future for RecvFuture<'_, T> {
    type Output = Result<T, RecvError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let (case, wait) = match &mut this.slow {
            Some(slow) => slow,
            None => {
                if let Some(v) = this.rx.recv_quick() {
                    return Poll::Ready(Ok(v));
                }
                this.slow
                    .insert((RecvCase::single(this.rx), SingleWait::default()))
            }
        };
        match wait.poll(case, cx) {
            Poll::Ready(()) => {
                let r = case.take_result().expect("the case fired");
                // Done with the case and its wait: the signal goes back to
                // the pool now, and a poll after completion starts afresh
                // instead of waiting on a spent case.
                finish(&mut this.slow);
                Poll::Ready(r)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> core::fmt::Debug for RecvFuture<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("RecvFuture")
    }
}

/// The future of [`Sender::send_async`].
///
/// As [`RecvFuture`]: the first poll tries the common case inline (room
/// in a buffered or unbounded channel, `Sender::send_quick`), and only if
/// that fails builds the case, which then holds the value.
#[must_use = "futures do nothing unless polled"]
pub struct SendFuture<'a, T> {
    tx: &'a Sender<T>,
    /// The value until the case is built (`None` after that).
    msg: Option<T>,
    /// The case and its wait, as in [`RecvFuture`].
    slow: Option<(SendCase<'a, T>, SingleWait)>,
}

impl<'a, T> SendFuture<'a, T> {
    pub(crate) fn new(tx: &'a Sender<T>, msg: T) -> Self {
        SendFuture {
            tx,
            msg: Some(msg),
            slow: None,
        }
    }
}

// As for `RecvFuture`.
impl<T> Unpin for SendFuture<'_, T> {}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let (case, wait) = match &mut this.slow {
            Some(slow) => slow,
            None => {
                let v = this.msg.take().expect("SendFuture polled after completion");
                let v = match this.tx.send_quick(v) {
                    Ok(()) => return Poll::Ready(Ok(())),
                    Err(v) => v,
                };
                this.slow
                    .insert((SendCase::single(this.tx, v), SingleWait::default()))
            }
        };
        match wait.poll(case, cx) {
            Poll::Ready(()) => {
                let r = case.take_result().expect("the case fired");
                // As in `RecvFuture::poll`; with no value left, a poll after
                // completion panics with the message above.
                finish(&mut this.slow);
                Poll::Ready(r)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> core::fmt::Debug for SendFuture<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SendFuture")
    }
}

/// A case's outcome, for `select!` to hand to the fired arm.
#[doc(hidden)]
pub trait Outcome {
    /// `Result<T, RecvError>` or `Result<(), SendError<T>>`.
    type Output;
    /// Takes the outcome of a fired case out of it (the case stays, empty,
    /// to be dropped in place).
    fn take_outcome(&mut self) -> Self::Output;
    /// Whether the case holds nothing that its drop would act on or free
    /// (see [`dispose`]).
    fn is_spent(&self) -> bool;
}

impl<T> Outcome for RecvCase<'_, T> {
    type Output = Result<T, RecvError>;
    #[inline]
    fn take_outcome(&mut self) -> Self::Output {
        self.result.take().expect("the case fired")
    }
    #[inline]
    fn is_spent(&self) -> bool {
        self.reg.is_none() && self.packet.is_none() && self.result.is_none()
    }
}

impl<T> Outcome for SendCase<'_, T> {
    type Output = Result<(), SendError<T>>;
    #[inline]
    fn take_outcome(&mut self) -> Self::Output {
        self.result.take().expect("the case fired")
    }
    #[inline]
    fn is_spent(&self) -> bool {
        self.reg.is_none() && self.packet.is_none() && self.result.is_none() && self.msg.is_none()
    }
}

/// For `select!`: drops a case once its outcome, if any, is out. A case
/// that holds nothing (never registered, no value, no outcome: every case
/// of a select that fired at once, but an unsent value's) is let go
/// without its drop, whose out-of-line glue was a fifth of the
/// instructions of such a select; anything else is dropped as usual.
#[doc(hidden)]
#[inline]
pub fn dispose<C: Outcome>(case: C) {
    if case.is_spent() {
        // Nothing in it owns anything: forgetting it leaks nothing.
        core::mem::forget(case);
    } else {
        drop(case);
    }
}

/// For `select!`: the outcome of case number `*k` (counting up) if it is
/// the one that fired. The case is borrowed, not consumed: the cases are
/// dropped where they are once every outcome is out (moving each one
/// into a function to consume it copied it whole, and was a tenth of the
/// instructions of a select whose first case fired).
#[doc(hidden)]
#[inline]
pub fn take_if<C: Outcome>(k: &mut usize, fired: Option<usize>, case: &mut C) -> Option<C::Output> {
    let mine = fired == Some(*k);
    *k += 1;
    if mine {
        Some(case.take_outcome())
    } else {
        None
    }
}

/// The state a `Receiver` keeps between [`Receiver::poll_recv`] calls
/// (its `Stream` implementation): the pending registration, without the
/// borrow of the receiver that a [`RecvCase`] holds.
#[derive(Debug)]
pub(crate) struct RecvParts {
    reg: Option<Registration>,
    wait: SingleWait,
}

impl core::fmt::Debug for Registration {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Registration")
            .field("index", &self.index)
            .finish()
    }
}

impl RecvParts {
    pub(crate) fn new() -> Self {
        RecvParts {
            reg: None,
            wait: SingleWait::default(),
        }
    }

    /// One poll of a receive on `rx` that resumes where the last left off.
    pub(crate) fn poll<T>(
        &mut self,
        rx: &Receiver<T>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, RecvError>> {
        let mut case = RecvCase {
            rx,
            result: None,
            reg: self.reg.take(),
            packet: None,
            commit: false,
            single: false,
        };
        let r = match self.wait.poll(&mut case, cx) {
            Poll::Ready(()) => Poll::Ready(case.take_result().expect("the case fired")),
            Poll::Pending => Poll::Pending,
        };
        self.reg = case.reg.take();
        r
    }

    /// Withdraws a pending receive (the receiver is going away).
    pub(crate) fn cancel<T>(&mut self, rx: &Receiver<T>) {
        drop(RecvCase {
            rx,
            result: None,
            reg: self.reg.take(),
            packet: None,
            commit: false,
            single: false,
        });
    }
}

/// The state a `Sender` keeps between `Sink` calls: the value being sent
/// and its pending registration.
pub(crate) struct SendParts<T> {
    msg: Option<T>,
    packet: Option<OwnedPacket<T>>,
    reg: Option<Registration>,
    wait: SingleWait,
}

impl<T> SendParts<T> {
    pub(crate) fn new() -> Self {
        SendParts {
            msg: None,
            packet: None,
            reg: None,
            wait: SingleWait::default(),
        }
    }

    /// Whether a value is waiting to be sent.
    pub(crate) fn is_pending(&self) -> bool {
        self.msg.is_some() || self.packet.is_some()
    }

    /// Queues `msg` for the next [`SendParts::poll`].
    pub(crate) fn start(&mut self, msg: T) {
        assert!(!self.is_pending(), "Sink::start_send without poll_ready");
        self.msg = Some(msg);
    }

    fn case<'a>(&mut self, tx: &'a Sender<T>) -> SendCase<'a, T> {
        SendCase {
            tx,
            msg: self.msg.take(),
            packet: self.packet.take(),
            result: None,
            reg: self.reg.take(),
            hand_off: true,
        }
    }

    /// Drives the queued send on `tx`; `Ready(Ok)` when nothing is queued.
    pub(crate) fn poll(
        &mut self,
        tx: &Sender<T>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), SendError<T>>> {
        if !self.is_pending() {
            return Poll::Ready(Ok(()));
        }
        let mut case = self.case(tx);
        let r = match self.wait.poll(&mut case, cx) {
            Poll::Ready(()) => Poll::Ready(case.take_result().expect("the case fired")),
            Poll::Pending => Poll::Pending,
        };
        self.msg = case.msg.take();
        self.packet = case.packet.take();
        self.reg = case.reg.take();
        r
    }

    /// Withdraws a queued send (the sender is going away); the value is
    /// dropped unless a receiver already took it.
    pub(crate) fn cancel(&mut self, tx: &Sender<T>) {
        drop(self.case(tx));
    }
}
