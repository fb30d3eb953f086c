//! The performance targets the report checks.
//!
//! A target compares hoare's median with one named peer's median in the
//! same scenario of the same run: `ratio = hoare / peer`, met when
//! `ratio <= max_ratio`. The verdict is always computed from the
//! measurements; a target whose scenario was not measured (filtered out)
//! reports "not measured" instead of a verdict.

use crate::measure::Measurement;
use crate::sync_workloads as sync;
use crate::workload::Scenario;

/// One target: hoare against one peer in one scenario.
#[derive(Debug)]
pub struct Target {
    /// What the report calls it.
    pub label: &'static str,
    /// The scenario both sides run.
    pub scenario: &'static Scenario,
    /// The implementation under test (hoare's entry).
    pub subject: &'static str,
    /// The peer it is held against.
    pub peer: &'static str,
    /// Largest acceptable `subject / peer` ratio of medians.
    pub max_ratio: f64,
}

/// The verdict on one target in one run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Verdict {
    /// Both sides were measured and the ratio is within the target.
    Met(f64),
    /// Both sides were measured and the ratio exceeds the target.
    Missed(f64),
    /// One side is missing from this run.
    NotMeasured,
}

impl Target {
    /// The subject's and the peer's measurements in `run`, if both exist.
    pub fn pair<'a>(&self, run: &'a [Measurement]) -> Option<(&'a Measurement, &'a Measurement)> {
        let find = |implementation: &str| {
            run.iter().find(|m| {
                std::ptr::eq(m.workload.scenario, self.scenario)
                    && m.workload.implementation == implementation
            })
        };
        Some((find(self.subject)?, find(self.peer)?))
    }

    /// Judges this target against a run's measurements.
    pub fn judge(&self, run: &[Measurement]) -> Verdict {
        match self.pair(run) {
            Some((subject, peer)) if peer.stats.median > 0.0 => {
                let ratio = subject.stats.median / peer.stats.median;
                if ratio <= self.max_ratio {
                    Verdict::Met(ratio)
                } else {
                    Verdict::Missed(ratio)
                }
            }
            _ => Verdict::NotMeasured,
        }
    }

    /// Whether the subject's and the peer's interquartile ranges overlap:
    /// then the sign of their difference is within this run's noise.
    pub fn within_noise(&self, run: &[Measurement]) -> Option<bool> {
        let (a, b) = self.pair(run)?;
        Some(a.stats.p25 <= b.stats.p75 && b.stats.p25 <= a.stats.p75)
    }
}

/// The project's targets for hoare-sync (issue: bench-suite sync workloads).
pub static TARGETS: &[Target] = &[
    Target {
        label: "Uncontended Mutex vs std Mutex",
        scenario: &sync::MUTEX_UNCONTENDED,
        subject: "hoare",
        peer: "std",
        max_ratio: 1.0,
    },
    Target {
        label: "Contended Mutex (2 threads) vs parking_lot Mutex",
        scenario: &sync::MUTEX_CONTENDED,
        subject: "hoare",
        peer: "parking_lot",
        max_ratio: 1.0,
    },
    Target {
        label: "Read-mostly RwMutex vs std RwLock",
        scenario: &sync::RWMUTEX_READ_MOSTLY,
        subject: "hoare",
        peer: "std",
        max_ratio: 1.0,
    },
    Target {
        label: "Async Semaphore vs tokio Semaphore (uncontended)",
        scenario: &sync::SEMAPHORE_UNCONTENDED,
        subject: "hoare",
        peer: "tokio",
        max_ratio: 0.8,
    },
    Target {
        label: "Async Semaphore vs tokio Semaphore (contended)",
        scenario: &sync::SEMAPHORE_CONTENDED,
        subject: "hoare",
        peer: "tokio",
        max_ratio: 0.8,
    },
];
