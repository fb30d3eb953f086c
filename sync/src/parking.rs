//! The address-keyed table of wait queues behind [`Mutex`](crate::Mutex).
//!
//! A `Mutex` is a single 4-byte word (as Go's and std's are), so it has no
//! room for a queue of its own. Its waiters go into one of a fixed set of
//! [`WaitQueue`]s chosen by hashing the mutex's address, keyed by that
//! address, in the manner of Go's `semaTable` and parking_lot's hash table.
//! Collisions only share a spin lock; the key keeps the waiters apart.

use crate::waiter::WaitQueue;

#[cfg(not(loom))]
const BUCKETS: usize = 64;

#[cfg(not(loom))]
static TABLE: [WaitQueue; BUCKETS] = [const { WaitQueue::new() }; BUCKETS];

/// The queue for the object at `addr`.
#[cfg(not(loom))]
pub(crate) fn queue_for(addr: usize) -> &'static WaitQueue {
    // Fibonacci hashing of the address without its alignment bits.
    let h = (addr >> 2).wrapping_mul(0x9E37_79B9_7F4A_7C15_u64 as usize);
    &TABLE[h >> (usize::BITS - BUCKETS.trailing_zeros())]
}

#[cfg(loom)]
loom::lazy_static! {
    // One bucket: under loom every mutex shares it, which the keys allow.
    static ref TABLE: WaitQueue = WaitQueue::new();
}

#[cfg(loom)]
pub(crate) fn queue_for(_addr: usize) -> &'static WaitQueue {
    &TABLE
}
