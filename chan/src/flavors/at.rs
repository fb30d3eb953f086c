//! The one-shot timer flavor (`after(d)`, Go's `time.After`).
//!
//! No sender and no buffer: the channel holds its due instant and a
//! `delivered` flag. The first receive at or after the due instant wins
//! the flag (one `swap`) and gets the current instant; every other receive
//! waits forever (or until its own deadline), as on a Go timer channel
//! whose value was taken. It never closes.

use crate::err::{RecvTimeoutError, TryRecvError};
use crate::primitives::{AtomicBool, Instant, Ordering, sleep_until};

/// A channel that delivers one instant once `due` has passed.
pub(crate) struct At {
    due: Instant,
    delivered: AtomicBool,
}

impl At {
    pub(crate) fn new(due: Instant) -> Self {
        At {
            due,
            delivered: AtomicBool::new(false),
        }
    }

    pub(crate) fn try_recv(&self) -> Result<Instant, TryRecvError> {
        let now = Instant::now();
        // Relaxed: the flag guards no data, only "who gets the one value".
        if now >= self.due
            && !self.delivered.load(Ordering::Relaxed)
            && !self.delivered.swap(true, Ordering::Relaxed)
        {
            Ok(now)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    pub(crate) fn recv(&self, deadline: Option<Instant>) -> Result<Instant, RecvTimeoutError> {
        loop {
            if let Ok(v) = self.try_recv() {
                return Ok(v);
            }
            // Relaxed: as in `try_recv`.
            let wake = if self.delivered.load(Ordering::Relaxed) {
                deadline
            } else {
                Some(deadline.map_or(self.due, |d| d.min(self.due)))
            };
            match wake {
                Some(w) => {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Err(RecvTimeoutError::Timeout);
                    }
                    sleep_until(w);
                }
                None => sleep_until(Instant::now() + core::time::Duration::from_secs(3600)),
            }
        }
    }

    /// When a receive could next succeed (`None`: never again).
    pub(crate) fn next_due(&self) -> Option<Instant> {
        // Relaxed: as in `try_recv`.
        (!self.delivered.load(Ordering::Relaxed)).then_some(self.due)
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.next_due().is_some_and(|d| Instant::now() >= d)
    }

    pub(crate) fn len(&self) -> usize {
        usize::from(self.is_ready())
    }
}
