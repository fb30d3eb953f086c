//! Handle counting: when the last `Sender` or the last `Receiver` of a
//! channel goes, and when the channel's memory is freed.
//!
//! One allocation holds the flavor plus two counts. The last sender to
//! leave closes the channel (Go's `close` happens implicitly); the last
//! receiver to leave closes it and drops every buffered value. Whichever
//! side leaves second frees the allocation: each side's last handle sets
//! `destroy` with a `swap`, and the one that finds it already set frees.

use core::ops::Deref;
use core::ptr::NonNull;

use crate::primitives::{AtomicBool, AtomicUsize, Ordering};

struct Counter<C> {
    senders: AtomicUsize,
    receivers: AtomicUsize,
    destroy: AtomicBool,
    chan: C,
}

/// Allocates the channel with one sender and one receiver.
pub(crate) fn new<C>(chan: C) -> (Handle<C>, Handle<C>) {
    let counter = NonNull::from(Box::leak(Box::new(Counter {
        senders: AtomicUsize::new(1),
        receivers: AtomicUsize::new(1),
        destroy: AtomicBool::new(false),
        chan,
    })));
    (Handle { counter }, Handle { counter })
}

/// One counted reference to a channel (a sender's or a receiver's; the
/// handle types in `channel.rs` say which).
pub(crate) struct Handle<C> {
    counter: NonNull<Counter<C>>,
}

// SAFETY: a handle is a shared reference to the counter (the flavor
// decides its own thread-safety through `C: Send + Sync`).
unsafe impl<C: Send + Sync> Send for Handle<C> {}
// SAFETY: as for `Send`.
unsafe impl<C: Send + Sync> Sync for Handle<C> {}

impl<C> Handle<C> {
    fn counter(&self) -> &Counter<C> {
        // SAFETY: the allocation lives until both sides' last handles are
        // released, and this handle is not released yet.
        unsafe { self.counter.as_ref() }
    }

    /// Another sender handle.
    pub(crate) fn acquire_sender(&self) -> Handle<C> {
        Self::acquire(&self.counter().senders);
        Handle {
            counter: self.counter,
        }
    }

    /// Another receiver handle.
    pub(crate) fn acquire_receiver(&self) -> Handle<C> {
        Self::acquire(&self.counter().receivers);
        Handle {
            counter: self.counter,
        }
    }

    fn acquire(count: &AtomicUsize) {
        // Relaxed: a new handle is made from an existing one, which keeps
        // the allocation alive; no data is published (as `Arc::clone`).
        let old = count.fetch_add(1, Ordering::Relaxed);
        // Guard against overflow from leaked handles, as `Arc` does.
        assert!(old < isize::MAX as usize, "too many channel handles");
    }

    /// Releases a sender handle; `last` runs if it was the last sender.
    ///
    /// # Safety
    /// `self` is a sender handle and is not used again.
    pub(crate) unsafe fn release_sender(&self, last: impl FnOnce(&C)) {
        // SAFETY: the caller's duty.
        unsafe { self.release(&self.counter().senders, last) }
    }

    /// Releases a receiver handle; `last` runs if it was the last receiver.
    ///
    /// # Safety
    /// `self` is a receiver handle and is not used again.
    pub(crate) unsafe fn release_receiver(&self, last: impl FnOnce(&C)) {
        // SAFETY: the caller's duty.
        unsafe { self.release(&self.counter().receivers, last) }
    }

    unsafe fn release(&self, count: &AtomicUsize, last: impl FnOnce(&C)) {
        // AcqRel: the last handle of a side must see everything the others
        // did with the channel before it closes or frees it.
        if count.fetch_sub(1, Ordering::AcqRel) == 1 {
            last(&self.counter().chan);
            // AcqRel: the second side to finish sees the first side's work
            // and frees.
            if self.counter().destroy.swap(true, Ordering::AcqRel) {
                // SAFETY: both sides have released their last handle, so
                // this is the only reference; the box came from `new`.
                drop(unsafe { Box::from_raw(self.counter.as_ptr()) });
            }
        }
    }

    /// Whether both handles refer to the same channel.
    pub(crate) fn same(&self, other: &Handle<C>) -> bool {
        self.counter == other.counter
    }

    /// The channel's address, as an identity.
    pub(crate) fn addr(&self) -> usize {
        self.counter.as_ptr() as usize
    }
}

impl<C> Deref for Handle<C> {
    type Target = C;

    fn deref(&self) -> &C {
        &self.counter().chan
    }
}
