//! Waiter lists: who is blocked on one side of a channel.
//!
//! [`Waiters`] is a plain FIFO of [`Entry`]s, used under a lock the caller
//! holds (the unbuffered flavor keeps both of its lists under one lock).
//! [`WaitList`] wraps one in its own lock plus an `is_empty` flag, for the
//! buffered and unbounded flavors, whose fast paths are lock-free: a
//! `notify` that finds no waiter costs one load.
//!
//! # No lost wake-ups
//!
//! A waiter registers (lock, push, `is_empty = false`, unlock) and then
//! checks its channel once more before it sleeps. A notifier first makes
//! its change visible through a SeqCst read-modify-write of the channel's
//! head or tail index and then loads `is_empty` with SeqCst. In the single
//! total order of SeqCst operations either the index update comes first,
//! and the waiter's re-check (a SeqCst load of that index) sees it, or the
//! `is_empty = false` store comes first, and the notifier sees a waiter.
//!
//! Claiming an entry's [`Signal`] happens under the list's lock and removes
//! the entry in the same critical section; entries whose claim fails
//! (their wait was already decided through another list) stay until their
//! owner removes them.

use std::collections::VecDeque;

use hoare_sync::Mutex;

use crate::primitives::{Arc, AtomicBool, Ordering, loom_dekker_fence};
use crate::signal::Signal;

/// One registered case of one wait.
pub(crate) struct Entry {
    /// The wait this entry belongs to.
    pub(crate) signal: Arc<Signal>,
    /// The case index within that wait (`SELECTED + case` when claimed).
    pub(crate) case: usize,
    /// The unbuffered flavor's hand-over slot (null elsewhere, and for
    /// wake-only waiters).
    pub(crate) packet: *mut (),
}

// SAFETY: `packet` is only dereferenced by the unbuffered flavor, under its
// lock, while the owning wait keeps the packet alive (it removes the entry
// under the same lock before the packet goes away); `Arc<Signal>` is `Send`.
unsafe impl Send for Entry {}

/// A FIFO of entries; the caller provides the locking.
#[derive(Default)]
pub(crate) struct Waiters {
    entries: VecDeque<Entry>,
    /// How many entries carry a packet.
    packets: usize,
}

impl Waiters {
    pub(crate) const fn new() -> Self {
        Waiters {
            entries: VecDeque::new(),
            packets: 0,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn register(&mut self, signal: &Arc<Signal>, case: usize, packet: *mut ()) {
        self.packets += usize::from(!packet.is_null());
        self.entries.push_back(Entry {
            signal: signal.clone(),
            case,
            packet,
        });
    }

    /// Removes the entry registered last (the caller's own, registered
    /// under the same hold of the lock).
    fn unregister_last(&mut self) {
        if let Some(e) = self.entries.pop_back() {
            self.packets -= usize::from(!e.packet.is_null());
        }
    }

    /// Removes the entry of (`signal`, `case`) if it is still there.
    pub(crate) fn unregister(&mut self, signal: &Arc<Signal>, case: usize) -> Option<Entry> {
        let i = self
            .entries
            .iter()
            .position(|e| e.case == case && e.signal.same(signal))?;
        self.take(i)
    }

    /// Claims and removes the first entry that `accept`s and whose signal
    /// can be claimed, skipping entries of the wait `skip` (a select must
    /// not rendezvous with itself).
    pub(crate) fn claim(
        &mut self,
        skip: Option<&Arc<Signal>>,
        mut accept: impl FnMut(&Entry) -> bool,
    ) -> Option<Entry> {
        self.claim_with(skip, |e| accept(e) && e.signal.try_claim(e.case))
    }

    /// Removes and returns the first entry (other than `skip`'s) for which
    /// `try_claim` returns `true`; `try_claim` performs the claim itself
    /// (and whatever must happen before it, such as a hand-over).
    pub(crate) fn claim_with(
        &mut self,
        skip: Option<&Arc<Signal>>,
        mut try_claim: impl FnMut(&Entry) -> bool,
    ) -> Option<Entry> {
        let mut fits = |e: &Entry| !skip.is_some_and(|s| e.signal.same(s)) && try_claim(e);
        // The front entry is the usual one (FIFO, and a list rarely holds
        // more than one waiter): tried on its own, without the general
        // iterator's walk over the deque's two halves, which cost more than
        // the claim itself in profiles of the unbuffered flavor.
        if fits(self.entries.front()?) {
            return self.take(0);
        }
        let i = self.entries.iter().skip(1).position(fits)?;
        self.take(i + 1)
    }

    /// Removes entry `i`.
    #[inline]
    fn take(&mut self, i: usize) -> Option<Entry> {
        // The front entry is the usual one (FIFO): `pop_front` skips the
        // general removal's choice of which half to shift.
        let e = if i == 0 {
            self.entries.pop_front()
        } else {
            self.entries.remove(i)
        }?;
        self.packets -= usize::from(!e.packet.is_null());
        Some(e)
    }

    /// Whether some entry carries a packet.
    pub(crate) fn has_packets(&self) -> bool {
        self.packets > 0
    }

    /// Claims every entry (the channel closed); returns the claimed ones,
    /// to be woken after the lock is released.
    pub(crate) fn claim_all(&mut self) -> Vec<Entry> {
        self.packets = 0;
        self.entries
            .drain(..)
            .filter(|e| e.signal.try_claim(e.case))
            .collect()
    }

    /// Whether some entry other than `skip`'s satisfies `pred`.
    pub(crate) fn any(&self, skip: Option<&Arc<Signal>>, pred: impl Fn(&Entry) -> bool) -> bool {
        self.entries
            .iter()
            .any(|e| !skip.is_some_and(|s| e.signal.same(s)) && pred(e))
    }
}

/// A lock-protected [`Waiters`] with a lock-free emptiness check.
pub(crate) struct WaitList {
    waiters: Mutex<Waiters>,
    /// `true` when `waiters` is empty; written under the lock, read without.
    is_empty: AtomicBool,
    /// `true` when some entry carries a packet; written under the lock, read
    /// without, as a hint (`may_give`).
    has_packets: AtomicBool,
}

impl WaitList {
    pub(crate) fn new() -> Self {
        WaitList {
            waiters: Mutex::new(Waiters::new()),
            is_empty: AtomicBool::new(true),
            has_packets: AtomicBool::new(false),
        }
    }

    pub(crate) fn register(&self, signal: &Arc<Signal>, case: usize) {
        self.register_packet(signal, case, core::ptr::null_mut());
    }

    /// Registers a blocked sender whose value waits in `packet`, a
    /// `*mut Option<T>`, for [`WaitList::notify_one_handing_off`]. The
    /// owner keeps the packet alive until its entry is gone.
    pub(crate) fn register_packet(&self, signal: &Arc<Signal>, case: usize, packet: *mut ()) {
        let mut w = self.waiters.lock();
        w.register(signal, case, packet);
        // Relaxed: a hint, as in `unregister`.
        self.has_packets.store(w.has_packets(), Ordering::Relaxed);
        // SeqCst: one half of the Dekker pair described in the module docs.
        self.is_empty.store(false, Ordering::SeqCst);
        loom_dekker_fence();
    }

    /// Registers as [`WaitList::register_packet`] does (`packet` may be
    /// null: a wake-only waiter), then asks `ready`, the waiter's re-check,
    /// before the lock is released: if it says the channel changed, the
    /// entry is removed again at once and `true` is returned, with nothing
    /// left registered. One critical section where registering, checking
    /// and (on "ready") unregistering took two: under contention the
    /// re-check often finds the channel changed, and the second
    /// acquisition of a lock the other side keeps taking cost more than
    /// the rest of the wait (`chan/async_mpsc_bounded1`).
    ///
    /// No wake-up is lost: `ready` runs after the SeqCst store of
    /// `is_empty = false`, as the re-check after `register` does (module
    /// docs). A notifier that saw that store meanwhile waits for the lock
    /// and then finds the entry gone: it claims the next waiter, or nobody,
    /// and the change it made is the one `ready` saw, which the caller now
    /// acts on itself.
    pub(crate) fn register_unless(
        &self,
        signal: &Arc<Signal>,
        case: usize,
        packet: *mut (),
        ready: impl FnOnce() -> bool,
    ) -> bool {
        let mut w = self.waiters.lock();
        w.register(signal, case, packet);
        // Relaxed: a hint, as in `unregister`.
        self.has_packets.store(w.has_packets(), Ordering::Relaxed);
        // SeqCst: one half of the Dekker pair described in the module docs.
        self.is_empty.store(false, Ordering::SeqCst);
        loom_dekker_fence();
        if !ready() {
            return false;
        }
        w.unregister_last();
        // Relaxed: as in `unregister`.
        self.is_empty.store(w.is_empty(), Ordering::Relaxed);
        self.has_packets.store(w.has_packets(), Ordering::Relaxed);
        true
    }

    /// Removes the entry of (`signal`, `case`); `true` if it was there.
    pub(crate) fn unregister(&self, signal: &Arc<Signal>, case: usize) -> bool {
        let mut w = self.waiters.lock();
        let found = w.unregister(signal, case).is_some();
        // Relaxed: written under the lock; readers that race only cause an
        // extra locked check.
        self.is_empty.store(w.is_empty(), Ordering::Relaxed);
        self.has_packets.store(w.has_packets(), Ordering::Relaxed);
        found
    }

    /// Whether no waiter is registered: the check `notify_one` and
    /// `notify_one_handing_off` start with (the second half of the Dekker
    /// pair in the module docs), for callers that have work to skip too.
    #[inline]
    pub(crate) fn is_idle(&self) -> bool {
        // SeqCst: as in `notify_one`.
        loom_dekker_fence();
        self.is_empty.load(Ordering::SeqCst)
    }

    /// Claims and wakes one waiter, if any. The caller has just made its
    /// change visible with a SeqCst read-modify-write.
    #[inline]
    pub(crate) fn notify_one(&self) {
        // SeqCst: the other half of the Dekker pair (module docs).
        loom_dekker_fence();
        if self.is_empty.load(Ordering::SeqCst) {
            return;
        }
        self.notify_one_slow();
    }

    #[cold]
    fn notify_one_slow(&self) {
        let claimed = {
            let mut w = self.waiters.lock();
            let e = w.claim(None, |_| true);
            self.is_empty.store(w.is_empty(), Ordering::Relaxed);
            self.has_packets.store(w.has_packets(), Ordering::Relaxed);
            e
        };
        if let Some(e) = claimed {
            e.signal.wake();
        }
    }

    /// As [`WaitList::notify_one`], for a list of blocked senders some of
    /// which left their value in a packet (`register_packet`): the first
    /// such sender has its value moved by `put` into the channel, which
    /// completes its send; `put` gives the value back if there is no room
    /// after all, and the sender waits on (see `signal.rs`, hand-off
    /// claims). Entries without a packet are claimed and woken as usual.
    #[inline]
    pub(crate) fn notify_one_handing_off<T>(&self, put: impl FnOnce(T) -> Result<(), T>) {
        // SeqCst: as in `notify_one`.
        loom_dekker_fence();
        if self.is_empty.load(Ordering::SeqCst) {
            return;
        }
        self.hand_off_slow(put);
    }

    #[cold]
    fn hand_off_slow<T>(&self, put: impl FnOnce(T) -> Result<(), T>) {
        let mut put = Some(put);
        let claimed = {
            let mut w = self.waiters.lock();
            let e = w.claim_with(None, |e| {
                if e.packet.is_null() {
                    return e.signal.try_claim(e.case);
                }
                // Once a hand-off found no room, stop: the buffer is full.
                if put.is_none() {
                    return false;
                }
                if !e.signal.begin_hand_off() {
                    // Decided already (its owner is leaving: a dropped
                    // `send_async`, a deadline): untouched, and `put` is
                    // kept for the next sender. (Taking `put` before this
                    // check lost the freed slot for every sender behind a
                    // withdrawing one: a thread blocked behind a dropped
                    // `send_async` slept next to a free slot; loom model
                    // `withdrawn_sender_passes_the_hand_off_on`.)
                    return false;
                }
                let put = put.take().expect("checked above");
                // SAFETY: `register_packet`'s contract: the packet is a live
                // `Option<T>` while the entry is listed (we hold the lock),
                // and with the signal `BUSY` its owner does not touch it
                // (its abort waits for `end_hand_off`).
                let packet = unsafe { &mut *e.packet.cast::<Option<T>>() };
                let v = packet
                    .take()
                    .expect("a waiting sender's packet holds its value");
                match put(v) {
                    Ok(()) => {
                        e.signal.end_hand_off(e.case, true);
                        true
                    }
                    Err(v) => {
                        *packet = Some(v);
                        e.signal.end_hand_off(e.case, false);
                        false
                    }
                }
            });
            self.is_empty.store(w.is_empty(), Ordering::Relaxed);
            self.has_packets.store(w.has_packets(), Ordering::Relaxed);
            e
        };
        if let Some(e) = claimed {
            e.signal.wake();
        }
    }

    /// Whether some waiter seemed to be registered; a hint (Relaxed), for
    /// a future deciding whether to spin (`Case::queued_ahead`), on which
    /// no wake-up depends.
    #[inline]
    pub(crate) fn seems_waited_on(&self) -> bool {
        // Relaxed: a hint (above).
        !self.is_empty.load(Ordering::Relaxed)
    }

    /// Whether some waiter seemed to have left a packet; a hint
    /// (Relaxed), so that [`WaitList::give`] is not tried, for the price of
    /// a lock, where only selects and futures wait. The no-lost-wake-up
    /// argument does not rest on it: a sender that skips the hand-over
    /// still notifies after its SeqCst index update.
    #[inline]
    pub(crate) fn may_give(&self) -> bool {
        // Relaxed: a hint (above).
        self.has_packets.load(Ordering::Relaxed)
    }

    /// Hands `v` straight to the first waiting receiver if it registered
    /// an empty packet (`register_packet`: a blocked thread, or a pending
    /// single-case receive future) and `may_give`,
    /// asked under the lock with that receiver's claim begun, agrees (the
    /// buffer must be empty, or the receiver would overtake values sent
    /// before `v`). The receiver wakes with `v` in its packet. `Err(v)`
    /// when the first waiter is of another kind, or there is none.
    pub(crate) fn give<T>(&self, v: T, may_give: impl FnOnce() -> bool) -> Result<(), T> {
        let mut v = Some(v);
        let mut may_give = Some(may_give);
        let mut stop = false;
        let claimed = {
            let mut w = self.waiters.lock();
            let e = w.claim_with(None, |e| {
                if stop {
                    return false;
                }
                if e.packet.is_null() {
                    // A select or a future, woken to take the value
                    // itself: the caller sends into the buffer and
                    // notifies.
                    stop = true;
                    return false;
                }
                if !e.signal.begin_hand_off() {
                    // Decided already (its owner is leaving): look further.
                    return false;
                }
                stop = true;
                if !may_give.take().is_some_and(|may| may()) {
                    e.signal.end_hand_off(e.case, false);
                    return false;
                }
                // SAFETY: `register_packet`'s contract: the packet is a
                // live `Option<T>` while the entry is listed (we hold the
                // lock), and with the signal `BUSY` its owner does not
                // touch it. A waiting receiver's packet is empty.
                let packet = unsafe { &mut *e.packet.cast::<Option<T>>() };
                debug_assert!(packet.is_none(), "a waiting receiver's packet is empty");
                *packet = v.take();
                e.signal.end_hand_off(e.case, true);
                true
            });
            self.is_empty.store(w.is_empty(), Ordering::Relaxed);
            self.has_packets.store(w.has_packets(), Ordering::Relaxed);
            e
        };
        match claimed {
            Some(e) => {
                e.signal.wake();
                Ok(())
            }
            None => Err(v.take().expect("the value was not given")),
        }
    }

    /// Claims and wakes every waiter (the channel closed). The caller has
    /// just made the close visible with a SeqCst read-modify-write, so an
    /// empty list can be skipped without its lock, as in `notify_one`.
    pub(crate) fn notify_all(&self) {
        // SeqCst: the other half of the Dekker pair (module docs).
        loom_dekker_fence();
        if self.is_empty.load(Ordering::SeqCst) {
            return;
        }
        let claimed = {
            let mut w = self.waiters.lock();
            let all = w.claim_all();
            self.is_empty.store(true, Ordering::Relaxed);
            self.has_packets.store(false, Ordering::Relaxed);
            all
        };
        for e in claimed {
            e.signal.wake();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use core::task::Waker;

    use super::WaitList;
    use crate::primitives::Arc;
    use crate::signal::{ABORTED, SELECTED, Signal, WAITING};

    /// A list with two blocked senders, `a` then `b`, whose values wait in
    /// the packets `pa` and `pb` (which the caller keeps alive).
    fn two_blocked_senders(
        pa: *mut Option<u32>,
        pb: *mut Option<u32>,
    ) -> (WaitList, Arc<Signal>, Arc<Signal>) {
        let list = WaitList::new();
        let a = Signal::prepare_task(&mut None, Waker::noop()).clone();
        let b = Signal::prepare_task(&mut None, Waker::noop()).clone();
        list.register_packet(&a, 0, pa.cast());
        list.register_packet(&b, 0, pb.cast());
        (list, a, b)
    }

    /// A hand-off passes over a sender whose wait is already decided (it
    /// is withdrawing and has not removed its entry yet) to the next
    /// blocked sender, which would otherwise sleep on while the slot freed
    /// for it stays free.
    #[test]
    fn hand_off_passes_over_a_sender_that_aborted() {
        let (mut pa, mut pb) = (Some(1u32), Some(2u32));
        let (list, a, b) = two_blocked_senders(&raw mut pa, &raw mut pb);
        assert_eq!(a.try_abort(), ABORTED);
        let mut put = None;
        list.notify_one_handing_off(|v: u32| {
            put = Some(v);
            Ok(())
        });
        assert_eq!(put, Some(2), "the next sender's value is moved");
        assert_eq!(b.state(), SELECTED);
        assert!(
            list.unregister(&a, 0),
            "the aborted entry is its owner's to remove"
        );
        assert!(!list.unregister(&b, 0), "the claimed entry is gone");
        assert_eq!((pa, pb), (Some(1), None));
    }

    /// A hand-off that finds no room puts the value back, leaves the
    /// sender waiting and registered, and tries no later sender.
    #[test]
    fn failed_hand_off_leaves_the_sender_waiting() {
        let (mut pa, mut pb) = (Some(1u32), Some(2u32));
        let (list, a, b) = two_blocked_senders(&raw mut pa, &raw mut pb);
        let mut tries = 0;
        list.notify_one_handing_off(|v: u32| {
            tries += 1;
            Err(v)
        });
        assert_eq!(tries, 1);
        assert_eq!((a.state(), b.state()), (WAITING, WAITING));
        assert!(list.unregister(&a, 0) && list.unregister(&b, 0));
        assert_eq!((pa, pb), (Some(1), Some(2)));
    }
}
