//! Timers driven by the runtime: [`sleep`], [`timeout`], [`interval`].
//!
//! A timer is an entry in the runtime's heap, ordered by deadline. The
//! runtime's monitor thread (`runtime.rs`, Go's sysmon) sleeps until the
//! earliest deadline (or its next check of the workers, whichever comes
//! first), fires every entry that is due and wakes its task. A timer that
//! is dropped before it fires is marked cancelled and skipped; the entry
//! itself leaves the heap when its deadline comes.
//!
//! Each entry's `state` goes from `ARMED` to `FIRED` or `CANCELLED` by one
//! CAS, so the count of pending timers (used by the deadlock check: a
//! pending timer is a future wake-up) is decremented exactly once.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::AtomicU8;
use std::time::{Duration, Instant};

use crate::primitives::{Arc, AtomicUsize, Condvar, Mutex, Ordering, lock};
use crate::runtime::{Shared, current_shared};

const ARMED: u8 = 0;
const FIRED: u8 = 1;
const CANCELLED: u8 = 2;

pub(crate) struct Timers {
    heap: Mutex<Heap>,
    /// Signalled when an earlier deadline is added, or at shutdown.
    pub(crate) changed: Condvar,
    pending: AtomicUsize,
}

#[derive(Default)]
pub(crate) struct Heap {
    entries: BinaryHeap<Reverse<Due>>,
    seq: u64,
}

struct Due {
    at: Instant,
    seq: u64,
    entry: Arc<Entry>,
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

struct Entry {
    state: AtomicU8,
    waker: Mutex<Option<Waker>>,
}

impl Timers {
    pub(crate) fn new() -> Self {
        Timers {
            heap: Mutex::new(Heap::default()),
            changed: Condvar::new(),
            pending: AtomicUsize::new(0),
        }
    }

    /// How many timers are armed (not fired, not dropped).
    pub(crate) fn pending(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }

    fn add(&self, at: Instant, waker: &Waker) -> Arc<Entry> {
        let entry = Arc::new(Entry {
            state: AtomicU8::new(ARMED),
            waker: Mutex::new(Some(waker.clone())),
        });
        self.pending.fetch_add(1, Ordering::SeqCst);
        let mut h = lock(&self.heap);
        let seq = h.seq;
        h.seq += 1;
        let earliest = h.entries.peek().is_none_or(|Reverse(d)| at < d.at);
        h.entries.push(Reverse(Due {
            at,
            seq,
            entry: entry.clone(),
        }));
        drop(h);
        if earliest {
            self.changed.notify_one();
        }
        entry
    }

    fn cancel(&self, entry: &Entry) {
        if entry
            .state
            .compare_exchange(ARMED, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            lock(&entry.waker).take();
        }
    }

    /// Fires every due entry: returns the next deadline, if any, and the
    /// wakers to wake once the caller (the monitor thread) has released
    /// the heap lock (`guard`).
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn fire_due(&self, guard: &mut Heap, now: Instant) -> (Option<Instant>, Vec<Waker>) {
        let mut wake = Vec::new();
        while let Some(Reverse(d)) = guard.entries.peek() {
            if d.at > now {
                break;
            }
            let Some(Reverse(d)) = guard.entries.pop() else {
                break;
            };
            if d.entry
                .state
                .compare_exchange(ARMED, FIRED, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                if let Some(w) = lock(&d.entry.waker).take() {
                    wake.push(w);
                }
                self.pending.fetch_sub(1, Ordering::SeqCst);
            }
        }
        (guard.entries.peek().map(|Reverse(d)| d.at), wake)
    }

    pub(crate) fn heap(&self) -> &Mutex<Heap> {
        &self.heap
    }

    /// Cancels every timer (shutdown).
    pub(crate) fn clear(&self) {
        let entries = core::mem::take(&mut lock(&self.heap).entries);
        for Reverse(d) in entries {
            self.cancel(&d.entry);
        }
        self.changed.notify_all();
    }
}

/// Waits until `duration` has passed: Go's `time.Sleep` for goroutines.
///
/// # Panics
/// When polled outside a hoare-sched runtime (timers are driven by the
/// runtime).
///
/// ```
/// use std::time::{Duration, Instant};
/// let rt = hoare_sched::Runtime::builder().procs(1).build();
/// let t = Instant::now();
/// rt.block_on(hoare_sched::sleep(Duration::from_millis(5)));
/// assert!(t.elapsed() >= Duration::from_millis(5));
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(Instant::now() + duration)
}

/// Waits until `deadline`.
///
/// # Panics
/// As [`sleep`].
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        entry: None,
        shared: None,
    }
}

/// The future of [`sleep`] and [`sleep_until`].
#[must_use = "futures do nothing unless polled"]
pub struct Sleep {
    deadline: Instant,
    entry: Option<Arc<Entry>>,
    shared: Option<Arc<Shared>>,
}

impl core::fmt::Debug for Sleep {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .finish()
    }
}

impl Sleep {
    /// When the sleep ends.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Moves the deadline (an armed timer is replaced).
    pub fn reset(&mut self, deadline: Instant) {
        self.disarm();
        self.deadline = deadline;
    }

    fn disarm(&mut self) {
        if let (Some(e), Some(s)) = (self.entry.take(), &self.shared) {
            s.timers.cancel(&e);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            self.disarm();
            return Poll::Ready(());
        }
        if let Some(e) = &self.entry {
            if e.state.load(Ordering::Acquire) == FIRED {
                self.entry = None;
                return Poll::Ready(());
            }
            let mut w = lock(&e.waker);
            if !w.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *w = Some(cx.waker().clone());
            }
            return Poll::Pending;
        }
        let shared = match &self.shared {
            Some(s) => s.clone(),
            None => {
                let s = current_shared().expect(
                    "hoare_sched::sleep, timeout and interval must be polled inside a hoare-sched runtime",
                );
                self.shared = Some(s.clone());
                s
            }
        };
        let entry = shared.timers.add(self.deadline, cx.waker());
        self.entry = Some(entry);
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.disarm();
    }
}

/// The error of [`timeout`]: the deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl core::fmt::Display for Elapsed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

/// Runs `future` for at most `duration`: its output, or `Err(Elapsed)`
/// (the future is then dropped). Like a Go `select` between a result and
/// `time.After`.
///
/// # Panics
/// As [`sleep`].
///
/// ```
/// use std::time::Duration;
/// let rt = hoare_sched::Runtime::builder().procs(1).build();
/// let r = rt.block_on(hoare_sched::timeout(Duration::from_millis(5), std::future::pending::<()>()));
/// assert!(r.is_err());
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep(duration),
    }
}

/// The future of [`timeout`].
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Timeout<F> {
    future: F,
    sleep: Sleep,
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: structural pinning of `future`: it is never moved out of
        // `self`, and `Timeout` has no `Drop` impl or `Unpin` impl of its own
        // that could move it; `sleep` is `Unpin`.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        if let Poll::Ready(v) = future.poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match Pin::new(&mut this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A stream of ticks every `period`, the first one at once: Go's
/// `time.Ticker`. Ticks missed while nobody waited are skipped, not
/// delivered in a burst.
///
/// # Panics
/// If `period` is zero; polled outside a runtime, as [`sleep`].
///
/// ```
/// use std::time::Duration;
/// let rt = hoare_sched::Runtime::builder().procs(1).build();
/// rt.block_on(async {
///     let mut iv = hoare_sched::interval(Duration::from_millis(2));
///     for _ in 0..3 {
///         iv.tick().await;
///     }
/// });
/// ```
pub fn interval(period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "hoare_sched::interval needs a period above zero"
    );
    Interval {
        period,
        sleep: sleep_until(Instant::now()),
    }
}

/// The ticker of [`interval`].
#[derive(Debug)]
pub struct Interval {
    period: Duration,
    sleep: Sleep,
}

impl Interval {
    /// Waits for the next tick; returns its scheduled instant.
    pub async fn tick(&mut self) -> Instant {
        core::future::poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        match Pin::new(&mut self.sleep).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => {
                let at = self.sleep.deadline();
                let now = Instant::now();
                let mut next = at + self.period;
                if next <= now {
                    // Skip missed ticks.
                    let behind = (now - at).as_nanos() / self.period.as_nanos();
                    next = at + self.period * (behind as u32 + 1);
                }
                self.sleep.reset(next);
                Poll::Ready(at)
            }
        }
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}
