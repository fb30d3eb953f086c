//! Wake-ups at an instant for futures: a pending receive on an `after` or
//! `tick` channel, a `select_async!` with `default(timeout)`, a context
//! deadline.
//!
//! Threads sleep for their deadlines themselves; a future needs somebody to
//! wake it. One background thread, started on first use, keeps a heap of
//! (instant, waker slot) and sleeps on a condition variable until the
//! earliest. A [`Sleep`] owns its slot; dropping the `Sleep` empties the
//! slot, and the thread discards the entry when it falls due. Timers are
//! rare next to channel operations, so one lock is plenty.

use core::cmp::Reverse;
use core::task::{Context, Poll, Waker};
use std::collections::BinaryHeap;
use std::sync::Arc;

use crate::primitives::{Instant, StdCondvar, StdMutex, spawn_background};

/// Where the timer thread finds a waker to wake. Emptying it (`take`)
/// withdraws the wake-up; the heap entry is discarded when it falls due.
pub(crate) type Slot = Arc<StdMutex<Option<Waker>>>;

struct Due {
    at: Instant,
    seq: u64,
    slot: Slot,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Due {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

struct Timers {
    /// The heap, the last sequence number, whether the thread runs, and
    /// the heap size at which abandoned entries are purged.
    heap: StdMutex<(BinaryHeap<Reverse<Due>>, u64, bool, usize)>,
    changed: StdCondvar,
}

/// Below this many entries the heap is never purged.
const PURGE_MIN: usize = 64;

fn timers() -> &'static Timers {
    static TIMERS: std::sync::OnceLock<Timers> = std::sync::OnceLock::new();
    TIMERS.get_or_init(|| Timers {
        heap: StdMutex::new((BinaryHeap::new(), 0, false, PURGE_MIN)),
        changed: StdCondvar::new(),
    })
}

fn run(t: &'static Timers) {
    let mut guard = t.heap.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let now = Instant::now();
        let mut fired = Vec::new();
        while guard.0.peek().is_some_and(|d| d.0.at <= now) {
            fired.push(guard.0.pop().expect("peeked").0.slot);
        }
        if !fired.is_empty() {
            drop(guard);
            for slot in fired {
                let w = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
                if let Some(w) = w {
                    w.wake();
                }
            }
            guard = t.heap.lock().unwrap_or_else(|e| e.into_inner());
            continue;
        }
        guard = match guard.0.peek().map(|d| d.0.at) {
            Some(at) => {
                t.changed
                    .wait_timeout(guard, at.saturating_duration_since(now))
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
            None => t.changed.wait(guard).unwrap_or_else(|e| e.into_inner()),
        };
    }
}

/// Wakes `waker` at `at` (on the timer thread). Returns the slot that
/// holds the waker until then; taking the waker out of it cancels the
/// wake-up.
pub(crate) fn wake_at(at: Instant, waker: Waker) -> Slot {
    let slot: Slot = Arc::new(StdMutex::new(Some(waker)));
    let t = timers();
    let mut g = t.heap.lock().unwrap_or_else(|e| e.into_inner());
    if !g.2 {
        g.2 = true;
        spawn_background("hoare-chan-timer", move || run(t));
    }
    if g.0.len() >= g.3 {
        // Abandoned entries (their `Sleep` or context was dropped: nobody
        // else holds the slot and it has no waker) would otherwise stay
        // until they fall due, an hour later for a long timeout in a
        // loop. Purging whenever the heap has doubled keeps it within
        // twice the live timers, at O(1) amortized cost per timer.
        g.0.retain(|d| {
            Arc::strong_count(&d.0.slot) > 1
                || d.0.slot.lock().unwrap_or_else(|e| e.into_inner()).is_some()
        });
        g.3 = (2 * g.0.len()).max(PURGE_MIN);
    }
    g.1 += 1;
    let seq = g.1;
    let earliest = g.0.peek().is_none_or(|d| at < d.0.at);
    g.0.push(Reverse(Due {
        at,
        seq,
        slot: slot.clone(),
    }));
    drop(g);
    if earliest {
        t.changed.notify_one();
    }
    slot
}

/// A pending wake-up at `at` for whichever task polls it.
#[derive(Debug)]
pub(crate) struct Sleep {
    at: Instant,
    slot: Option<Slot>,
}

impl Sleep {
    pub(crate) fn new(at: Instant) -> Self {
        Sleep { at, slot: None }
    }

    pub(crate) fn at(&self) -> Instant {
        self.at
    }

    /// Ready once `at` has passed; otherwise arranges a wake-up of the
    /// current task at `at`.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.at {
            return Poll::Ready(());
        }
        match &self.slot {
            Some(slot) => {
                let mut w = slot.lock().unwrap_or_else(|e| e.into_inner());
                match &*w {
                    Some(old) if old.will_wake(cx.waker()) => {}
                    _ => *w = Some(cx.waker().clone()),
                }
            }
            None => self.slot = Some(wake_at(self.at, cx.waker().clone())),
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(slot) = &self.slot {
            slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        }
    }
}
