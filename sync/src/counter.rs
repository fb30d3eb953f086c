//! [`AtomicCounter`] and [`ShardedCounter`]: Go's `sync/atomic` counters.
//!
//! `AtomicCounter` is one atomic word: exact at every instant, but every
//! increment from every core fights for the same cache line. A
//! `ShardedCounter` gives each thread a home shard on its own cache line
//! (`CachePadded`), so concurrent increments rarely touch the same line;
//! reading sums the shards, which is exact once the writers have stopped
//! and a consistent-enough estimate while they run (each shard is read
//! atomically, but not all at one instant).

use core::fmt;

use crossbeam_utils::CachePadded;

use crate::primitives::{AtomicU64, Ordering, thread_index};

/// A 64-bit signed atomic counter, as Go's `atomic.Int64`.
///
/// All operations are sequentially consistent, as Go's are.
///
/// ```
/// let c = hoare_sync::AtomicCounter::new(0);
/// c.add(5);
/// assert_eq!(c.compare_exchange(5, 7), Ok(5));
/// assert_eq!(c.load(), 7);
/// ```
#[derive(Default)]
pub struct AtomicCounter {
    value: AtomicU64,
}

impl fmt::Debug for AtomicCounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AtomicCounter").field(&self.load()).finish()
    }
}

impl AtomicCounter {
    /// A counter starting at `value`.
    pub fn new(value: i64) -> Self {
        AtomicCounter {
            value: AtomicU64::new(value as u64),
        }
    }

    /// Adds `delta` (wrapping) and returns the previous value.
    #[inline]
    pub fn add(&self, delta: i64) -> i64 {
        self.value.fetch_add(delta as u64, Ordering::SeqCst) as i64
    }

    /// The current value.
    #[inline]
    pub fn load(&self) -> i64 {
        self.value.load(Ordering::SeqCst) as i64
    }

    /// Sets the value.
    #[inline]
    pub fn store(&self, value: i64) {
        self.value.store(value as u64, Ordering::SeqCst);
    }

    /// Replaces the value, returning the previous one.
    #[inline]
    pub fn swap(&self, value: i64) -> i64 {
        self.value.swap(value as u64, Ordering::SeqCst) as i64
    }

    /// Stores `new` if the value is `current`. `Ok(previous)` on success,
    /// `Err(actual)` otherwise.
    #[inline]
    pub fn compare_exchange(&self, current: i64, new: i64) -> Result<i64, i64> {
        self.value
            .compare_exchange(
                current as u64,
                new as u64,
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .map(|v| v as i64)
            .map_err(|v| v as i64)
    }
}

/// A counter for heavily contended increments: one cache line per shard.
///
/// `add` touches only the calling thread's shard; `load` sums all shards.
/// Use it for statistics many threads bump and few read.
///
/// ```
/// use hoare_sync::ShardedCounter;
///
/// let hits = ShardedCounter::new();
/// std::thread::scope(|s| {
///     for _ in 0..4 {
///         s.spawn(|| {
///             for _ in 0..1000 {
///                 hits.add(1);
///             }
///         });
///     }
/// });
/// assert_eq!(hits.load(), 4000);
/// ```
pub struct ShardedCounter {
    shards: Box<[CachePadded<AtomicU64>]>,
}

impl fmt::Debug for ShardedCounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShardedCounter")
            .field("value", &self.load())
            .field("shards", &self.shards.len())
            .finish()
    }
}

impl Default for ShardedCounter {
    fn default() -> Self {
        Self::new()
    }
}

impl ShardedCounter {
    /// A zero counter with one shard per available core (rounded up to a
    /// power of two, at least 4, at most 64).
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(4, |n| n.get());
        Self::with_shards(cores.clamp(4, 64))
    }

    /// A zero counter with `shards` shards (rounded up to a power of two).
    ///
    /// # Panics
    ///
    /// If `shards` is zero.
    pub fn with_shards(shards: usize) -> Self {
        assert!(shards > 0, "ShardedCounter needs at least one shard");
        let n = shards.next_power_of_two();
        ShardedCounter {
            shards: (0..n)
                .map(|_| CachePadded::new(AtomicU64::new(0)))
                .collect(),
        }
    }

    /// Adds `delta` (wrapping) to the calling thread's shard.
    #[inline]
    pub fn add(&self, delta: i64) {
        let i = thread_index() & (self.shards.len() - 1);
        // Relaxed: a counter orders nothing; `load` sums what it sees.
        self.shards[i].fetch_add(delta as u64, Ordering::Relaxed);
    }

    /// The sum of all shards. Exact when no `add` runs concurrently.
    pub fn load(&self) -> i64 {
        self.shards
            .iter()
            // Relaxed: as in `add`.
            .map(|s| s.load(Ordering::Relaxed))
            .fold(0u64, u64::wrapping_add) as i64
    }

    /// Resets every shard to zero and returns the sum they held.
    pub fn reset(&self) -> i64 {
        self.shards
            .iter()
            // Relaxed: as in `add`.
            .map(|s| s.swap(0, Ordering::Relaxed))
            .fold(0u64, u64::wrapping_add) as i64
    }
}
