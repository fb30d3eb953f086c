//! Heap footprint of the channels and of idle tasks: a counting allocator
//! and the tables the report prints.
//!
//! [`CountingAlloc`] forwards every call to the system allocator and, on a
//! thread that is inside [`live_bytes`], adds the size of each allocation
//! and subtracts the size of each free. The `hoare-bench` binary installs
//! it as its `#[global_allocator]`; elsewhere (criterion benches, tests)
//! nothing is counted and [`footprints`] and [`idle_tasks`] return `None`.
//!
//! Counting is per thread, in a thread-local `Cell`, so the timed
//! workloads pay one thread-local read per allocation and no shared
//! atomic write, and allocator traffic on other threads cannot leak into a
//! footprint. Every channel here is built and filled on the measuring
//! thread itself.
//!
//! An idle task is not: a runtime's workers poll it and register its
//! waker, and may allocate doing so. [`live_bytes_everywhere`] therefore
//! counts every thread of the process, in one shared atomic, while it
//! runs; outside it the workloads pay one more relaxed load of a static
//! flag per allocation (no write).
//!
//! Idle tasks are measured twice per runtime ([`IdleWait`]): awaiting a
//! future that never completes and registers nothing ([`Parked`]), which
//! leaves the scheduler's own overhead and is what the memory target of
//! [`crate::targets::memory`] holds; and blocked on a receive from their
//! own channel, which adds the channel's waiter state (informational,
//! comparable to a Go goroutine blocked on a channel receive).
//!
//! A footprint is net bytes: allocated minus freed while building the
//! channel (or while filling it, or while spawning the idle tasks), so a
//! buffer that grows by reallocation counts once, at its final size.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::sched_adapters::{Executor, Hoare, HoareFifo, Tokio};

/// Messages queued to measure the per-message cost of unbounded channels.
pub const QUEUED: u64 = 100_000;
/// The large bounded capacity of the footprint table.
pub const LARGE_CAP: usize = 1_000;
/// Idle tasks spawned to measure the bytes of one.
pub const IDLE_TASKS: usize = 100_000;

/// Whether [`live_bytes_everywhere`] runs: every thread counts.
static EVERYWHERE: AtomicBool = AtomicBool::new(false);
/// Net bytes all threads allocated while [`EVERYWHERE`] was set.
static EVERYWHERE_NET: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    /// Whether this thread is inside [`live_bytes`]. `const` and without a
    /// destructor, so reading it never allocates and never fails, even
    /// while the thread is being torn down.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// Net bytes this thread allocated while counting.
    static NET: Cell<isize> = const { Cell::new(0) };
}

/// Adds `delta` to this thread's net count if it is counting, else to the
/// process-wide count if [`live_bytes_everywhere`] runs.
#[inline]
fn count(delta: isize) {
    if COUNTING.with(Cell::get) {
        NET.with(|n| n.set(n.get() + delta));
    } else if EVERYWHERE.load(Ordering::Relaxed) {
        // Relaxed: a sum; `live_bytes_everywhere` reads it once the
        // threads it counts have signalled that they are done.
        EVERYWHERE_NET.fetch_add(delta, Ordering::Relaxed);
    }
}

/// A size as a signed delta (no allocation exceeds `isize::MAX` bytes).
#[inline]
fn signed(size: usize) -> isize {
    size as isize
}

/// The system allocator, counting the bytes of threads inside
/// [`live_bytes`].
///
/// ```
/// use hoare_bench::memory::{self, CountingAlloc};
///
/// #[global_allocator]
/// static ALLOC: CountingAlloc = CountingAlloc;
///
/// fn main() {
///     let (bytes, buffer) = memory::live_bytes(|| vec![0u8; 100]);
///     assert_eq!(bytes, 100);
///     assert!(memory::installed());
///     drop(buffer);
/// }
/// ```
#[derive(Debug)]
pub struct CountingAlloc;

// SAFETY: every method forwards its arguments unchanged to `System`, which
// implements `GlobalAlloc` soundly, and returns its result unchanged; the
// counting on the side only touches this thread's own `Cell`s and never
// allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: our caller upholds `alloc`'s contract (non-zero size),
        // which is `System.alloc`'s.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(signed(layout.size()));
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(signed(layout.size()));
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: our caller guarantees `ptr` came from this allocator,
        // that is from `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        count(-signed(layout.size()));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: our caller guarantees `ptr` came from `System` with
        // `layout` and that `new_size` is valid for it.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(signed(new_size) - signed(layout.size()));
        }
        p
    }
}

/// Runs `f` and returns its result with the net bytes this thread
/// allocated during it (0 if the counting allocator is not installed).
pub fn live_bytes<R>(f: impl FnOnce() -> R) -> (isize, R) {
    NET.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    let result = f();
    COUNTING.with(|c| c.set(false));
    (NET.with(Cell::get), result)
}

/// Runs `f` and returns its result with the net bytes every thread of the
/// process allocated during it (0 if the counting allocator is not
/// installed).
///
/// Not reentrant, and not to be run alongside itself on another thread;
/// allocations of threads that are not part of the measurement count too,
/// so run it while nothing else works.
pub fn live_bytes_everywhere<R>(f: impl FnOnce() -> R) -> (isize, R) {
    // SeqCst: the flag and the sum are ordered with the other threads'
    // hand-offs (spawns, the counter `f` waits on) on both sides.
    EVERYWHERE_NET.store(0, Ordering::SeqCst);
    EVERYWHERE.store(true, Ordering::SeqCst);
    let result = f();
    EVERYWHERE.store(false, Ordering::SeqCst);
    (EVERYWHERE_NET.load(Ordering::SeqCst), result)
}

/// Whether [`CountingAlloc`] is this process's global allocator.
pub fn installed() -> bool {
    let (bytes, b) = live_bytes(|| Box::new([0u8; 64]));
    drop(std::hint::black_box(b));
    bytes == 64
}

/// The heap footprint of one implementation's channels.
#[derive(Clone, Debug, PartialEq)]
pub struct Footprint {
    /// The implementation.
    pub implementation: &'static str,
    /// Bytes of an empty bounded(0), bounded(1), bounded([`LARGE_CAP`])
    /// and unbounded channel; `None` where the flavor does not exist.
    pub empty: [Option<isize>; 4],
    /// Bytes per message with [`QUEUED`] `u64`s waiting in an unbounded
    /// channel, over its empty size.
    pub per_message: f64,
}

/// The column headings of [`Footprint::empty`].
pub const FLAVORS: [&str; 4] = ["bounded(0)", "bounded(1)", "bounded(1000)", "unbounded"];

/// Net bytes of a channel built by `new`, kept alive while counted.
fn empty<C>(new: impl FnOnce() -> C) -> Option<isize> {
    let (bytes, channel) = live_bytes(new);
    drop(channel);
    Some(bytes)
}

/// Bytes per message of [`QUEUED`] messages sent by `send` into an empty
/// channel that the caller keeps alive.
fn per_message(mut send: impl FnMut(u64)) -> f64 {
    let (bytes, ()) = live_bytes(|| (0..QUEUED).for_each(&mut send));
    bytes as f64 / QUEUED as f64
}

/// Measures every implementation, or `None` if the counting allocator is
/// not installed.
pub fn footprints() -> Option<Vec<Footprint>> {
    if !installed() {
        return None;
    }
    const ALIVE: &str = "the receiver is alive";
    Some(vec![
        Footprint {
            implementation: "hoare",
            empty: [
                empty(|| hoare_chan::bounded::<u64>(0)),
                empty(|| hoare_chan::bounded::<u64>(1)),
                empty(|| hoare_chan::bounded::<u64>(LARGE_CAP)),
                empty(hoare_chan::unbounded::<u64>),
            ],
            per_message: {
                let (tx, _rx) = hoare_chan::unbounded::<u64>();
                per_message(|v| tx.send(v).expect(ALIVE))
            },
        },
        Footprint {
            implementation: "std",
            empty: [
                empty(|| mpsc::sync_channel::<u64>(0)),
                empty(|| mpsc::sync_channel::<u64>(1)),
                empty(|| mpsc::sync_channel::<u64>(LARGE_CAP)),
                empty(mpsc::channel::<u64>),
            ],
            per_message: {
                let (tx, _rx) = mpsc::channel::<u64>();
                per_message(|v| tx.send(v).expect(ALIVE))
            },
        },
        Footprint {
            implementation: "crossbeam",
            empty: [
                empty(|| crossbeam_channel::bounded::<u64>(0)),
                empty(|| crossbeam_channel::bounded::<u64>(1)),
                empty(|| crossbeam_channel::bounded::<u64>(LARGE_CAP)),
                empty(crossbeam_channel::unbounded::<u64>),
            ],
            per_message: {
                let (tx, _rx) = crossbeam_channel::unbounded::<u64>();
                per_message(|v| tx.send(v).expect(ALIVE))
            },
        },
        Footprint {
            implementation: "flume",
            empty: [
                empty(|| flume::bounded::<u64>(0)),
                empty(|| flume::bounded::<u64>(1)),
                empty(|| flume::bounded::<u64>(LARGE_CAP)),
                empty(flume::unbounded::<u64>),
            ],
            per_message: {
                let (tx, _rx) = flume::unbounded::<u64>();
                per_message(|v| tx.send(v).expect(ALIVE))
            },
        },
        Footprint {
            implementation: "kanal",
            empty: [
                empty(|| kanal::bounded::<u64>(0)),
                empty(|| kanal::bounded::<u64>(1)),
                empty(|| kanal::bounded::<u64>(LARGE_CAP)),
                empty(kanal::unbounded::<u64>),
            ],
            per_message: {
                let (tx, _rx) = kanal::unbounded::<u64>();
                per_message(|v| tx.send(v).expect(ALIVE))
            },
        },
        Footprint {
            implementation: "tokio",
            empty: [
                // tokio's bounded channel panics at capacity 0.
                None,
                empty(|| tokio::sync::mpsc::channel::<u64>(1)),
                empty(|| tokio::sync::mpsc::channel::<u64>(LARGE_CAP)),
                empty(tokio::sync::mpsc::unbounded_channel::<u64>),
            ],
            per_message: {
                let (tx, _rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
                per_message(|v| tx.send(v).expect(ALIVE))
            },
        },
    ])
}

/// What the idle tasks of one measurement wait on: the report has one row
/// of each per runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdleWait {
    /// Each task awaits its own [`Parked`], a future that never completes
    /// and registers nothing: the bytes are the task's allocation and the
    /// runtime's bookkeeping alone. The memory target's row.
    Nothing,
    /// Each task waits on a receive from its own channel (built before
    /// counting starts): the bytes include what the wait registers in the
    /// channel. Comparable to a Go goroutine blocked on a channel
    /// receive; informational.
    ChannelReceive,
}

impl IdleWait {
    /// How the report names the row.
    pub fn describe(self) -> &'static str {
        match self {
            IdleWait::Nothing => "scheduler overhead",
            IdleWait::ChannelReceive => "blocked on its own channel receive",
        }
    }
}

/// The heap bytes of one idle task on one runtime.
#[derive(Clone, Debug, PartialEq)]
pub struct IdleFootprint {
    /// The runtime (`hoare`, `hoare-fifo`, `tokio`).
    pub implementation: &'static str,
    /// What each task waits on.
    pub wait: IdleWait,
    /// Net bytes per task with [`IDLE_TASKS`] tasks spawned and waiting,
    /// everything included: the task's allocation with its future, the
    /// runtime's bookkeeping, and for [`IdleWait::ChannelReceive`] the
    /// waker registration in the channel.
    pub bytes_per_task: f64,
    /// `size_of_val` of the future each task runs, as spawned, which the
    /// task's allocation holds.
    pub future_size: usize,
}

impl IdleFootprint {
    /// [`IdleFootprint::bytes_per_task`] less the future's own size: what
    /// the runtime (and, for [`IdleWait::ChannelReceive`], the channel's
    /// wait) adds to the future.
    pub fn excluding_future(&self) -> f64 {
        self.bytes_per_task - self.future_size as f64
    }
}

/// Longest wait for every idle task's first poll (a stuck runtime fails
/// the measurement instead of hanging the run).
const PARK_DEADLINE: Duration = Duration::from_secs(60);

/// Wraps `wait` in a future that counts itself in `parked` once its first
/// poll returns pending (its waker is then registered).
async fn parking<W: Future>(wait: W, parked: Arc<AtomicUsize>) {
    let mut wait = pin!(wait);
    let mut parked = Some(parked);
    std::future::poll_fn(|cx| {
        let poll = wait.as_mut().poll(cx);
        if poll.is_pending() {
            if let Some(parked) = parked.take() {
                // Release: the registration, and what it allocated, happen
                // before the measuring thread reads the sum.
                parked.fetch_add(1, Ordering::Release);
            }
        }
        poll.map(drop)
    })
    .await;
}

/// A future that never completes and registers nothing: every poll
/// returns `Pending` without touching the waker, and the first one counts
/// it in the shared counter and lets go of it, so that the measurement
/// knows every task has been polled once. It holds that counter (an
/// `Option<Arc>`, one pointer) and nothing else.
#[derive(Debug)]
pub struct Parked(Option<Arc<AtomicUsize>>);

impl Parked {
    /// A future that counts its first poll in `parked`.
    pub fn new(parked: Arc<AtomicUsize>) -> Self {
        Parked(Some(parked))
    }
}

impl Future for Parked {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if let Some(parked) = self.0.take() {
            // Release: what the first poll allocated happens before the
            // measuring thread reads the sum. Dropping this clone frees
            // nothing: the measuring thread holds the counter.
            parked.fetch_add(1, Ordering::Release);
        }
        Poll::Pending
    }
}

/// Spawns `futures` on `rt`, each of which counts itself in `parked` when
/// its first poll returns pending, and counts the net bytes of the
/// process from the first spawn until every task has been polled and the
/// workers have gone idle. Returns the footprint and the tasks' handles.
fn count_parked<S, F>(
    rt: &S,
    implementation: &'static str,
    wait: IdleWait,
    mut futures: Vec<F>,
    parked: &AtomicUsize,
) -> (IdleFootprint, Vec<S::Handle>)
where
    S: Executor,
    F: Future<Output = ()> + Send + 'static,
{
    let tasks = futures.len();
    assert!(tasks > 0, "{implementation}: no idle tasks to measure");
    let future_size = std::mem::size_of_val(&futures[0]);
    let mut handles = Vec::with_capacity(tasks);
    let (bytes, ()) = live_bytes_everywhere(|| {
        // `drain` and the reserved `handles` keep both vectors'
        // buffers out of the count.
        for f in futures.drain(..) {
            handles.push(rt.spawn_handle(f));
        }
        let deadline = Instant::now() + PARK_DEADLINE;
        while parked.load(Ordering::Acquire) < tasks {
            assert!(
                Instant::now() < deadline,
                "{implementation}: {} of {tasks} idle tasks were polled within {PARK_DEADLINE:?}",
                parked.load(Ordering::Acquire),
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        // Let the workers finish their last poll and go idle.
        std::thread::sleep(Duration::from_millis(10));
    });
    let footprint = IdleFootprint {
        implementation,
        wait,
        bytes_per_task: bytes as f64 / tasks as f64,
        future_size,
    };
    (footprint, handles)
}

/// [`IdleWait::Nothing`]: `tasks` tasks on a fresh `S`, each awaiting its
/// own [`Parked`]. They never complete, so afterwards each is cancelled
/// through its handle and the handle awaited (it must report the
/// cancellation) before the runtime is dropped.
fn scheduler_overhead<S: Executor>(implementation: &'static str, tasks: usize) -> IdleFootprint {
    let rt = S::start();
    let parked = Arc::new(AtomicUsize::new(0));
    let futures: Vec<Parked> = (0..tasks).map(|_| Parked::new(parked.clone())).collect();
    let (footprint, handles) =
        count_parked(&rt, implementation, IdleWait::Nothing, futures, &parked);
    for handle in &handles {
        S::abort(handle);
    }
    rt.block_on(async {
        for handle in handles {
            assert!(
                S::cancelled(handle).await,
                "{implementation}: an aborted idle task that never completes finished"
            );
        }
    });
    footprint
}

/// [`IdleWait::ChannelReceive`]: `tasks` tasks on a fresh `S`, each waiting
/// on its own channel from `channel` through `receive`. Then drops the
/// senders, which ends every wait, and joins the tasks.
///
/// The channels are built before counting starts: their empty size is in
/// the channel table. What a wait registers in its channel is counted.
fn blocked_on_channel<S, T, R, W>(
    implementation: &'static str,
    tasks: usize,
    channel: impl Fn() -> (T, R),
    receive: impl Fn(R) -> W,
) -> IdleFootprint
where
    S: Executor,
    W: Future + Send + 'static,
{
    let rt = S::start();
    let parked = Arc::new(AtomicUsize::new(0));
    let (senders, receivers): (Vec<T>, Vec<R>) = (0..tasks).map(|_| channel()).unzip();
    let futures: Vec<_> = receivers
        .into_iter()
        .map(|rx| parking(receive(rx), parked.clone()))
        .collect();
    let (footprint, handles) = count_parked(
        &rt,
        implementation,
        IdleWait::ChannelReceive,
        futures,
        &parked,
    );
    drop(senders);
    rt.block_on(async {
        for handle in handles {
            assert!(
                !S::cancelled(handle).await,
                "{implementation}: an idle task was cancelled"
            );
        }
    });
    footprint
}

/// Both rows of every runtime with `tasks` idle tasks per measurement, in
/// report order, each measurement on a fresh runtime.
fn measure_idle(tasks: usize) -> Vec<IdleFootprint> {
    let hoare_receive = |rx: hoare_chan::Receiver<()>| async move {
        // Disconnected at the end: the senders are dropped, not used.
        let _ = rx.recv_async().await;
    };
    let tokio_receive = |rx: tokio::sync::oneshot::Receiver<()>| async move {
        let _ = rx.await;
    };
    let hoare_channel = || hoare_chan::bounded::<()>(0);
    vec![
        blocked_on_channel::<Hoare, _, _, _>("hoare", tasks, hoare_channel, hoare_receive),
        scheduler_overhead::<Hoare>("hoare", tasks),
        blocked_on_channel::<Tokio, _, _, _>(
            "tokio",
            tasks,
            tokio::sync::oneshot::channel::<()>,
            tokio_receive,
        ),
        scheduler_overhead::<Tokio>("tokio", tasks),
        blocked_on_channel::<HoareFifo, _, _, _>("hoare-fifo", tasks, hoare_channel, hoare_receive),
        scheduler_overhead::<HoareFifo>("hoare-fifo", tasks),
    ]
}

/// The bytes of an idle task on every runtime of the scheduler group, two
/// rows per runtime ([`IdleWait`]), or `None` if the counting allocator is
/// not installed. [`IdleWait::ChannelReceive`]: hoare-sched's tasks wait
/// on a `hoare_chan::bounded::<()>(0)` receive each, tokio's on a
/// `tokio::sync::oneshot` receive each. [`IdleWait::Nothing`]: every
/// task awaits a [`Parked`].
pub fn idle_tasks() -> Option<Vec<IdleFootprint>> {
    if !installed() {
        return None;
    }
    let mut rows = measure_idle(IDLE_TASKS);
    if crate::go::available().is_ok() {
        rows.extend(go_idle(IDLE_TASKS));
    }
    Some(rows)
}

/// Go's two rows, from the Go program (see [`crate::go::idle_bytes`]):
/// the growth of the memory the Go runtime holds from the OS
/// (`runtime.MemStats.Sys`) per blocked goroutine, stack included. A
/// goroutine has no separate future: its `future_size` is 0.
/// [`IdleWait::Nothing`]: every goroutine waits on one shared channel that
/// is never sent on (its wait record is the least a blocked goroutine
/// registers); [`IdleWait::ChannelReceive`]: each on its own unbuffered
/// channel.
fn go_idle(tasks: usize) -> [IdleFootprint; 2] {
    use crate::go::{IMPLEMENTATION, IdleOn, idle_bytes};
    [
        IdleFootprint {
            implementation: IMPLEMENTATION,
            wait: IdleWait::ChannelReceive,
            bytes_per_task: idle_bytes(tasks, IdleOn::Own),
            future_size: 0,
        },
        IdleFootprint {
            implementation: IMPLEMENTATION,
            wait: IdleWait::Nothing,
            bytes_per_task: idle_bytes(tasks, IdleOn::Shared),
            future_size: 0,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parked_counts_its_first_poll_and_never_completes() {
        let parked = Arc::new(AtomicUsize::new(0));
        let mut f = Parked::new(parked.clone());
        assert_eq!(std::mem::size_of_val(&f), std::mem::size_of::<usize>());
        let mut cx = Context::from_waker(std::task::Waker::noop());
        for _ in 0..3 {
            assert!(Pin::new(&mut f).poll(&mut cx).is_pending());
            assert_eq!(parked.load(Ordering::Relaxed), 1);
        }
        // The first poll let go of its clone.
        assert_eq!(Arc::strong_count(&parked), 1);
    }

    #[test]
    fn idle_tasks_are_measured_and_released_on_every_runtime() {
        // Without the counting allocator every count is 0; what this checks
        // is that every measurement ends (the never-completing tasks are
        // cancelled, the blocked ones released) and the rows' shape.
        let rows = measure_idle(64);
        let shape: Vec<_> = rows.iter().map(|f| (f.implementation, f.wait)).collect();
        assert_eq!(
            shape,
            [
                ("hoare", IdleWait::ChannelReceive),
                ("hoare", IdleWait::Nothing),
                ("tokio", IdleWait::ChannelReceive),
                ("tokio", IdleWait::Nothing),
                ("hoare-fifo", IdleWait::ChannelReceive),
                ("hoare-fifo", IdleWait::Nothing),
            ]
        );
        for f in &rows {
            assert_eq!(f.bytes_per_task, 0.0, "{f:?}");
            if f.wait == IdleWait::Nothing {
                assert_eq!(f.future_size, std::mem::size_of::<Parked>(), "{f:?}");
            }
        }
    }

    #[test]
    fn without_the_allocator_nothing_is_counted() {
        // The test harness runs on the system allocator.
        assert!(!installed());
        assert_eq!(footprints(), None);
        assert_eq!(idle_tasks(), None);
        assert_eq!(live_bytes_everywhere(|| vec![0u8; 100]).0, 0);
    }
}
