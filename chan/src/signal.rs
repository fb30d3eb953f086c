//! [`Signal`]: the claim word of one pending wait.
//!
//! Every wait on a channel — a thread blocked in `send`/`recv`, a blocking
//! `select!`, a pending future — owns one `Signal` in an [`Arc`] and puts
//! one entry per channel it waits on into that channel's waiter list
//! (`waitlist.rs`). A `select!` over four channels has four entries and one
//! signal. The signal's `state` word decides, by a single compare-and-swap,
//! which of the racing parties gets the waiter:
//!
//! | state            | meaning                                                |
//! |------------------|--------------------------------------------------------|
//! | `WAITING`        | registered, nobody has claimed it                      |
//! | `ABORTED`        | the waiter withdrew (deadline, or it found a ready case itself) |
//! | `SELECTED + i`   | a counterpart claimed case `i` of this wait            |
//! | `BUSY`           | a counterpart is handing a blocked sender's value over (below) |
//!
//! Invariants:
//!
//! 1. `state` leaves `WAITING` exactly once per wait, by a CAS. So exactly
//!    one case of a select fires, and a deadline and a counterpart can never
//!    both win: whoever's CAS succeeds decides.
//! 2. A counterpart claims a signal only while holding the lock of the list
//!    the entry sits in, and the waiter removes its entries under those
//!    locks before it finishes. So once a wait is over no one can claim its
//!    signal any more, and the per-thread signal can be reused by the next
//!    wait after a `reset`. (A late `wake` from a claimer that already
//!    released the lock is a spurious wake-up, which every wait tolerates.)
//! 3. Waking (unpark, `Waker::wake`) happens after the list lock is
//!    released, so no user waker runs under a channel lock.
//!
//! What a claim *means* is the flavor's business: for the buffered and
//! unbounded flavors it means "your case may be ready now, try it again";
//! for the unbuffered flavor a claimed thread waiter also has its value
//! handed over through the entry's packet (`flavors/zero.rs`).
//!
//! # Hand-off claims (`BUSY`)
//!
//! A thread blocked sending on a full buffered channel leaves its value in
//! its entry's packet, and a receiver that frees a slot moves that value
//! into the ring for it (`flavors/array.rs`, as Go's `chanrecv` does). The
//! receiver cannot know that the move will succeed (another sender may
//! take the freed slot first) until it has tried, so it claims in two
//! steps, under the list lock: [`Signal::begin_hand_off`] moves `WAITING`
//! to `BUSY` (the owner's abort cannot win meanwhile), and
//! [`Signal::end_hand_off`] moves `BUSY` to `SELECTED + i` (value
//! delivered) or back to `WAITING` (not delivered; the owner waits on, still
//! registered). An owner that finds `BUSY` keeps waiting, or, to abort,
//! waits for the outcome; the receiver holds `BUSY` only for one attempt to
//! put a value into the ring. Invariant 1 holds with `BUSY` as part of the
//! one transition out of `WAITING`: it is either undone or completed.
//!
//! # Blocking waits spin, yield, then park
//!
//! A blocked thread first watches its `state` for a while: up to
//! [`spin_budget`] rounds of growing `spin_loop` bursts (a few microseconds,
//! adapted per thread by how the last waits went), since a counterpart
//! running on another core usually arrives within a few hundred
//! nanoseconds, far less than a futex sleep and wake (~30 µs here). Then it
//! yields up to `YIELDS` times, which hands the core to the counterpart
//! when threads outnumber cores, and only then parks. Spinning is off when
//! one core is usable.

use core::mem::MaybeUninit;
use core::task::Waker;

use crate::primitives::{
    Arc, AtomicUsize, Instant, Ordering, RawCell, Thread, UnsafeCell, current_thread, park,
    park_until, spin_burst, spin_outcome, spin_rounds,
};

/// Nobody has claimed the wait yet.
pub(crate) const WAITING: usize = 0;
/// The waiter withdrew; no case fired through the signal.
pub(crate) const ABORTED: usize = 1;
/// `SELECTED + i`: case `i` was claimed by a counterpart.
pub(crate) const SELECTED: usize = 2;
/// A counterpart is handing the owner's value over (module docs).
pub(crate) const BUSY: usize = usize::MAX;

/// `yield`s between spinning and parking (none under loom: they would only
/// hide interleavings, as in `Backoff::is_completed`). Many: a yield that
/// finds no other thread to run returns in well under a microsecond, and
/// one that finds some (more runnable threads than cores, or one core) lets
/// the partner we wait for run at once, where a park and an unpark would
/// cost two futex calls and a wake-up latency each time.
#[cfg(not(loom))]
const YIELDS: u32 = 64;

/// How a claimed waiter is woken.
enum Wake {
    Thread(Thread),
    /// The task's waker. Written only through [`Signal::prepare_task`] and
    /// [`Signal::recycle_task`], with the only handle to the signal
    /// (`Arc::get_mut`): while a list entry or a claimer holds the signal,
    /// the waker is read-only, so reading it (`wake`, `will_wake`) needs no
    /// lock.
    Task(UnsafeCell<Option<Waker>>),
}

/// The claim word of one wait, plus how to wake its owner.
///
/// Public only because the `select!` macros name the [`Case`] trait, whose
/// methods take it; it has no public methods.
///
/// [`Case`]: crate::__private::Case
#[doc(hidden)]
pub struct Signal {
    state: AtomicUsize,
    wake: Wake,
    /// Room for the packet of a single-case wait (a `recv_async` or
    /// `send_async` future, a sink), so that such a wait needs no heap
    /// packet when the value is small ([`Signal::packet_room`],
    /// `OwnedPacket::in_room`).
    room: RawCell<MaybeUninit<[usize; ROOM_WORDS]>>,
}

/// The size of [`Signal::packet_room`] in words: an `Option` of up to
/// three words natively (a `u64`, a `String`, a `Vec`); more under loom,
/// whose cells carry tracking state, so that the models use the room too.
#[cfg(not(loom))]
pub(crate) const ROOM_WORDS: usize = 4;
#[cfg(loom)]
pub(crate) const ROOM_WORDS: usize = 16;

// SAFETY: `state` is atomic; a `Thread` and a `Waker` are `Send + Sync`.
// The waker cell is written only through `&mut Signal` (`Arc::get_mut`,
// the only handle), so threads sharing a `&Signal` only ever read it. The
// packet room is used as a packet (`OwnedPacket::in_room`), under the
// packets' rules: touched by a counterpart only under the channel lock
// while the wait's entry is listed, and by the owner otherwise. A value
// reaches another thread through the room only over a channel shared
// between threads, whose handles are `Send` only when the value is, and
// the room is empty whenever the signal waits in a pool.
unsafe impl Sync for Signal {}
// SAFETY: as above; every field may move between threads.
unsafe impl Send for Signal {}

impl core::fmt::Debug for Signal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Signal")
            .field("state", &self.state.load(Ordering::Relaxed))
            .finish()
    }
}

impl Signal {
    fn new(wake: Wake) -> Self {
        Signal {
            state: AtomicUsize::new(WAITING),
            wake,
            room: RawCell::new(MaybeUninit::uninit()),
        }
    }

    /// The signal's packet room as a place for a `P`, if a `P` fits in it
    /// (size and alignment); `None` otherwise. The room is raw memory: its
    /// user writes a `P` into it and must drop or move that out again
    /// (`OwnedPacket::in_room` and its `Drop`), and at most one user at a
    /// time may have it: the one case of a single-case wait.
    pub(crate) fn packet_room<P>(&self) -> Option<core::ptr::NonNull<P>> {
        let fits = size_of::<P>() <= size_of::<[usize; ROOM_WORDS]>()
            && align_of::<P>() <= align_of::<[usize; ROOM_WORDS]>();
        fits.then(|| core::ptr::NonNull::new(self.room.get().cast::<P>()).expect("non-null"))
    }

    /// Makes `slot` hold a signal for a new wait of a future that will be
    /// woken through `waker`, and returns it, state `WAITING`. The future
    /// has removed every entry of its last wait (invariant 2), so nobody
    /// can claim the signal any more; a claimer may still be about to call
    /// [`Signal::wake`] on it, which is then a spurious wake-up.
    ///
    /// The signal in `slot` is reused when its waker already wakes
    /// `waker`'s task (the common case: the same task polls again), or
    /// when nobody else holds it, so that the waker may be replaced.
    /// Otherwise it is let go and one is taken from the calling thread's
    /// small pool of finished task signals (see [`Signal::recycle_task`])
    /// or allocated, so an executor thread that polls many short-lived
    /// futures rarely allocates.
    pub(crate) fn prepare_task<'s>(
        slot: &'s mut Option<Arc<Signal>>,
        waker: &Waker,
    ) -> &'s Arc<Signal> {
        let reusable = slot.as_mut().is_some_and(|s| {
            // The same task waits again: the waker is right as it is, and
            // finding that out takes no read-modify-write.
            s.will_wake(waker)
                || Arc::get_mut(s).is_some_and(|only| {
                    // SAFETY: `get_mut` proved this handle the only one.
                    unsafe { only.set_waker(waker) };
                    true
                })
        });
        if !reusable {
            let fresh = match cache::take_task() {
                Some(cached) => {
                    // SAFETY: the pool holds only signals that
                    // `recycle_task` found unshared, and a pooled signal is
                    // in no list, so nobody can have cloned it since: this
                    // handle is the only one. (Trusting that, instead of
                    // asking `Arc::get_mut`, saves a compare-and-swap on
                    // every new future's first wait.)
                    unsafe { cached.set_waker(waker) };
                    cached
                }
                None => Arc::new(Signal::new(Wake::Task(UnsafeCell::new(Some(
                    waker.clone(),
                ))))),
            };
            *slot = Some(fresh);
        }
        let signal = slot.as_ref().expect("set above");
        // Relaxed: by the invariant nobody else touches the state now; the
        // list locks taken to register publish it.
        signal.state.store(WAITING, Ordering::Relaxed);
        signal
    }

    /// Makes a task signal wake `waker` (the waker it holds is kept if it
    /// wakes the same task).
    ///
    /// # Safety
    /// The caller's handle is the only one to the signal, so nobody reads
    /// the waker meanwhile.
    unsafe fn set_waker(&self, waker: &Waker) {
        if let Wake::Task(w) = &self.wake {
            // SAFETY: the caller's promise: this is the only access.
            let w = unsafe { &mut *w.get() };
            if !w.as_ref().is_some_and(|old| old.will_wake(waker)) {
                *w = Some(waker.clone());
            }
        }
    }

    /// Returns a task signal to the pool once its future is done with it;
    /// kept only if nobody else holds it (no list entry, no claimer about
    /// to wake it).
    pub(crate) fn recycle_task(mut signal: Arc<Signal>) {
        if let Some(s) = Arc::get_mut(&mut signal) {
            if let Wake::Task(w) = &mut s.wake {
                // SAFETY: `get_mut`: the only handle.
                let w = unsafe { &mut *w.get() };
                // Drop the waker now: it may keep a task alive.
                *w = None;
                cache::put_task(signal);
            }
        }
    }

    /// Whether a claim would wake the task `waker` wakes (so a future
    /// polled again while it waits needs to do nothing).
    pub(crate) fn will_wake(&self, waker: &Waker) -> bool {
        match &self.wake {
            Wake::Thread(_) => false,
            Wake::Task(w) => {
                // SAFETY: the waker is written only through
                // `prepare_task`, with the only handle; we hold one.
                let w = unsafe { &*w.get_shared() };
                w.as_ref().is_some_and(|old| old.will_wake(waker))
            }
        }
    }

    /// Runs `f` with a signal for the calling thread, reset to `WAITING`.
    ///
    /// The signal is cached per thread (one allocation per thread, not per
    /// wait); a nested wait on the same thread gets a fresh one.
    pub(crate) fn with_thread<R>(f: impl FnOnce(&Arc<Signal>) -> R) -> R {
        let signal =
            cache::take().unwrap_or_else(|| Arc::new(Signal::new(Wake::Thread(current_thread()))));
        // Relaxed: by invariant 2 nobody else can touch the state now; the
        // list locks taken to register it publish the reset.
        signal.state.store(WAITING, Ordering::Relaxed);
        let r = f(&signal);
        cache::put(signal);
        r
    }

    /// The current state (`WAITING`, `ABORTED` or `SELECTED + i`).
    #[inline]
    pub(crate) fn state(&self) -> usize {
        // Acquire: pairs with the AcqRel CAS in `try_claim`, so what the
        // claimer wrote before claiming (a handed-over packet) is visible.
        self.state.load(Ordering::Acquire)
    }

    /// Claims case `case` of this wait; `false` if already claimed or
    /// aborted. Called with the lock of the list holding the entry.
    #[inline]
    pub(crate) fn try_claim(&self, case: usize) -> bool {
        // AcqRel: Release publishes the claimer's earlier writes to the
        // waiter's Acquire load in `state`; Acquire orders the claimer after
        // the waiter's registration.
        self.state
            .compare_exchange(
                WAITING,
                SELECTED + case,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }

    /// Withdraws the wait; returns the final state: `ABORTED` if the
    /// withdrawal won, the claimed `SELECTED + i` if a counterpart was
    /// first. A hand-off in progress (`BUSY`) is waited out.
    #[inline]
    pub(crate) fn try_abort(&self) -> usize {
        loop {
            // AcqRel/Acquire: on failure we read a claim and must see what
            // the claimer wrote before it (pairs with `try_claim` and
            // `end_hand_off`).
            match self
                .state
                .compare_exchange(WAITING, ABORTED, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return ABORTED,
                Err(BUSY) => crate::primitives::yield_now(),
                Err(s) => return s,
            }
        }
    }

    /// First step of a hand-off claim (module docs): `false` if the wait
    /// was already decided. Called with the lock of the list holding the
    /// entry; [`Signal::end_hand_off`] must follow before it is released.
    #[inline]
    pub(crate) fn begin_hand_off(&self) -> bool {
        // Acquire: orders our reads of the owner's packet after its
        // registration (as `try_claim`).
        self.state
            .compare_exchange(WAITING, BUSY, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Second step of a hand-off claim: `delivered` claims case `case`
    /// (the caller wakes the owner after releasing the lock); otherwise the
    /// wait is back to `WAITING`, as if nothing happened.
    #[inline]
    pub(crate) fn end_hand_off(&self, case: usize, delivered: bool) {
        let to = if delivered { SELECTED + case } else { WAITING };
        // Release: publishes what we did to the packet to the owner's
        // Acquire load in `state` (or in its `try_abort`).
        self.state.store(to, Ordering::Release);
    }

    /// Whether `self` and `other` are the same wait.
    #[inline]
    pub(crate) fn same(&self, other: &Signal) -> bool {
        core::ptr::eq(self, other)
    }

    /// Wakes the owner after a claim. Call without holding any list lock.
    pub(crate) fn wake(&self) {
        match &self.wake {
            Wake::Thread(t) => t.unpark(),
            Wake::Task(w) => {
                // SAFETY: as in `will_wake`: read-only while shared.
                if let Some(w) = unsafe { &*w.get_shared() } {
                    w.wake_by_ref();
                }
            }
        }
    }

    /// Blocks the calling thread (the signal's owner) until the signal is
    /// claimed or `deadline` passes; returns the final state, having
    /// aborted the wait on timeout. Spins first; see the module docs.
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> usize {
        let budget = spin_rounds();
        let mut round = 0;
        while round < budget {
            let s = self.state();
            if s != WAITING && s != BUSY {
                spin_outcome(Some(round));
                return s;
            }
            spin_burst(round);
            round += 1;
        }
        if budget > 0 {
            spin_outcome(None);
        }
        // Yielding costs far less than a sleep and a wake when the
        // counterpart is runnable on our core (one usable core, or more
        // threads than cores): it runs now, and we often find ourselves
        // claimed when we are scheduled again.
        #[cfg(not(loom))]
        for _ in 0..YIELDS {
            crate::primitives::yield_now();
            let s = self.state();
            if s != WAITING && s != BUSY {
                return s;
            }
        }
        loop {
            let s = self.state();
            if s != WAITING && s != BUSY {
                return s;
            }
            match deadline {
                None => park(),
                Some(d) => {
                    if Instant::now() >= d {
                        return self.try_abort();
                    }
                    park_until(d);
                }
            }
        }
    }
}

/// The per-thread signal cache of [`Signal::with_thread`].
#[cfg(not(loom))]
mod cache {
    use super::Signal;
    use crate::primitives::Arc;
    use std::cell::Cell;

    std::thread_local! {
        static CACHED: Cell<Option<Arc<Signal>>> = const { Cell::new(None) };
    }

    pub(super) fn take() -> Option<Arc<Signal>> {
        CACHED.try_with(Cell::take).ok().flatten()
    }

    pub(super) fn put(signal: Arc<Signal>) {
        let _ = CACHED.try_with(|c| c.set(Some(signal)));
    }

    /// At most this many idle task signals per thread.
    const TASK_POOL: usize = 8;

    std::thread_local! {
        static TASKS: std::cell::RefCell<Vec<Arc<Signal>>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }

    pub(super) fn take_task() -> Option<Arc<Signal>> {
        TASKS
            .try_with(|t| t.try_borrow_mut().ok().and_then(|mut t| t.pop()))
            .ok()
            .flatten()
    }

    pub(super) fn put_task(signal: Arc<Signal>) {
        let _ = TASKS.try_with(|t| {
            if let Ok(mut t) = t.try_borrow_mut() {
                if t.len() < TASK_POOL {
                    t.push(signal);
                }
            }
        });
    }
}

/// Under loom every wait allocates: a loom `Arc` must not outlive the model
/// in a thread-local.
#[cfg(loom)]
mod cache {
    use super::Signal;
    use crate::primitives::Arc;

    pub(super) fn take() -> Option<Arc<Signal>> {
        None
    }

    pub(super) fn put(signal: Arc<Signal>) {
        drop(signal);
    }

    pub(super) fn take_task() -> Option<Arc<Signal>> {
        None
    }

    pub(super) fn put_task(signal: Arc<Signal>) {
        drop(signal);
    }
}
