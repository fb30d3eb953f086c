//! Heap footprint of the channels: a counting allocator and the table the
//! report prints.
//!
//! [`CountingAlloc`] forwards every call to the system allocator and, on a
//! thread that is inside [`live_bytes`], adds the size of each allocation
//! and subtracts the size of each free. The `hoare-bench` binary installs
//! it as its `#[global_allocator]`; elsewhere (criterion benches, tests)
//! nothing is counted and [`footprints`] returns `None`.
//!
//! Counting is per thread, in a thread-local `Cell`, so the timed
//! workloads pay one thread-local read per allocation and no shared
//! atomic, and allocator traffic on other threads cannot leak into a
//! footprint. Every channel here is built and filled on the measuring
//! thread itself.
//!
//! A footprint is net bytes: allocated minus freed while building the
//! channel (or while filling it), so a buffer that grows by reallocation
//! counts once, at its final size.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::mpsc;

/// Messages queued to measure the per-message cost of unbounded channels.
pub const QUEUED: u64 = 100_000;
/// The large bounded capacity of the footprint table.
pub const LARGE_CAP: usize = 1_000;

thread_local! {
    /// Whether this thread is inside [`live_bytes`]. `const` and without a
    /// destructor, so reading it never allocates and never fails, even
    /// while the thread is being torn down.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// Net bytes this thread allocated while counting.
    static NET: Cell<isize> = const { Cell::new(0) };
}

/// Adds `delta` to this thread's net count if it is counting.
#[inline]
fn count(delta: isize) {
    if COUNTING.with(Cell::get) {
        NET.with(|n| n.set(n.get() + delta));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_the_allocator_nothing_is_counted() {
        // The test harness runs on the system allocator.
        assert!(!installed());
        assert_eq!(footprints(), None);
    }
}
