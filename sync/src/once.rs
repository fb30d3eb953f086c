//! [`Once`] and [`OnceCell`]: Go's `sync.Once` (and `sync.OnceValue`).
//!
//! # States
//!
//! | state        | meaning                                                   |
//! |--------------|-----------------------------------------------------------|
//! | `INCOMPLETE` | nobody has run the initializer successfully               |
//! | `RUNNING`    | one caller runs it; the others wait in the queue          |
//! | `COMPLETE`   | done; every later call returns at once (one Acquire load)  |
//!
//! The runner holds an [`InitGuard`]. Finishing moves `RUNNING ->
//! COMPLETE`; dropping the guard unfinished (the initializer panicked, or an
//! async initializer was cancelled) moves it back to `INCOMPLETE`. Either
//! way every waiter is woken, and after a failure they race to run it
//! again. Waiters check the state under the queue's lock and the runner
//! changes it before taking that lock, so no wake-up is lost.
//!
//! Unlike Go, whose `Once` counts a panicking call as done, a failed
//! initialization leaves the `Once` un-initialized (as Rust's `std::sync::
//! Once` does minus the poisoning): the next caller runs its initializer.

use core::fmt;
use core::future::Future;
use core::mem::MaybeUninit;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::primitives::{Arc, AtomicU32, Ordering, UnsafeCell};
use crate::waiter::{WaitQueue, Waiter};

const INCOMPLETE: u32 = 0;
const RUNNING: u32 = 1;
const COMPLETE: u32 = 2;

/// Runs a piece of code exactly once, as Go's `sync.Once`.
///
/// ```
/// use hoare_sync::Once;
///
/// static INIT: Once = Once::new();
/// let mut runs = 0;
/// INIT.call_once(|| runs += 1);
/// INIT.call_once(|| runs += 1);
/// assert_eq!(runs, 1);
/// ```
pub struct Once {
    state: AtomicU32,
    queue: WaitQueue,
}

impl fmt::Debug for Once {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Once")
            .field("completed", &self.is_completed())
            .finish()
    }
}

impl Default for Once {
    fn default() -> Self {
        Self::new()
    }
}

enum Start<'a> {
    Complete,
    Run(InitGuard<'a>),
    Wait,
}

/// Held by the caller running the initializer; see the module docs.
struct InitGuard<'a> {
    once: &'a Once,
    finished: bool,
}

impl InitGuard<'_> {
    fn finish(mut self) {
        self.finished = true;
    }
}

impl Drop for InitGuard<'_> {
    fn drop(&mut self) {
        let state = if self.finished { COMPLETE } else { INCOMPLETE };
        // Release: pairs with the Acquire load in `is_completed`/`start`,
        // publishing the initializer's writes.
        self.once.state.store(state, Ordering::Release);
        self.once.queue.lock().notify_all(0, 0);
    }
}

impl Once {
    /// A `Once` that has not run.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Once {
            state: AtomicU32::new(INCOMPLETE),
            queue: WaitQueue::new(),
        }
    }

    /// A `Once` that has not run.
    #[cfg(loom)]
    pub fn new() -> Self {
        Once {
            state: AtomicU32::new(INCOMPLETE),
            queue: WaitQueue::new(),
        }
    }

    /// Whether an initializer has completed.
    #[inline]
    pub fn is_completed(&self) -> bool {
        // Acquire: pairs with the Release store in `InitGuard::drop`.
        self.state.load(Ordering::Acquire) == COMPLETE
    }

    /// Runs `f` if no call has completed yet; waits if another is running.
    ///
    /// When this returns, some call's initializer has completed. If `f`
    /// panics, the panic propagates and the `Once` stays un-initialized:
    /// the next caller (or a waiting one) runs its own initializer.
    pub fn call_once(&self, f: impl FnOnce()) {
        if self.is_completed() {
            return;
        }
        self.call_once_slow(f);
    }

    #[cold]
    fn call_once_slow(&self, f: impl FnOnce()) {
        loop {
            match self.start() {
                Start::Complete => return,
                Start::Run(guard) => {
                    f();
                    guard.finish();
                    return;
                }
                Start::Wait => {
                    let waiter = Waiter::new();
                    if self.enqueue(&waiter) {
                        waiter.wait();
                        Waiter::recycle(waiter);
                    }
                }
            }
        }
    }

    fn start(&self) -> Start<'_> {
        // Acquire on success and failure: COMPLETE must see the init.
        match self
            .state
            .compare_exchange(INCOMPLETE, RUNNING, Ordering::Acquire, Ordering::Acquire)
        {
            Ok(_) => Start::Run(InitGuard {
                once: self,
                finished: false,
            }),
            Err(COMPLETE) => Start::Complete,
            Err(_) => Start::Wait,
        }
    }

    /// Queues `waiter` if an initializer is running. Returns whether queued.
    fn enqueue(&self, waiter: &Arc<Waiter>) -> bool {
        let mut queue = self.queue.lock();
        if self.state.load(Ordering::Relaxed) != RUNNING {
            return false;
        }
        queue.push_back(0, 0, waiter.clone());
        true
    }

    fn cancel(&self, waiter: &Arc<Waiter>) {
        // Every waiter is woken together: nothing to pass on.
        self.queue.lock().remove(waiter);
    }
}

/// Waits, from async code, until the running initializer ends.
struct WaitRunning<'a> {
    once: &'a Once,
    waiter: Option<Arc<Waiter>>,
}

impl Future for WaitRunning<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let once = this.once;
        Waiter::poll_queued(&mut this.waiter, cx, |w| once.enqueue(w)).map(|_| ())
    }
}

impl Drop for WaitRunning<'_> {
    fn drop(&mut self) {
        if let Some(waiter) = self.waiter.take() {
            self.once.cancel(&waiter);
        }
    }
}

/// A value initialized once, on first use, as Go's `sync.OnceValue`.
///
/// ```
/// use hoare_sync::OnceCell;
///
/// static CONFIG: OnceCell<String> = OnceCell::new();
/// assert_eq!(CONFIG.get_or_init(|| "ready".to_string()), "ready");
/// assert_eq!(CONFIG.get().map(String::as_str), Some("ready"));
/// ```
pub struct OnceCell<T> {
    once: Once,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the value is written once, by the single `InitGuard` holder, before
// the Release store of COMPLETE; afterwards it is only read through `&T`.
// Sharing therefore needs `T: Sync` (many readers) and `T: Send` (the value
// may be created on one thread and dropped on another).
unsafe impl<T: Send + Sync> Sync for OnceCell<T> {}
// SAFETY: owning the cell owns the value.
unsafe impl<T: Send> Send for OnceCell<T> {}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OnceCell").field(&self.get()).finish()
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> OnceCell<T> {
    /// An empty cell.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        OnceCell {
            once: Once::new(),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// An empty cell.
    #[cfg(loom)]
    pub fn new() -> Self {
        OnceCell {
            once: Once::new(),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// The value, if initialized.
    pub fn get(&self) -> Option<&T> {
        if self.once.is_completed() {
            // SAFETY: COMPLETE (seen with Acquire) means the value was
            // written and is never written again.
            Some(unsafe { self.get_unchecked() })
        } else {
            None
        }
    }

    /// The value, initializing it with `f` if it is empty. Concurrent
    /// callers wait for the one that runs its `f`; if that `f` panics, one
    /// of them runs its own.
    pub fn get_or_init(&self, f: impl FnOnce() -> T) -> &T {
        if let Some(v) = self.get() {
            return v;
        }
        let mut f = Some(f);
        self.once.call_once_slow(|| {
            let f = f.take().expect("called once");
            self.write(f());
        });
        // SAFETY: `call_once_slow` returns only once COMPLETE is set.
        unsafe { self.get_unchecked() }
    }

    /// The value, initializing it with the future `f()` returns if it is
    /// empty. Concurrent callers wait asynchronously. If the initializing
    /// future is dropped before it finishes, or panics, the cell stays
    /// empty and a waiting caller runs its own initializer.
    ///
    /// ```
    /// let cell = hoare_sync::OnceCell::new();
    /// let v = futures::executor::block_on(cell.get_or_init_async(|| async { 7 }));
    /// assert_eq!(*v, 7);
    /// ```
    pub async fn get_or_init_async<F, Fut>(&self, f: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        if let Some(v) = self.get() {
            return v;
        }
        loop {
            match self.once.start() {
                Start::Complete => break,
                Start::Run(guard) => {
                    let value = f().await;
                    self.write(value);
                    guard.finish();
                    break;
                }
                Start::Wait => {
                    WaitRunning {
                        once: &self.once,
                        waiter: None,
                    }
                    .await
                }
            }
        }
        // SAFETY: we only leave the loop once COMPLETE is set.
        unsafe { self.get_unchecked() }
    }

    /// Stores `value` if the cell is empty; gives it back otherwise.
    pub fn set(&self, value: T) -> Result<(), T> {
        let mut value = Some(value);
        self.get_or_init(|| value.take().expect("taken once"));
        match value {
            None => Ok(()),
            Some(v) => Err(v),
        }
    }

    /// Consumes the cell, returning the value if it was initialized.
    pub fn into_inner(self) -> Option<T> {
        if !self.once.is_completed() {
            return None;
        }
        // SAFETY: initialized (COMPLETE); resetting the state below keeps
        // `Drop` from dropping the value we move out.
        let value = unsafe { (*self.value.get()).assume_init_read() };
        self.once.state.store(INCOMPLETE, Ordering::Relaxed);
        Some(value)
    }

    /// Writes the value. Only the `InitGuard` holder calls this.
    fn write(&self, value: T) {
        // SAFETY: the caller holds the `InitGuard` (state RUNNING), so no
        // other thread reads or writes the cell now.
        unsafe { (*self.value.get()).write(value) };
    }

    /// # Safety
    ///
    /// The cell must be initialized (COMPLETE observed with Acquire).
    unsafe fn get_unchecked(&self) -> &T {
        // SAFETY: initialized, per the caller's duty; never written again.
        unsafe { (*self.value.get_shared()).assume_init_ref() }
    }
}

impl<T> Drop for OnceCell<T> {
    fn drop(&mut self) {
        if self.once.is_completed() {
            // SAFETY: initialized, and `&mut self` means no reader remains.
            unsafe { (*self.value.get()).assume_init_drop() };
        }
    }
}
