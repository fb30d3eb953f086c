//! The channel flavors. The public handles (`channel.rs`) pick one per
//! channel and dispatch to it through an enum; no flavor reaches into
//! another.
//!
//! | flavor  | made by            | structure                                   |
//! |---------|--------------------|---------------------------------------------|
//! | `array` | `bounded(n)`, n > 0 | ring of stamped slots, lock-free            |
//! | `list`  | `unbounded()`      | linked blocks of slots, lock-free           |
//! | `zero`  | `bounded(0)`       | waiting senders and receivers under a lock  |
//! | `at`    | `after(d)`         | one instant, no storage                     |
//! | `tick`  | `tick(d)`          | the next due instant in one atomic          |
//! | `never` | `never()`          | nothing                                     |
//!
//! Every flavor offers the same operations: `try_send`/`try_recv`, the
//! blocking `send`/`recv` with an optional deadline, and for `select!` and
//! futures `register_*`/`unregister_*`/`is_*_ready`, with which a wait is
//! put on the flavor's waiter lists (`waitlist.rs`, `signal.rs`).

pub(crate) mod array;
pub(crate) mod at;
pub(crate) mod list;
pub(crate) mod never;
pub(crate) mod tick;
pub(crate) mod zero;

use crate::primitives::{spin_budget, spin_hint, yield_now};

/// Busy-waiting on the channel itself before registering as a waiter.
///
/// `spin` is for retrying a lost CAS (always short), `snooze` for waiting
/// on another thread's progress (an in-flight write, a full buffer): bursts
/// of `spin_loop` while the process may use several cores, then yields.
pub(crate) struct Backoff {
    step: u32,
}

impl Backoff {
    pub(crate) fn new() -> Self {
        Backoff { step: 0 }
    }

    /// After a lost CAS race.
    #[inline]
    pub(crate) fn spin(&mut self) {
        for _ in 0..(1u32 << self.step.min(4)) {
            spin_hint();
        }
        self.step += 1;
    }

    /// While waiting for another thread; yields once spinning is over.
    #[inline]
    pub(crate) fn snooze(&mut self) {
        if self.step < spin_budget().min(7) {
            for _ in 0..(1u32 << self.step) {
                spin_hint();
            }
        } else {
            yield_now();
        }
        self.step += 1;
    }

    /// Whether the caller has waited long enough to register and park.
    #[inline]
    ///
    /// Under loom at once: a waiter that yields before registering is not
    /// run again while another thread can run, which would hide the
    /// "registered before the other side acted" interleavings the models
    /// exist to check.
    pub(crate) fn is_completed(&self) -> bool {
        cfg!(loom) || self.step >= spin_budget().min(7)
    }
}

use crate::err::{RecvTimeoutError, TryRecvError};
use crate::primitives::Instant;
use crate::signal::{ABORTED, Signal};
use crate::waitlist::WaitList;

/// Runs `attempt` with backoff until it gives a result, or until the
/// backoff says it is time to register and wait (`None`).
pub(crate) fn try_with_backoff<R>(mut attempt: impl FnMut() -> Option<R>) -> Option<R> {
    let mut backoff = Backoff::new();
    loop {
        if let Some(r) = attempt() {
            return Some(r);
        }
        if backoff.is_completed() {
            return None;
        }
        backoff.snooze();
    }
}

/// The blocking loop of the unbounded flavor's receive: try `attempt`
/// (`Some` when finished, with a value or a closed-channel error) with
/// backoff, then
/// register on `list`, check `ready` once more (a counterpart that changed
/// the channel before seeing the registration is caught here; see
/// `waitlist.rs`), and sleep until claimed or `deadline`. Returns `None` when
/// the deadline passed first.
pub(crate) fn block<R>(
    list: &WaitList,
    deadline: Option<Instant>,
    mut attempt: impl FnMut() -> Option<R>,
    ready: impl Fn() -> bool,
) -> Option<R> {
    loop {
        let done = try_with_backoff(&mut attempt);
        if done.is_some() {
            return done;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return None;
        }
        Signal::with_thread(|signal| {
            // Ready at the re-check: nothing stayed registered, go round.
            if list.register_unless(signal, 0, core::ptr::null_mut(), &ready) {
                return;
            }
            if signal.wait(deadline) == ABORTED {
                list.unregister(signal, 0);
            }
        });
    }
}

/// A blocking receive on a lock-free flavor: [`block`] around its
/// `try_recv`, with `ready` as the re-check after registering.
pub(crate) fn block_recv<T>(
    receivers: &WaitList,
    deadline: Option<Instant>,
    try_recv: impl Fn() -> Result<T, TryRecvError>,
    ready: impl Fn() -> bool,
) -> Result<T, RecvTimeoutError> {
    block(
        receivers,
        deadline,
        || match try_recv() {
            Ok(v) => Some(Ok(v)),
            Err(TryRecvError::Closed) => Some(Err(RecvTimeoutError::Closed)),
            Err(TryRecvError::Empty) => None,
        },
        ready,
    )
    .unwrap_or(Err(RecvTimeoutError::Timeout))
}

/// Drops every value still in a closed channel (its last receiver left),
/// receiving them one by one with `try_recv`; ends at `Closed`, which a
/// closed channel reports once it is empty.
pub(crate) fn discard_all<T>(mut try_recv: impl FnMut() -> Result<T, TryRecvError>) {
    loop {
        match try_recv() {
            Ok(v) => drop(v),
            Err(TryRecvError::Closed) => return,
            Err(TryRecvError::Empty) => unreachable!("discard_all on an open channel"),
        }
    }
}
