//! Queueing policies: where a runnable task waits and which worker takes it.
//!
//! The workers (`runtime.rs`) are written against the small
//! [`Scheduling`] trait; two policies implement it:
//!
//! - [`WorkStealing`] (the default, Go's GMP): a local ring and `runnext`
//!   slot per P (`queue.rs`), a global inject queue that each worker checks
//!   first every [`GLOBAL_EVERY`] ticks (so it cannot starve behind busy
//!   local queues) and whenever its own queue is empty, and stealing of half
//!   a random victim's ring.
//! - [`GlobalFifo`]: one shared FIFO for everything, the textbook thread
//!   pool. It exists as a baseline for the benchmarks: the gap between the
//!   two is what locality and stealing buy.

use crate::primitives::fast_rand;
use crate::queue::{Inject, LOCAL_CAP, Local, RUNNEXT_CAP};
use crate::task::Notified;

/// Go checks the global queue every 61 scheduler ticks (`schedule` in
/// `proc.go`): a prime, so the check does not fall into step with a
/// program's own periodic patterns.
pub(crate) const GLOBAL_EVERY: u32 = 61;

/// How the runtime queues runnable tasks.
pub(crate) trait Scheduling: Send + Sync + 'static {
    /// A task woken (`next`) or spawned by code that runs on P `p`, or a
    /// task that yielded there (`next == false`). Only P `p`'s owner calls
    /// this.
    /// Returns whether the push left a task where other workers may take
    /// it (worth waking an idle one for).
    fn push_local(&self, p: usize, task: Notified, next: bool) -> bool;
    /// A task woken or spawned outside the workers.
    fn push_remote(&self, task: Notified);
    /// The next task for P `p` from its own queue or the global one.
    /// `streak` counts `runnext` runs in a row (the fairness cap).
    fn pop(&self, p: usize, tick: u32, streak: &mut u32) -> Option<Notified>;
    /// A task taken from another P; `busy(q)` says whether P `q`'s owner
    /// is inside a poll (then its `runnext` may be taken too).
    fn steal(&self, p: usize, busy: &dyn Fn(usize) -> bool) -> Option<Notified>;
    /// Whether any queue holds a task (a snapshot).
    fn has_work(&self) -> bool;
    /// Refuses further remote pushes and takes every queued task.
    fn close_and_drain(&self, out: &mut Vec<Notified>);
}

/// Go's policy: per-P queues, a global queue, stealing.
pub(crate) struct WorkStealing {
    locals: Box<[Local<Notified>]>,
    inject: Inject<Notified>,
}

impl WorkStealing {
    pub(crate) fn new(procs: usize) -> Self {
        WorkStealing {
            locals: (0..procs).map(|_| Local::new()).collect(),
            inject: Inject::new(),
        }
    }
}

impl Scheduling for WorkStealing {
    fn push_local(&self, p: usize, task: Notified, next: bool) -> bool {
        let local = &self.locals[p];
        if next {
            local.push_next(task, &self.inject)
        } else {
            local.push_back(task, &self.inject);
            true
        }
    }

    fn push_remote(&self, task: Notified) {
        self.inject.push(task);
    }

    fn pop(&self, p: usize, tick: u32, streak: &mut u32) -> Option<Notified> {
        let local = &self.locals[p];
        if tick % GLOBAL_EVERY == 0 {
            if let Some(t) = self.inject.pop() {
                *streak = 0;
                return Some(t);
            }
        }
        if let Some((t, from_next)) = local.pop(*streak < RUNNEXT_CAP) {
            *streak = if from_next { *streak + 1 } else { 0 };
            return Some(t);
        }
        *streak = 0;
        // Go's `globrunqget`: a fair share of the global queue, into our
        // ring, so that the next ticks need no lock.
        let share = 1 + LOCAL_CAP / 2 / self.locals.len().max(1);
        self.inject.pop_batch(local, share, &self.inject)
    }

    fn steal(&self, p: usize, busy: &dyn Fn(usize) -> bool) -> Option<Notified> {
        let n = self.locals.len();
        let own = &self.locals[p];
        // Two rounds over the victims in random order, as Go's
        // `stealWork` does (four rounds there); `runnext` only in the last,
        // to leave its owner a moment to run it.
        for round in 0..2 {
            let start = fast_rand() as usize % n;
            for i in 0..n {
                let v = (start + i) % n;
                if v == p {
                    continue;
                }
                let take_next = round == 1 && busy(v);
                if let Some(t) = self.locals[v].steal_into(own, take_next) {
                    return Some(t);
                }
            }
            if let Some(t) = self.inject.pop_batch(own, LOCAL_CAP / 2 / n, &self.inject) {
                return Some(t);
            }
        }
        None
    }

    fn has_work(&self) -> bool {
        !self.inject.is_empty() || self.locals.iter().any(|l| !l.is_empty())
    }

    fn close_and_drain(&self, out: &mut Vec<Notified>) {
        self.inject.close();
        for l in self.locals.iter() {
            l.drain(out);
        }
        self.inject.drain(out);
    }
}

/// The baseline policy: one global FIFO.
pub(crate) struct GlobalFifo {
    queue: Inject<Notified>,
}

impl GlobalFifo {
    pub(crate) fn new() -> Self {
        GlobalFifo {
            queue: Inject::new(),
        }
    }
}

impl Scheduling for GlobalFifo {
    fn push_local(&self, _p: usize, task: Notified, _next: bool) -> bool {
        self.queue.push(task);
        true
    }

    fn push_remote(&self, task: Notified) {
        self.queue.push(task);
    }

    fn pop(&self, _p: usize, _tick: u32, _streak: &mut u32) -> Option<Notified> {
        self.queue.pop()
    }

    fn steal(&self, _p: usize, _busy: &dyn Fn(usize) -> bool) -> Option<Notified> {
        self.queue.pop()
    }

    fn has_work(&self) -> bool {
        !self.queue.is_empty()
    }

    fn close_and_drain(&self, out: &mut Vec<Notified>) {
        self.queue.close();
        self.queue.drain(out);
    }
}
