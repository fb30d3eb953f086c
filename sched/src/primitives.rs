//! The one place that names `std::sync::atomic`, `std::cell::UnsafeCell`,
//! `std::thread` or `loom::*`.
//!
//! Every algorithm of the runtime (the run queues, the task state machine,
//! worker parking) imports its atomics, cells and threads from here, so
//! building with `RUSTFLAGS="--cfg loom"` runs the same code under the loom
//! model checker. Under loom there is no time: the monitor thread and the
//! timer wheel are not started, and models use no deadlines.

/// std's `Arc` also under loom: the runtime's shared state and timer
/// entries are reference counted, not part of any algorithm loom checks,
/// and methods on `&Arc<Self>` need std's type.
pub(crate) use std::sync::Arc;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence,
};
#[cfg(not(loom))]
pub(crate) use std::sync::{Condvar, Mutex, MutexGuard};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence,
};
#[cfg(loom)]
pub(crate) use loom::sync::{Condvar, Mutex, MutexGuard};

/// `UnsafeCell` with the access style of loom's: `with` / `with_mut` take
/// a closure over the raw pointer, so loom can check every access.
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(
    #[cfg(not(loom))] std::cell::UnsafeCell<T>,
    #[cfg(loom)] loom::cell::UnsafeCell<T>,
);

impl<T> UnsafeCell<T> {
    pub(crate) fn new(v: T) -> Self {
        #[cfg(not(loom))]
        {
            UnsafeCell(std::cell::UnsafeCell::new(v))
        }
        #[cfg(loom)]
        {
            UnsafeCell(loom::cell::UnsafeCell::new(v))
        }
    }

    /// Runs `f` with a shared pointer to the contents.
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        #[cfg(not(loom))]
        {
            f(self.0.get())
        }
        #[cfg(loom)]
        {
            self.0.with(f)
        }
    }

    /// Runs `f` with a mutable pointer to the contents.
    #[inline]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        #[cfg(not(loom))]
        {
            f(self.0.get())
        }
        #[cfg(loom)]
        {
            self.0.with_mut(f)
        }
    }
}

/// Spawns a named OS thread for a worker or the monitor.
pub(crate) fn spawn_thread(
    name: String,
    f: impl FnOnce() + Send + 'static,
) -> std::io::Result<JoinHandle> {
    #[cfg(not(loom))]
    {
        std::thread::Builder::new().name(name).spawn(f)
    }
    #[cfg(loom)]
    {
        let _ = name;
        Ok(loom::thread::spawn(f))
    }
}

#[cfg(not(loom))]
pub(crate) type JoinHandle = std::thread::JoinHandle<()>;
#[cfg(loom)]
pub(crate) type JoinHandle = loom::thread::JoinHandle<()>;

/// A one-thread parker: `park` returns after an `unpark` that happened
/// after the previous `park` returned (or spuriously).
///
/// Natively a futex word, as std's thread parker: `EMPTY`, `NOTIFIED` (a
/// token waits to be consumed), `PARKED` (the owner sleeps or is about to).
/// Under loom a `loom::sync::Notify`, which has the same token semantics.
///
/// A worker whose runtime has a park hook ([`crate::Builder::park_with`])
/// waits through [`Parker::park_driven`] instead: the hook blocks the
/// thread in its own way (a reactor's event loop, say) until the
/// [`Unparked`] future it is given is ready. `unpark` then wakes that
/// future's waker as well as the futex.
#[derive(Debug)]
pub(crate) struct Parker {
    #[cfg(not(loom))]
    state: std::sync::atomic::AtomicU32,
    /// The waker of an [`Unparked`] future a park hook is waiting on.
    #[cfg(not(loom))]
    waker: std::sync::Mutex<Option<std::task::Waker>>,
    /// Whether its owner parks through a hook ([`Parker::driven`]): only
    /// then does `unpark` look at `waker`.
    #[cfg(not(loom))]
    hooked: bool,
    #[cfg(loom)]
    notify: loom::sync::Notify,
}

#[cfg(not(loom))]
const EMPTY: u32 = 0;
#[cfg(not(loom))]
const NOTIFIED: u32 = 1;
#[cfg(not(loom))]
const PARKED: u32 = u32::MAX;

impl Parker {
    pub(crate) fn new() -> Self {
        Parker {
            #[cfg(not(loom))]
            state: std::sync::atomic::AtomicU32::new(EMPTY),
            #[cfg(not(loom))]
            waker: std::sync::Mutex::new(None),
            #[cfg(not(loom))]
            hooked: false,
            #[cfg(loom)]
            notify: loom::sync::Notify::new(),
        }
    }

    /// A parker whose owner parks through a hook
    /// ([`Parker::park_driven`]); under loom, a plain one.
    pub(crate) fn driven() -> Self {
        Parker {
            #[cfg(not(loom))]
            hooked: true,
            ..Parker::new()
        }
    }

    /// Blocks until [`Parker::unpark`] is called (a token left by an
    /// earlier `unpark` is consumed at once).
    pub(crate) fn park(&self) {
        #[cfg(not(loom))]
        {
            // Acquire: what the unparker did before `unpark` is visible.
            // NOTIFIED - 1 = EMPTY (token consumed); EMPTY - 1 = PARKED.
            if self.state.fetch_sub(1, Ordering::Acquire) == NOTIFIED {
                return;
            }
            loop {
                atomic_wait::wait(&self.state, PARKED);
                // Acquire: as above.
                if self
                    .state
                    .compare_exchange(NOTIFIED, EMPTY, Ordering::Acquire, Ordering::Acquire)
                    .is_ok()
                {
                    return;
                }
            }
        }
        #[cfg(loom)]
        self.notify.wait();
    }

    /// Wakes the parked thread, or makes its next `park` return at once.
    pub(crate) fn unpark(&self) {
        #[cfg(not(loom))]
        {
            // Release: pairs with the Acquire in `park` and in
            // `Unparked::poll`.
            if self.state.swap(NOTIFIED, Ordering::Release) == PARKED {
                atomic_wait::wake_one(&self.state);
                if !self.hooked {
                    return;
                }
                // A park hook's future registers its waker before its
                // last look at `state` (under this lock), and this take
                // comes after the swap: either that look sees NOTIFIED or
                // this take finds the waker.
                let waker = lock(&self.waker).take();
                if let Some(w) = waker {
                    w.wake();
                }
            }
        }
        #[cfg(loom)]
        self.notify.notify();
    }
}

#[cfg(not(loom))]
impl Parker {
    /// Blocks until [`Parker::unpark`], as [`Parker::park`], but through
    /// `hook`: it is handed an [`Unparked`] future and returns once that is
    /// ready. A hook that returns earlier is followed by a plain `park`.
    pub(crate) fn park_driven(&self, hook: &dyn Fn(Unparked<'_>)) {
        debug_assert!(self.hooked, "a driven park needs a `Parker::driven`");
        // Acquire: as in `park`. NOTIFIED - 1 = EMPTY; EMPTY - 1 = PARKED.
        if self.state.fetch_sub(1, Ordering::Acquire) == NOTIFIED {
            return;
        }
        let done = std::cell::Cell::new(false);
        // A panicking hook counts as one that returned early (its message
        // has been printed by the panic hook): the worker lives on.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            hook(Unparked {
                parker: self,
                done: &done,
            })
        }));
        // A waker left by a poll that returned `Pending` must not be
        // woken by a later `unpark`.
        lock(&self.waker).take();
        if done.get() || self.try_consume() {
            return;
        }
        // The hook gave up early. Only `unpark` changes `state` meanwhile,
        // and only to NOTIFIED: so it is PARKED, and back to EMPTY it goes
        // for a plain `park`, unless a token came in between.
        if self
            .state
            .compare_exchange(PARKED, EMPTY, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            let consumed = self.try_consume();
            debug_assert!(consumed, "only unpark changes a parked state");
            return;
        }
        self.park();
    }

    /// Consumes a waiting token; whether there was one.
    fn try_consume(&self) -> bool {
        // Acquire: pairs with the Release swap in `unpark`.
        self.state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }
}

/// The future a park hook ([`crate::Builder::park_with`]) waits on: ready
/// once the worker has been unparked (new work, or shutdown).
///
/// It is tied to the hook's call: the hook must drive it to completion (or
/// return early, and the worker then parks on its own) and must not keep
/// it.
#[derive(Debug)]
pub struct Unparked<'a> {
    #[cfg(not(loom))]
    parker: &'a Parker,
    #[cfg(not(loom))]
    done: &'a std::cell::Cell<bool>,
    #[cfg(loom)]
    _never: std::marker::PhantomData<&'a ()>,
}

impl std::future::Future for Unparked<'_> {
    type Output = ();

    #[cfg(not(loom))]
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.done.get() || self.parker.try_consume() {
            self.done.set(true);
            return std::task::Poll::Ready(());
        }
        {
            let mut slot = lock(&self.parker.waker);
            if !slot.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *slot = Some(cx.waker().clone());
            }
        }
        // The last look, after the waker is in place (see `unpark`).
        if self.parker.try_consume() {
            self.done.set(true);
            return std::task::Poll::Ready(());
        }
        std::task::Poll::Pending
    }

    /// Under loom no hook is called (workers park on the model's parker).
    #[cfg(loom)]
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        std::task::Poll::Ready(())
    }
}

/// Locks `m`, ignoring poisoning: every critical section of the runtime
/// leaves its data consistent even when user code panics elsewhere.
#[inline]
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Cooperative yield of the OS thread (spinning workers between steal
/// attempts).
#[inline]
pub(crate) fn yield_thread() {
    #[cfg(not(loom))]
    std::thread::yield_now();
    #[cfg(loom)]
    loom::thread::yield_now();
}

/// Under loom: always 0.
#[cfg(loom)]
pub(crate) fn fast_rand() -> u32 {
    // Deterministic under loom, whose executions must replay exactly.
    0
}

/// A cheap per-thread pseudo-random number (xorshift), for picking steal
/// victims.
#[cfg(not(loom))]
pub(crate) fn fast_rand() -> u32 {
    use std::cell::Cell;
    std::thread_local! {
        static STATE: Cell<u32> = const { Cell::new(0) };
    }
    STATE.with(|s| {
        let mut x = s.get();
        if x == 0 {
            // Seeded from the address of a thread-local: distinct per thread.
            x = (s as *const Cell<u32> as usize as u32) | 1;
        }
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        s.set(x);
        x
    })
}
