//! What the fuzz targets share: a way to expect a panic under libFuzzer, a
//! waker that counts its wake-ups, and a payload that counts its drops.
//!
//! libfuzzer-sys installs a panic hook that aborts the process, so that every
//! panic is reported as a crash before the stack unwinds. The targets check
//! that misuse (a wait group counter going negative, a semaphore request
//! larger than the total) panics, so [`catch_expected_panic`] wraps that hook:
//! a panic inside it unwinds quietly to `catch_unwind`, any other panic still
//! aborts and is reported. A panic raised on purpose on a thread the target
//! does not run itself (a runtime's worker) goes through [`expected_panic`]
//! instead: the hook recognizes its payload on any thread.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::task::{Wake, Waker};

thread_local! {
    static EXPECTING_PANIC: Cell<bool> = const { Cell::new(false) };
}

fn install_hook() {
    static HOOK: Once = Once::new();
    // Called from the fuzz body, so after libfuzzer-sys has set its hook:
    // that hook becomes `fuzzer_hook` and keeps handling unexpected panics.
    HOOK.call_once(|| {
        let fuzzer_hook = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !EXPECTING_PANIC.with(Cell::get) && !info.payload().is::<ExpectedPanic>() {
                fuzzer_hook(info);
            }
        }));
    });
}

/// The payload of a panic raised by [`expected_panic`]: the id it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedPanic(pub u64);

/// Panics with [`ExpectedPanic`]`(id)` as the payload, without aborting the
/// fuzzer, on whatever thread it runs: for a panic the code under test is to
/// catch itself (a task's panic that its runtime turns into a join error).
/// The payload tells the catcher which panic it got.
pub fn expected_panic(id: u64) -> ! {
    install_hook();
    panic::panic_any(ExpectedPanic(id))
}

/// Runs `f`; `Err(message)` if it panicked, without aborting the fuzzer.
pub fn catch_expected_panic<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    install_hook();
    EXPECTING_PANIC.with(|e| e.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    EXPECTING_PANIC.with(|e| e.set(false));
    result.map_err(|payload| {
        if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            String::from("<non-string panic payload>")
        }
    })
}

/// A waker that does nothing but count how often it was woken.
#[derive(Debug, Default)]
pub struct WakeCounter(AtomicUsize);

impl WakeCounter {
    /// A fresh counter and a waker that bumps it.
    pub fn new_waker() -> (Arc<WakeCounter>, Waker) {
        let counter = Arc::new(WakeCounter::default());
        (counter.clone(), Waker::from(counter))
    }

    /// Wake-ups so far.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Wake for WakeCounter {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// The drop counts of every [`Tracked`] value made from it, by id.
///
/// A value dropped a second time panics in its `Drop` (which libFuzzer
/// reports as a crash, with the second drop's stack); values never dropped
/// show up in [`DropLog::drops`] and [`DropLog::undropped`].
#[derive(Debug, Default)]
pub struct DropLog {
    drops: Mutex<BTreeMap<u64, u32>>,
    total: AtomicUsize,
}

impl DropLog {
    /// An empty log.
    pub fn new() -> Arc<DropLog> {
        Arc::new(DropLog::default())
    }

    /// A new value with `id`, which must not have been used before.
    pub fn value(self: &Arc<Self>, id: u64) -> Tracked {
        let fresh = self.lock().insert(id, 0).is_none();
        assert!(fresh, "value id {id} made twice");
        Tracked {
            id,
            log: self.clone(),
        }
    }

    /// How often value `id` was dropped so far.
    pub fn drops(&self, id: u64) -> u32 {
        *self.lock().get(&id).expect("an id that was made")
    }

    /// Values made so far.
    pub fn made(&self) -> usize {
        self.lock().len()
    }

    /// Drops so far, of all values.
    pub fn total_drops(&self) -> usize {
        self.total.load(Ordering::SeqCst)
    }

    /// The ids of values not dropped yet.
    pub fn undropped(&self) -> Vec<u64> {
        self.lock()
            .iter()
            .filter(|&(_, &n)| n == 0)
            .map(|(&id, _)| id)
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, u32>> {
        // A panic elsewhere must not hide the counts.
        self.drops.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A payload that records its drop in a [`DropLog`].
pub struct Tracked {
    id: u64,
    log: Arc<DropLog>,
}

impl Tracked {
    /// The id it was made with.
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl fmt::Debug for Tracked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tracked({})", self.id)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let before = {
            let mut drops = self.log.lock();
            let n = drops.get_mut(&self.id).expect("an id that was made");
            *n += 1;
            *n - 1
        };
        self.log.total.fetch_add(1, Ordering::SeqCst);
        assert_eq!(before, 0, "value {} dropped twice", self.id);
    }
}
