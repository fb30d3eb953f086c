//! A tiny test-and-test-and-set lock for the waiter queues.
//!
//! It guards only short, non-blocking sections (push or pop of a waiter and
//! an update of the owner's state word), never user code, so spinning is
//! cheaper than parking. After a few rounds of `spin_loop` it yields the time
//! slice, so a holder preempted on a single core still makes progress.
//!
//! Under loom it is a loom mutex instead (see the loom `SpinLock::lock`).

use core::ops::{Deref, DerefMut};

use crate::primitives::UnsafeCell;
#[cfg(not(loom))]
use crate::primitives::{AtomicBool, Ordering, spin_hint, yield_now};
#[cfg(loom)]
use crate::primitives::{ModelMutex, ModelMutexGuard};

/// Mutual exclusion by spinning, for sections of a few instructions.
#[derive(Debug)]
pub(crate) struct SpinLock<T> {
    #[cfg(not(loom))]
    locked: AtomicBool,
    #[cfg(loom)]
    locked: ModelMutex<()>,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out access to `value` to one thread at a time (the
// Acquire CAS in `lock` pairs with the Release store in the guard's drop), so
// it is `Sync` whenever the value may be sent between threads.
unsafe impl<T: Send> Sync for SpinLock<T> {}
// SAFETY: owning the lock owns the value.
unsafe impl<T: Send> Send for SpinLock<T> {}

impl<T> SpinLock<T> {
    #[cfg(not(loom))]
    pub(crate) const fn new(value: T) -> Self {
        SpinLock {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    #[cfg(loom)]
    pub(crate) fn new(value: T) -> Self {
        SpinLock {
            locked: ModelMutex::new(()),
            value: UnsafeCell::new(value),
        }
    }

    /// The value, without locking: `&mut self` proves nobody else holds
    /// the lock.
    pub(crate) fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` is the only reference to the lock, so no guard
        // exists and no other thread can reach `value`.
        unsafe { &mut *self.value.get() }
    }

    #[cfg(not(loom))]
    pub(crate) fn lock(&self) -> SpinGuard<'_, T> {
        let mut spins = 0u32;
        loop {
            // Acquire: pairs with the Release store in `SpinGuard::drop`, so
            // the previous holder's writes to `value` are visible.
            if self
                .locked
                .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return SpinGuard { lock: self };
            }
            // Test before test-and-set: wait on a shared cache line.
            while self.locked.load(Ordering::Relaxed) {
                if spins < 6 {
                    for _ in 0..(1u32 << spins) {
                        spin_hint();
                    }
                    spins += 1;
                } else {
                    yield_now();
                }
            }
        }
    }

    /// Under loom a thread that finds the lock taken blocks on a loom
    /// mutex instead of spinning. With two threads spinning on a preempted
    /// holder, loom may run the spinners against each other forever (each
    /// `yield_now` hands over to the other spinner: a legal, unfair
    /// schedule), and the model fails with "exceeded maximum number of
    /// branches". A blocked thread is not runnable, so loom must run the
    /// holder. The happens-before edge from one holder to the next is the
    /// one the native lock's Acquire CAS and Release store give.
    #[cfg(loom)]
    pub(crate) fn lock(&self) -> SpinGuard<'_, T> {
        SpinGuard {
            lock: self,
            _held: self
                .locked
                .lock()
                .expect("no user code runs under the lock"),
        }
    }
}

pub(crate) struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
    #[cfg(loom)]
    _held: ModelMutexGuard<'a, ()>,
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while `locked` is held by this thread
        // (set in `SpinLock::lock`), so no other reference to `value` exists.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only borrow.
        unsafe { &mut *self.lock.value.get() }
    }
}

#[cfg(not(loom))]
impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        // Release: pairs with the Acquire CAS in `lock` by the next holder.
        self.lock.locked.store(false, Ordering::Release);
    }
}
