//! The one place that names `std::sync::atomic`, `std::cell::UnsafeCell`,
//! `std::thread` or `loom::*`.
//!
//! Every algorithm in this crate imports its atomics, cells, futex calls and
//! spin hints from here, so that building with `RUSTFLAGS="--cfg loom"` runs
//! the very same code under the loom model checker.
//!
//! # The futex
//!
//! Blocking waits park on a 32-bit word: `futex_wait(word, expected)` sleeps
//! while `*word == expected` and may return spuriously; `futex_wake_one` and
//! `futex_wake_all` wake sleepers on that word. Natively this is the
//! `atomic-wait` crate (Linux `futex`, Windows `WaitOnAddress`, macOS
//! `__ulock`). Under loom there is no futex, so a small model of one stands
//! in: a loom mutex over a list of sleepers keyed by address. Its check of the
//! word and its enqueue happen under that mutex, as the kernel does them under
//! its hash-bucket lock, so a wake that races with a sleeper is never lost
//! and a *missing* wake leaves the sleeper parked forever, which loom reports
//! as a deadlock. That is what makes the loom models able to find lost
//! wake-ups.
//!
//! # Waiting clock
//!
//! The mutex's starvation mode needs to know how long a waiter has waited.
//! Natively that is an [`Instant`](std::time::Instant). Loom explores
//! interleavings, not time, so under loom a waiter counts as starving once it
//! has been woken and lost the race for the lock once: this makes the
//! hand-off path reachable in small models.

#[cfg(not(loom))]
use std::cell::UnsafeCell as StdUnsafeCell;
#[cfg(not(loom))]
pub(crate) use std::sync::Arc;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

#[cfg(loom)]
use loom::cell::UnsafeCell as StdUnsafeCell;
#[cfg(loom)]
pub(crate) use loom::sync::Arc;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
/// Under loom the waiter queues' spin lock is a loom mutex (`spinlock.rs`).
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex as ModelMutex, MutexGuard as ModelMutexGuard};

/// Sleeps while `*word == expected`; may return spuriously.
#[cfg(not(loom))]
#[inline]
pub(crate) fn futex_wait(word: &AtomicU32, expected: u32) {
    atomic_wait::wait(word, expected);
}

/// Wakes one thread sleeping in [`futex_wait`] on `word`.
#[cfg(not(loom))]
#[inline]
pub(crate) fn futex_wake_one(word: &AtomicU32) {
    atomic_wait::wake_one(word);
}

/// Wakes every thread sleeping in [`futex_wait`] on `word`.
#[cfg(not(loom))]
#[inline]
#[allow(dead_code)]
pub(crate) fn futex_wake_all(word: &AtomicU32) {
    atomic_wait::wake_all(word);
}

#[cfg(loom)]
mod loom_futex {
    use loom::sync::Arc;
    use loom::sync::Mutex;
    use loom::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    use loom::thread::Thread;

    struct Sleeper {
        addr: usize,
        woken: Arc<AtomicBool>,
        thread: Thread,
    }

    loom::lazy_static! {
        static ref SLEEPERS: Mutex<Vec<Sleeper>> = Mutex::new(Vec::new());
    }

    pub(crate) fn wait(word: &AtomicU32, expected: u32) {
        let woken = Arc::new(AtomicBool::new(false));
        {
            let mut sleepers = SLEEPERS.lock().unwrap();
            if word.load(Ordering::SeqCst) != expected {
                return;
            }
            sleepers.push(Sleeper {
                addr: word as *const AtomicU32 as usize,
                woken: woken.clone(),
                thread: loom::thread::current(),
            });
        }
        while !woken.load(Ordering::SeqCst) {
            loom::thread::park();
        }
    }

    pub(crate) fn wake(word: &AtomicU32, all: bool) {
        let addr = word as *const AtomicU32 as usize;
        let mut sleepers = SLEEPERS.lock().unwrap();
        while let Some(i) = sleepers.iter().position(|s| s.addr == addr) {
            let s = sleepers.remove(i);
            s.woken.store(true, Ordering::SeqCst);
            s.thread.unpark();
            if !all {
                break;
            }
        }
    }
}

#[cfg(loom)]
pub(crate) fn futex_wait(word: &AtomicU32, expected: u32) {
    loom_futex::wait(word, expected);
}

#[cfg(loom)]
pub(crate) fn futex_wake_one(word: &AtomicU32) {
    loom_futex::wake(word, false);
}

#[cfg(loom)]
#[allow(dead_code)]
pub(crate) fn futex_wake_all(word: &AtomicU32) {
    loom_futex::wake(word, true);
}

/// One iteration of a busy-wait loop.
#[cfg(not(loom))]
#[inline]
pub(crate) fn spin_hint() {
    std::hint::spin_loop();
}

/// Gives the rest of the time slice to another thread.
#[cfg(not(loom))]
#[inline]
pub(crate) fn yield_now() {
    std::thread::yield_now();
}

/// Bounded adaptive spinning before a thread parks, in the manner of
/// parking_lot's `SpinWait`: three rounds of exponentially more `pause`
/// instructions, then a few `yield`s (which let a preempted lock holder run
/// when threads outnumber cores), then the caller parks.
#[derive(Debug, Default)]
pub(crate) struct SpinWait {
    counter: u32,
}

impl SpinWait {
    /// Spins or yields once; `false` means "stop spinning and park".
    #[cfg(not(loom))]
    #[inline]
    pub(crate) fn spin(&mut self) -> bool {
        if self.counter >= 10 {
            return false;
        }
        self.counter += 1;
        if self.counter <= 3 {
            for _ in 0..(1u32 << self.counter) {
                std::hint::spin_loop();
            }
        } else {
            std::thread::yield_now();
        }
        true
    }

    /// Under loom spinning only multiplies interleavings: park at once.
    #[cfg(loom)]
    pub(crate) fn spin(&mut self) -> bool {
        let _ = self.counter;
        false
    }

    pub(crate) fn reset(&mut self) {
        self.counter = 0;
    }
}

/// When a waiter started waiting, for the mutex's starvation mode.
#[cfg(not(loom))]
#[derive(Clone, Copy, Debug)]
pub(crate) struct WaitClock(std::time::Instant);

#[cfg(not(loom))]
impl WaitClock {
    /// Go's `starvationThresholdNs`: a waiter that waited longer than this
    /// gets the lock handed over directly.
    const STARVATION: std::time::Duration = std::time::Duration::from_millis(1);

    pub(crate) fn start() -> Self {
        WaitClock(std::time::Instant::now())
    }

    /// Called each time the waiter lost the race after being woken.
    pub(crate) fn lost_race(&mut self) {}

    pub(crate) fn starving(&self) -> bool {
        self.0.elapsed() > Self::STARVATION
    }
}

#[cfg(loom)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct WaitClock(u32);

#[cfg(loom)]
impl WaitClock {
    pub(crate) fn start() -> Self {
        WaitClock(0)
    }

    pub(crate) fn lost_race(&mut self) {
        self.0 += 1;
    }

    pub(crate) fn starving(&self) -> bool {
        self.0 >= 1
    }
}

/// An `UnsafeCell` whose accesses loom can see.
///
/// `get` hands out the raw pointer; under loom the access is recorded at that
/// moment (loom checks that no two threads touch the cell without
/// synchronization in between), which is as much as a lock's guard needs.
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

    #[allow(dead_code)]
    pub(crate) fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

impl<T: ?Sized> UnsafeCell<T> {
    #[cfg(not(loom))]
    #[inline]
    pub(crate) fn get(&self) -> *mut T {
        self.0.get()
    }

    #[cfg(loom)]
    pub(crate) fn get(&self) -> *mut T {
        self.0.with_mut(|p| p)
    }

    /// The pointer for a read-only access. Under loom the access is
    /// recorded as a read, not a write as with `get`, so that readers that
    /// legitimately overlap (two `RwMutex` read guards, two threads reading
    /// an initialized `OnceCell`) are not reported as racing writes.
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

/// A small number unique to the calling thread (in order of first use), for
/// spreading threads over shards. It is a placement hint, not a
/// synchronization point, so it uses `std`'s atomic even under loom.
pub(crate) fn thread_index() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    std::thread_local! {
        // Relaxed: only uniqueness matters.
        static INDEX: usize = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    INDEX.with(|i| *i)
}
