//! The flavor that never delivers (`never()`, Go's nil channel in a
//! `select`): every receive waits forever or until its own deadline, and
//! it never closes. It holds no state at all.

use crate::err::RecvTimeoutError;
use crate::primitives::{Instant, sleep_until};

/// Waits for `deadline`, or forever.
pub(crate) fn recv(deadline: Option<Instant>) -> RecvTimeoutError {
    loop {
        match deadline {
            Some(d) if Instant::now() >= d => return RecvTimeoutError::Timeout,
            Some(d) => sleep_until(d),
            None => sleep_until(Instant::now() + core::time::Duration::from_secs(3600)),
        }
    }
}
