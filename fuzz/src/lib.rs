//! What the fuzz targets share: a way to expect a panic under libFuzzer, and
//! a waker that counts its wake-ups.
//!
//! libfuzzer-sys installs a panic hook that aborts the process, so that every
//! panic is reported as a crash before the stack unwinds. The targets check
//! that misuse (a wait group counter going negative, a semaphore request
//! larger than the total) panics, so [`catch_expected_panic`] wraps that hook:
//! a panic inside it unwinds quietly to `catch_unwind`, any other panic still
//! aborts and is reported.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
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
            if !EXPECTING_PANIC.with(Cell::get) {
                fuzzer_hook(info);
            }
        }));
    });
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
