//! The periodic timer flavor (`tick(d)`, Go's `time.Tick`).
//!
//! The channel holds the next due instant, as nanoseconds since its
//! creation, in one atomic. A receive at or after it advances it by one
//! period with a CAS and gets the current instant; ticks that fell due
//! while nobody received are dropped (the next due instant is moved past
//! the present), as Go's ticker drops ticks for a slow receiver. It never
//! closes.

use core::time::Duration;

use crate::err::{RecvTimeoutError, TryRecvError};
use crate::primitives::{AtomicU64, Instant, Ordering, sleep_until};

/// A channel that delivers an instant every `period`.
pub(crate) struct Tick {
    start: Instant,
    period: u64,
    /// Nanoseconds after `start` of the next tick.
    next: AtomicU64,
}

impl Tick {
    pub(crate) fn new(period: Duration) -> Self {
        let period = u64::try_from(period.as_nanos()).unwrap_or(u64::MAX).max(1);
        Tick {
            start: Instant::now(),
            period,
            next: AtomicU64::new(period),
        }
    }

    fn at(&self, nanos: u64) -> Instant {
        self.start + Duration::from_nanos(nanos)
    }

    pub(crate) fn try_recv(&self) -> Result<Instant, TryRecvError> {
        // Relaxed: the word guards no data, only "who gets this tick".
        let mut next = self.next.load(Ordering::Relaxed);
        loop {
            let now = Instant::now();
            let elapsed =
                u64::try_from(now.duration_since(self.start).as_nanos()).unwrap_or(u64::MAX);
            if elapsed < next {
                return Err(TryRecvError::Empty);
            }
            // Skip the ticks nobody took, keep the phase.
            let missed = (elapsed - next) / self.period;
            let new = next.saturating_add((missed + 1).saturating_mul(self.period));
            match self
                .next
                .compare_exchange_weak(next, new, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Ok(now),
                Err(n) => next = n,
            }
        }
    }

    pub(crate) fn recv(&self, deadline: Option<Instant>) -> Result<Instant, RecvTimeoutError> {
        loop {
            if let Ok(v) = self.try_recv() {
                return Ok(v);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(RecvTimeoutError::Timeout);
            }
            let due = self.next_due();
            sleep_until(deadline.map_or(due, |d| d.min(due)));
        }
    }

    /// When the next tick falls due.
    pub(crate) fn next_due(&self) -> Instant {
        // Relaxed: as in `try_recv`.
        self.at(self.next.load(Ordering::Relaxed))
    }

    pub(crate) fn is_ready(&self) -> bool {
        Instant::now() >= self.next_due()
    }

    pub(crate) fn len(&self) -> usize {
        usize::from(self.is_ready())
    }
}
