//! Helpers shared by the loom models (`mod loom_util;` in each
//! `loom_*.rs`): the model builder, a drop-counting payload and a one-shot
//! poll for futures.

#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

/// Runs `f` under loom with at most `LOOM_MAX_PREEMPTIONS` forced context
/// switches per execution (2 when the variable is unset, as `.ci/run`
/// sets it).
pub fn model(f: impl Fn() + Sync + Send + 'static) {
    let bound = std::env::var("LOOM_MAX_PREEMPTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    check(bound, f);
}

/// As [`model`], but with at most `bound` preemptions whatever
/// `LOOM_MAX_PREEMPTIONS` says: for the few models whose space at 2
/// preemptions does not fit the CI time budget (each says why).
pub fn model_with_preemptions(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    check(bound, f);
}

/// Builds and runs the model. With `HOARE_LOOM_STATS` set, prints how many
/// executions loom explored and how long it took. The branch limit is
/// raised for the models that fill a block of the unbounded flavor before
/// the race starts (each execution replays that prefix).
fn check(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(bound);
    builder.max_branches = 100_000;
    let runs = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let started = std::time::Instant::now();
    builder.check(move || {
        counter.fetch_add(1, Ordering::Relaxed);
        f()
    });
    if std::env::var_os("HOARE_LOOM_STATS").is_some() {
        eprintln!(
            "loom: {} executions in {:.1?}",
            runs.load(Ordering::Relaxed),
            started.elapsed()
        );
    }
}

/// Two loom threads each send one value (1 and 2) on clones of `tx` while
/// the calling thread receives twice; returns the two values received,
/// sorted. `tx` stays alive throughout: a sender thread's drop must not
/// close the channel and so wake a receiver that missed its wake-up.
pub fn two_senders_one_receiver(
    tx: &hoare_chan::Sender<usize>,
    rx: &hoare_chan::Receiver<usize>,
) -> [usize; 2] {
    let hs: Vec<_> = [1, 2]
        .into_iter()
        .map(|v| {
            let tx = tx.clone();
            loom::thread::spawn(move || tx.send(v).unwrap())
        })
        .collect();
    let mut got = [rx.recv().unwrap(), rx.recv().unwrap()];
    for h in hs {
        h.join().unwrap();
    }
    got.sort_unstable();
    got
}

/// Polls `f` once with a waker that does nothing.
pub fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(Waker::noop()))
}

/// Counts, per value, how often it was dropped.
///
/// The counts are plain `std` atomics on purpose: they are instrumentation,
/// not part of the protocol, so loom should not explore them (all loom
/// threads run on one OS thread, so the counts are exact). Make a fresh
/// `Drops` inside each execution of the model.
pub struct Drops {
    counts: Vec<AtomicUsize>,
}

impl Drops {
    /// A log for values `0..n`.
    pub fn new(n: usize) -> std::sync::Arc<Drops> {
        std::sync::Arc::new(Drops {
            counts: (0..n).map(|_| AtomicUsize::new(0)).collect(),
        })
    }

    /// How often value `id` was dropped so far.
    pub fn count(&self, id: usize) -> usize {
        self.counts[id].load(Ordering::SeqCst)
    }

    /// Asserts that every value was dropped exactly once (call when every
    /// value and every channel handle is gone).
    pub fn assert_each_dropped_once(&self) {
        for (id, c) in self.counts.iter().enumerate() {
            let c = c.load(Ordering::SeqCst);
            assert_eq!(c, 1, "value {id} was dropped {c} times");
        }
    }
}

/// A payload that records its drop in a [`Drops`] log.
pub struct Counted {
    pub id: usize,
    log: std::sync::Arc<Drops>,
}

impl Counted {
    pub fn new(log: &std::sync::Arc<Drops>, id: usize) -> Counted {
        Counted {
            id,
            log: log.clone(),
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.log.counts[self.id].fetch_add(1, Ordering::SeqCst);
    }
}

impl std::fmt::Debug for Counted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Counted({})", self.id)
    }
}
