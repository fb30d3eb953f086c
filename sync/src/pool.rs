//! [`Pool`]: Go's `sync.Pool`, a cache of idle values to reuse instead of
//! building new ones.
//!
//! # Design
//!
//! Go keeps a private slot and a shared list per P and empties the pool
//! at every garbage collection. Without a collector, a pool here must
//! bound itself: it keeps at most a fixed number of idle values, and a
//! value put into a full pool is dropped, so a burst of puts never grows
//! it without limit.
//!
//! The idle values sit in one short stack per shard, a shard per core
//! (as many as [`std::thread::available_parallelism`], at most
//! [`Pool::MAX_SHARDS`], rounded up to a power of two), each behind its own
//! [`Mutex`] on its own cache line. A thread uses the shard its thread
//! index picks (threads are spread over the shards in the order they first
//! use one), so threads on different cores rarely touch the same lock or
//! line: a `get` and a `put` cost one uncontended lock each. A `get` that
//! finds its shard empty looks at the other shards with `try_lock` only,
//! never waiting for one, before it builds a new value; the values made
//! by one thread and put back by another (a producer and a consumer) are
//! found that way.
//!
//! Which idle value a `get` returns, and whether it returns one at all
//! rather than a new one, is unspecified, as in Go: a pool is a cache, not
//! a queue. A value's `Drop` never runs under a shard's lock.

use crossbeam_utils::CachePadded;

use crate::Mutex;
use crate::primitives::thread_index;

/// A bounded cache of idle values (Go's `sync.Pool`); see the module
/// docs.
///
/// ```
/// use hoare_sync::Pool;
///
/// // Go: var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}
/// let bufs = Pool::new(|| Vec::<u8>::with_capacity(4096));
///
/// let mut buf = bufs.get(); // reused if one is idle, else new
/// buf.extend_from_slice(b"hello");
/// // ... use it ...
/// buf.clear(); // a pool hands values back as they were put
/// bufs.put(buf);
///
/// let again = bufs.get();
/// assert!(again.is_empty() && again.capacity() >= 4096);
/// ```
///
/// A pool is `Sync` when `T: Send`: share it through an `Arc`, a
/// `static` (with [`std::sync::LazyLock`]) or a borrow, as Go shares a
/// `sync.Pool` by pointer.
pub struct Pool<T> {
    shards: Box<[CachePadded<Mutex<Vec<T>>>]>,
    /// Idle values kept per shard.
    per_shard: usize,
    make: Box<dyn Fn() -> T + Send + Sync>,
}

impl<T> Pool<T> {
    /// The idle values a [`Pool::new`] pool keeps at most, over all
    /// shards: enough for a few values per core in flight, small enough to
    /// ignore.
    pub const DEFAULT_CAPACITY: usize = 256;

    /// The most shards a pool has.
    pub const MAX_SHARDS: usize = 64;

    /// A pool that builds a value with `make` when it has none idle
    /// (Go's `New`), keeping at most [`Pool::DEFAULT_CAPACITY`] idle
    /// values.
    pub fn new(make: impl Fn() -> T + Send + Sync + 'static) -> Self {
        Self::with_capacity(Self::DEFAULT_CAPACITY, make)
    }

    /// A pool keeping at most about `capacity` idle values: `capacity` is
    /// split evenly over the shards, rounding up, so the bound is
    /// `capacity` rounded up to a multiple of the shard count. A pool
    /// with capacity 0 keeps nothing: every `get` builds a value.
    pub fn with_capacity(capacity: usize, make: impl Fn() -> T + Send + Sync + 'static) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let shards = cores.clamp(1, Self::MAX_SHARDS).next_power_of_two();
        Pool {
            shards: (0..shards)
                .map(|_| CachePadded::new(Mutex::new(Vec::new())))
                .collect(),
            per_shard: capacity.div_ceil(shards),
            make: Box::new(make),
        }
    }

    /// An idle value if there is one, else a new one from `make` (Go's
    /// `Get`).
    pub fn get(&self) -> T {
        self.try_get().unwrap_or_else(|| (self.make)())
    }

    /// An idle value, or `None` if the pool has none (Go's `Get` on a pool
    /// without `New`). Looks at the calling thread's shard, then at the
    /// others that are not locked at the moment.
    pub fn try_get(&self) -> Option<T> {
        let home = self.home();
        if let Some(v) = self.shards[home].lock().pop() {
            return Some(v);
        }
        let n = self.shards.len();
        (1..n).find_map(|i| self.shards[(home + i) & (n - 1)].try_lock()?.pop())
    }

    /// Puts `value` back for a later `get` (Go's `Put`); if the calling
    /// thread's shard already holds its share of the capacity, `value` is
    /// dropped instead. Reset a value before putting it back if the next
    /// user must not see its contents: the pool returns it as it is.
    pub fn put(&self, value: T) {
        let refused = {
            let mut idle = self.shards[self.home()].lock();
            if idle.len() < self.per_shard {
                idle.push(value);
                None
            } else {
                Some(value)
            }
        };
        // Dropped after the lock is released.
        drop(refused);
    }

    /// Drops every idle value (what Go's collector does to a pool).
    pub fn clear(&self) {
        for shard in self.shards.iter() {
            let idle = core::mem::take(&mut *shard.lock());
            drop(idle);
        }
    }

    /// How many idle values the pool holds (a snapshot).
    pub fn idle(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }

    /// The most idle values the pool keeps (the capacity rounded up to a
    /// multiple of the shard count).
    pub fn capacity(&self) -> usize {
        self.per_shard * self.shards.len()
    }

    /// The calling thread's shard.
    fn home(&self) -> usize {
        thread_index() & (self.shards.len() - 1)
    }
}

impl<T> core::fmt::Debug for Pool<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pool")
            .field("shards", &self.shards.len())
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}
