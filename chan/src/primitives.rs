//! The one place that names `std::sync::atomic`, `std::cell::UnsafeCell`,
//! `std::thread` or `loom::*`.
//!
//! Every algorithm in this crate imports its atomics, cells, thread parking
//! and spin hints from here, so building with `RUSTFLAGS="--cfg loom"` runs
//! the very same code under the loom model checker.
//!
//! # Parking
//!
//! A blocked thread parks with [`park`] / [`park_until`] and is woken with
//! [`Thread::unpark`]. Natively that is `std::thread`'s parker: one atomic
//! swap to wake a thread that is not yet asleep, a futex wake otherwise, and
//! a futex wait with a timeout for the deadline forms. Under loom, time does
//! not exist: `park_until` parks like `park` and the models use no deadlines.
//!
//! # Spinning
//!
//! [`spin_budget`] says how long a waiter may busy-wait before it parks.
//! Spinning only pays when the partner runs on another core at the same
//! time, so the budget is zero when the process may use a single core
//! (`taskset -c 0`), and under loom, where spinning only multiplies
//! interleavings.

#[cfg(not(loom))]
use std::cell::UnsafeCell as StdUnsafeCell;
#[cfg(not(loom))]
pub(crate) use std::sync::Arc;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU8, AtomicU64, AtomicUsize, Ordering, fence,
};
#[cfg(not(loom))]
pub(crate) use std::thread::Thread;

#[cfg(loom)]
use loom::cell::UnsafeCell as StdUnsafeCell;
#[cfg(loom)]
pub(crate) use loom::sync::Arc;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU8, AtomicU64, AtomicUsize, Ordering, fence,
};
#[cfg(loom)]
pub(crate) use loom_parker::Thread;

/// Under loom a thread parks on its own `loom::sync::Notify` (as
/// `loom::future::block_on` does) rather than with `loom::thread::park`:
/// a late `unpark` (harmless natively, see `signal.rs`) would make loom
/// 0.7 resume a thread that is blocked on something else, such as a loom
/// mutex, and fail its own assertion (loom issue 249).
#[cfg(loom)]
mod loom_parker {
    use loom::sync::{Arc, Notify};

    #[derive(Clone)]
    pub(crate) struct Thread(Arc<Notify>);

    impl Thread {
        pub(crate) fn unpark(&self) {
            self.0.notify();
        }
    }

    loom::thread_local! {
        static PARKER: Thread = Thread(Arc::new(Notify::new()));
    }

    pub(crate) fn current() -> Thread {
        PARKER.with(Thread::clone)
    }

    pub(crate) fn park() {
        current().0.wait();
    }
}

/// A `SeqCst` fence under loom only. The waiter lists' no-lost-wake-up
/// argument (`waitlist.rs`) pairs `SeqCst` stores and loads, which give
/// it natively; loom models `SeqCst` loads and stores as acquire/release
/// (its README says so) and would report wake-ups lost that cannot be, so
/// under loom the pair is completed with the fences loom does model.
#[inline]
pub(crate) fn loom_dekker_fence() {
    #[cfg(loom)]
    fence(Ordering::SeqCst);
}

pub(crate) use std::time::Instant;

/// The calling thread's handle, for waking it later.
#[inline]
pub(crate) fn current_thread() -> Thread {
    #[cfg(not(loom))]
    {
        std::thread::current()
    }
    #[cfg(loom)]
    {
        loom_parker::current()
    }
}

/// Parks the calling thread until unparked; may return spuriously.
#[inline]
pub(crate) fn park() {
    #[cfg(not(loom))]
    std::thread::park();
    #[cfg(loom)]
    loom_parker::park();
}

/// Parks until unparked or until `deadline` passes; may return spuriously.
#[inline]
pub(crate) fn park_until(deadline: Instant) {
    #[cfg(not(loom))]
    {
        let now = Instant::now();
        if deadline > now {
            std::thread::park_timeout(deadline - now);
        }
    }
    #[cfg(loom)]
    {
        let _ = deadline;
        loom_parker::park();
    }
}

/// Sleeps the calling thread until `deadline` (timer flavors: nobody
/// wakes them early).
pub(crate) fn sleep_until(deadline: Instant) {
    let now = Instant::now();
    if deadline > now {
        std::thread::sleep(deadline - now);
    }
}

/// Spawns the named background thread of the async timer (`timer.rs`).
pub(crate) fn spawn_background(name: &str, f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .expect("hoare-chan: cannot spawn the timer thread");
}

pub(crate) use std::sync::{Condvar as StdCondvar, Mutex as StdMutex};

/// Untracked raw storage, for memory that holds cells of its own (a task
/// signal's packet room, `signal.rs`): loom tracks the `UnsafeCell`s
/// placed in it, not the storage.
pub(crate) type RawCell<T> = std::cell::UnsafeCell<T>;

/// One iteration of a busy-wait loop.
#[inline]
pub(crate) fn spin_hint() {
    #[cfg(not(loom))]
    std::hint::spin_loop();
    #[cfg(loom)]
    loom::hint::spin_loop();
}

/// Round `round` of a growing spin: `2^min(round, 5)` [`spin_hint`]s (the
/// schedule of the blocking waits' and the futures' spins).
#[inline]
pub(crate) fn spin_burst(round: u32) {
    for _ in 0..(1u32 << round.min(5)) {
        spin_hint();
    }
}

/// Gives the rest of the time slice to another thread.
#[inline]
pub(crate) fn yield_now() {
    #[cfg(not(loom))]
    std::thread::yield_now();
    #[cfg(loom)]
    loom::thread::yield_now();
}

/// How many rounds of [`spin_hint`] bursts (round `r` spins `2^min(r, 5)`
/// times) a waiter may spend before it yields: 0 when only one core is
/// usable (a spinning waiter would only keep its partner off the core) and
/// under loom; otherwise as many rounds as fit in [`SPIN_NANOS`], measured
/// once, since one `spin_loop` costs from a few to over 25 nanoseconds
/// depending on the processor.
#[cfg(not(loom))]
pub(crate) fn spin_budget() -> u32 {
    use std::sync::atomic::AtomicU32;
    const UNKNOWN: u32 = u32::MAX;
    static BUDGET: AtomicU32 = AtomicU32::new(UNKNOWN);
    // Relaxed: the value is a hint computed the same way by every thread.
    let b = BUDGET.load(std::sync::atomic::Ordering::Relaxed);
    if b != UNKNOWN {
        return b;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let b = if cores > 1 {
        rounds_within(SPIN_NANOS)
    } else {
        0
    };
    BUDGET.store(b, std::sync::atomic::Ordering::Relaxed);
    b
}

#[cfg(loom)]
pub(crate) fn spin_budget() -> u32 {
    0
}

/// About how long a waiter spins before it starts yielding: a few
/// microseconds, the order of a partner's reply when it runs on another
/// core, and less than a futex sleep and wake costs.
#[cfg(not(loom))]
const SPIN_NANOS: u64 = 4_000;

/// The number of spin rounds whose `spin_loop`s take about `nanos` (at
/// least 2 rounds, at most 64), from the fastest of several timings of 64
/// `spin_loop`s. One timing stretched by an interrupt or a preemption
/// (here about 1 in 100 timings of 256 `spin_loop`s came out 2 to 7 times
/// slower than the median) would shorten every blocking wait's spin for
/// the whole life of the process.
#[cfg(not(loom))]
fn rounds_within(nanos: u64) -> u32 {
    const SAMPLE: u64 = 64;
    const TIMINGS: usize = 8;
    let per_spin = (0..TIMINGS)
        .map(|_| {
            let begun = std::time::Instant::now();
            for _ in 0..SAMPLE {
                spin_hint();
            }
            begun.elapsed().as_nanos() as u64 / SAMPLE
        })
        .min()
        .unwrap_or(1)
        .max(1);
    let spins = nanos / per_spin;
    // Rounds 0..=5 spin 1, 2, .., 32 times (63 in all); each later one 32.
    let rounds = if spins < 63 {
        u64::from(u64::BITS - spins.leading_zeros())
    } else {
        6 + (spins - 63) / 32
    };
    rounds.clamp(2, 64) as u32
}

/// How many spin rounds the calling thread's next blocking wait may use.
///
/// Adaptive, per thread, like glibc's adaptive mutex: a wait that was
/// satisfied while spinning lets the next one spin up to twice as long as
/// that took; a wait that had to park halves the allowance. So a thread
/// whose partners run on other cores keeps spinning (and never pays a
/// sleep and a wake), while a thread in an oversubscribed process (more
/// runnable threads than cores, where the partner is usually not running)
/// quickly stops burning its time slice. At most [`spin_budget`].
#[cfg(not(loom))]
pub(crate) fn spin_rounds() -> u32 {
    ADAPTIVE.with(|a| a.get().min(spin_budget()))
}

/// Records how the last wait went: `Some(r)` satisfied after `r` spin
/// rounds, `None` had to stop spinning.
#[cfg(not(loom))]
pub(crate) fn spin_outcome(rounds: Option<u32>) {
    let _ = ADAPTIVE.try_with(|a| {
        let cur = a.get();
        a.set(match rounds {
            Some(r) => cur.max(2 * r + 2).min(spin_budget()),
            // Not clamped to the budget first: a thread starts at `u32::MAX`,
            // so its first misses leave the full allowance in place.
            None => (cur / 2).max(MIN_ROUNDS),
        });
    });
}

/// How many spin rounds a future polled on the calling thread may spend
/// retrying its operation before it registers and returns `Pending`.
///
/// Adapted like [`spin_rounds`], with a far smaller ceiling
/// ([`ASYNC_MAX_ROUNDS`], under a microsecond): a poll must not hold its
/// executor thread for long. When the partner task runs on another
/// executor thread, a short spin usually sees it act and saves a
/// `Pending`, a wake-up and a re-poll, and often a worker parking and
/// unparking; when the partner waits behind us on the same thread (a
/// single-threaded executor), spinning cannot succeed, and the allowance
/// drops to none within a few polls, with a full-length probe every
/// [`ASYNC_PROBE_EVERY`] polls in case the partner moved.
#[cfg(not(loom))]
pub(crate) fn async_spin_rounds() -> u32 {
    ASYNC_ADAPTIVE.with(|a| {
        let (rounds, since) = a.get();
        if rounds > 0 {
            return rounds.min(async_spin_cap());
        }
        // Spinning stopped paying: probe with the full allowance now and
        // then, in case the partner has moved to another thread. (Wrapping:
        // a thread may poll more than `u32::MAX` times.)
        a.set((0, since.wrapping_add(1)));
        if since % ASYNC_PROBE_EVERY == ASYNC_PROBE_EVERY - 1 {
            async_spin_cap()
        } else {
            0
        }
    })
}

/// Records how a future's spin went, as [`spin_outcome`].
#[cfg(not(loom))]
pub(crate) fn async_spin_outcome(rounds: Option<u32>) {
    // Clamped to the ceiling before halving, unlike `spin_outcome`: a poll
    // must stop spinning after its first misses.
    let cap = async_spin_cap();
    let _ = ASYNC_ADAPTIVE.try_with(|a| {
        let (cur, since) = a.get();
        a.set(match rounds {
            Some(r) => (cur.max(2 * r + 2).min(cap), 0),
            None => (cur.min(cap) / 2, since),
        });
    });
}

/// Polls between probes once spinning has stopped paying.
#[cfg(not(loom))]
const ASYNC_PROBE_EVERY: u32 = 64;

/// At most [`ASYNC_MAX_ROUNDS`], and none where blocking waits do not spin
/// either (one usable core).
#[cfg(not(loom))]
fn async_spin_cap() -> u32 {
    spin_budget().min(ASYNC_MAX_ROUNDS)
}

/// Rounds 0..=4 spin 1 + 2 + 4 + 8 + 16 = 31 times: under a microsecond.
#[cfg(not(loom))]
const ASYNC_MAX_ROUNDS: u32 = 5;

#[cfg(not(loom))]
const MIN_ROUNDS: u32 = 4;

#[cfg(not(loom))]
std::thread_local! {
    static ADAPTIVE: std::cell::Cell<u32> = const { std::cell::Cell::new(u32::MAX) };
    static ASYNC_ADAPTIVE: std::cell::Cell<(u32, u32)> = const { std::cell::Cell::new((u32::MAX, 0)) };
}

#[cfg(loom)]
pub(crate) fn async_spin_rounds() -> u32 {
    0
}

#[cfg(loom)]
pub(crate) fn async_spin_outcome(_rounds: Option<u32>) {}

#[cfg(loom)]
pub(crate) fn spin_rounds() -> u32 {
    0
}

#[cfg(loom)]
pub(crate) fn spin_outcome(_rounds: Option<u32>) {}

/// A cheap per-thread pseudo-random number (xorshift), for `select!`'s
/// uniform choice among ready cases. Not a synchronization point, so it is
/// `std`'s thread-local even under loom.
pub(crate) fn random_below(n: usize) -> usize {
    use std::cell::Cell;
    // Under loom the state must start afresh in every execution (loom runs
    // its threads on one OS thread and replays schedules), or the case
    // order would differ between replays.
    #[cfg(loom)]
    loom::thread_local! {
        static STATE: Cell<u64> = Cell::new(0x9E37_79B9_7F4A_7C15);
    }
    #[cfg(not(loom))]
    std::thread_local! {
        static STATE: Cell<u64> = Cell::new({
            // Seed from the address of a thread-local and a counter so
            // threads differ; quality needs are modest (a fair coin).
            static SEED: std::sync::atomic::AtomicU64 =
                std::sync::atomic::AtomicU64::new(0x9E37_79B9_7F4A_7C15);
            // Relaxed: only distinctness matters.
            SEED.fetch_add(0x9E37_79B9_7F4A_7C15, std::sync::atomic::Ordering::Relaxed) | 1
        });
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        // Multiply-shift maps to [0, n) without modulo bias worth noting.
        ((u128::from(x) * n as u128) >> 64) as usize
    })
}

/// An `UnsafeCell` whose accesses loom can see (as in hoare-sync).
#[derive(Debug)]
pub(crate) struct UnsafeCell<T: ?Sized>(StdUnsafeCell<T>);

impl<T> UnsafeCell<T> {
    #[cfg(not(loom))]
    pub(crate) const fn new(value: T) -> Self {
        UnsafeCell(StdUnsafeCell::new(value))
    }

    #[cfg(loom)]
    pub(crate) fn new(value: T) -> Self {
        UnsafeCell(StdUnsafeCell::new(value))
    }
}

impl<T: ?Sized> UnsafeCell<T> {
    /// The pointer for a write (or a read that is exclusive anyway).
    #[cfg(not(loom))]
    #[inline]
    pub(crate) fn get(&self) -> *mut T {
        self.0.get()
    }

    #[cfg(loom)]
    pub(crate) fn get(&self) -> *mut T {
        self.0.with_mut(|p| p)
    }

    /// The pointer for a shared read (loom checks it against writes only).
    #[cfg(not(loom))]
    #[inline]
    pub(crate) fn get_shared(&self) -> *const T {
        self.0.get()
    }

    #[cfg(loom)]
    pub(crate) fn get_shared(&self) -> *const T {
        self.0.with(|p| p)
    }
}
