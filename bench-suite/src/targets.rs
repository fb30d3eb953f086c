//! The performance targets the report checks.
//!
//! A target holds hoare's median against peers' medians from the same run,
//! in one of three ways ([`Against`]):
//!
//! * one named peer in one scenario: `ratio = hoare / peer`;
//! * the fastest peer in one scenario, whoever it is in this run;
//! * one named peer over a set of scenarios: the geometric mean of the
//!   per-scenario ratios, so every scenario weighs the same whether its
//!   messages cost 10 ns or 30 µs.
//!
//! A target is met when its ratio is at most `max_ratio`. The verdict is
//! always computed from the measurements; a target whose scenarios were
//! not measured (filtered out) reports "not measured" instead.
//!
//! A peer is an implementation that is not hoare's: variants of hoare
//! itself (`hoare-fifo`, hoare-sched on a global FIFO) are baselines in
//! their tables and never the peer a target holds hoare against.
//!
//! Heap footprints have absolute limits instead ([`MemoryTarget`]): bytes
//! per idle task, the scheduler's own overhead (the row of tasks that wait
//! on nothing, [`IdleWait::Nothing`]), excluding the future.

use crate::chan_workloads as chan;
use crate::measure::Measurement;
use crate::memory::{IdleFootprint, IdleWait};
use crate::sched_workloads as sched;
use crate::sync_workloads as sync;
use crate::workload::{self, Scenario};

/// What hoare is held against.
#[derive(Debug)]
pub enum Against {
    /// One named peer in one scenario.
    Peer {
        /// The scenario both sides run.
        scenario: &'static Scenario,
        /// The peer's implementation name.
        peer: &'static str,
    },
    /// The fastest implementation other than hoare (and its variants) in
    /// one scenario.
    BestPeer {
        /// The scenario.
        scenario: &'static Scenario,
    },
    /// One named peer, geometric mean of the ratios over several scenarios.
    GeoMean {
        /// The scenarios; those missing from a run are left out of it.
        scenarios: Vec<&'static Scenario>,
        /// The peer's implementation name.
        peer: &'static str,
        /// How the report names the set of scenarios.
        over: &'static str,
    },
}

/// One target.
#[derive(Debug)]
pub struct Target {
    /// What the report calls it.
    pub label: String,
    /// The implementation under test (hoare's entry).
    pub subject: &'static str,
    /// What it is held against.
    pub against: Against,
    /// Largest acceptable ratio.
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

/// The measurement of `implementation` in `scenario`, if the run has it.
fn find<'a>(
    run: &'a [Measurement],
    scenario: &Scenario,
    implementation: &str,
) -> Option<&'a Measurement> {
    run.iter().find(|m| {
        std::ptr::eq(m.workload.scenario, scenario) && m.workload.implementation == implementation
    })
}

/// The fastest measurement in `scenario` that is neither `subject`'s nor
/// any other of hoare's ([`crate::Workload::is_hoare`]: a baseline such as
/// `hoare-fifo` is not a peer).
fn best_peer<'a>(
    run: &'a [Measurement],
    scenario: &Scenario,
    subject: &str,
) -> Option<&'a Measurement> {
    run.iter()
        .filter(|m| {
            std::ptr::eq(m.workload.scenario, scenario)
                && m.workload.implementation != subject
                && !m.workload.is_hoare()
        })
        .min_by(|a, b| a.stats.median.total_cmp(&b.stats.median))
}

impl Target {
    /// For a single-scenario target, the subject's and the peer's
    /// measurements in `run`, if both exist.
    pub fn pair<'a>(&self, run: &'a [Measurement]) -> Option<(&'a Measurement, &'a Measurement)> {
        match &self.against {
            Against::Peer { scenario, peer } => Some((
                find(run, scenario, self.subject)?,
                find(run, scenario, peer)?,
            )),
            Against::BestPeer { scenario } => Some((
                find(run, scenario, self.subject)?,
                best_peer(run, scenario, self.subject)?,
            )),
            Against::GeoMean { .. } => None,
        }
    }

    /// The peer this target compares with in `run`: the named one, or the
    /// fastest one there (`None` if it has no measured peer).
    pub fn peer_name(&self, run: &[Measurement]) -> Option<&'static str> {
        match &self.against {
            Against::Peer { peer, .. } | Against::GeoMean { peer, .. } => Some(peer),
            Against::BestPeer { .. } => self.pair(run).map(|(_, p)| p.workload.implementation),
        }
    }

    /// How the report names the target's scenarios.
    pub fn scope(&self) -> String {
        match &self.against {
            Against::Peer { scenario, .. } | Against::BestPeer { scenario } => {
                format!("`{}`", scenario.id())
            }
            Against::GeoMean {
                scenarios, over, ..
            } => format!("{over} ({} scenarios)", scenarios.len()),
        }
    }

    /// The target's ratio in `run`, if it can be computed.
    pub fn ratio(&self, run: &[Measurement]) -> Option<f64> {
        match &self.against {
            Against::GeoMean {
                scenarios, peer, ..
            } => {
                let logs: Vec<f64> = scenarios
                    .iter()
                    .filter_map(|s| Some((find(run, s, self.subject)?, find(run, s, peer)?)))
                    .filter(|(_, p)| p.stats.median > 0.0)
                    .map(|(h, p)| (h.stats.median / p.stats.median).ln())
                    .collect();
                (!logs.is_empty()).then(|| (logs.iter().sum::<f64>() / logs.len() as f64).exp())
            }
            _ => {
                let (subject, peer) = self.pair(run)?;
                (peer.stats.median > 0.0).then(|| subject.stats.median / peer.stats.median)
            }
        }
    }

    /// Judges this target against a run's measurements.
    pub fn judge(&self, run: &[Measurement]) -> Verdict {
        match self.ratio(run) {
            Some(r) if r <= self.max_ratio => Verdict::Met(r),
            Some(r) => Verdict::Missed(r),
            None => Verdict::NotMeasured,
        }
    }

    /// For a single-scenario target, whether the subject's and the peer's
    /// interquartile ranges overlap: then the sign of their difference is
    /// within this run's noise.
    pub fn within_noise(&self, run: &[Measurement]) -> Option<bool> {
        let (a, b) = self.pair(run)?;
        Some(a.stats.p25 <= b.stats.p75 && b.stats.p25 <= a.stats.p75)
    }
}

/// hoare against `peer` in `scenario`.
fn against_peer(label: &str, scenario: &'static Scenario, peer: &'static str, max: f64) -> Target {
    Target {
        label: label.to_owned(),
        subject: "hoare",
        against: Against::Peer { scenario, peer },
        max_ratio: max,
    }
}

/// Every time target of the project, in report order: hoare-sync's
/// (issue: bench-suite sync workloads), then hoare-chan's (issue: channel
/// workloads): every channel scenario at most as slow as its fastest peer,
/// and over crossbeam's thread workloads a geometric mean at most 0.8 of
/// crossbeam-channel; then hoare-sched's: every scheduler scenario that
/// has a peer at most as slow as the fastest (tokio or Go). The fastest
/// peer of a channel or scheduler scenario includes Go where the Go
/// program runs it. The memory targets are [`memory`]'s.
pub fn all() -> Vec<Target> {
    let mut targets = vec![
        against_peer(
            "Uncontended Mutex vs std Mutex",
            &sync::MUTEX_UNCONTENDED,
            "std",
            1.0,
        ),
        against_peer(
            "Contended Mutex (2 threads) vs parking_lot Mutex",
            &sync::MUTEX_CONTENDED,
            "parking_lot",
            1.0,
        ),
        against_peer(
            "Read-mostly RwMutex vs std RwLock",
            &sync::RWMUTEX_READ_MOSTLY,
            "std",
            1.0,
        ),
        against_peer(
            "Read-mostly Map vs dashmap",
            &sync::MAP_READ_MOSTLY,
            "dashmap",
            1.0,
        ),
        against_peer(
            "Async Semaphore vs tokio Semaphore (uncontended)",
            &sync::SEMAPHORE_UNCONTENDED,
            "tokio",
            0.8,
        ),
        against_peer(
            "Async Semaphore vs tokio Semaphore (contended)",
            &sync::SEMAPHORE_CONTENDED,
            "tokio",
            0.8,
        ),
    ];
    targets.push(Target {
        label: "Channel thread workloads vs crossbeam-channel (geometric mean)".to_owned(),
        subject: "hoare",
        against: Against::GeoMean {
            scenarios: chan::thread_scenarios(),
            peer: "crossbeam",
            over: "crossbeam's suite + ping-pong on 2 cores",
        },
        max_ratio: 0.8,
    });
    let chan_workloads = chan::workloads();
    for (scenario, _) in workload::by_scenario(&chan_workloads) {
        targets.push(Target {
            label: format!("{} vs the fastest peer", scenario.title),
            subject: "hoare",
            against: Against::BestPeer { scenario },
            max_ratio: 1.0,
        });
    }
    let sched_workloads = sched::workloads();
    for (scenario, entries) in workload::by_scenario(&sched_workloads) {
        // `async_mpmc_unbounded` has no peer: tokio's mpsc has one
        // consumer and Go no unbounded channel.
        if entries.iter().all(|w| w.is_hoare()) {
            continue;
        }
        targets.push(Target {
            label: format!("{} vs the fastest peer", scenario.title),
            subject: "hoare",
            against: Against::BestPeer { scenario },
            max_ratio: 1.0,
        });
    }
    targets
}

/// An absolute limit on a heap footprint: the bytes of one idle task of
/// one row of the idle-task table, less its future's own size.
#[derive(Debug)]
pub struct MemoryTarget {
    /// What the report calls it.
    pub label: &'static str,
    /// The implementation under test (hoare's entry).
    pub subject: &'static str,
    /// The row it applies to: what the idle tasks wait on.
    pub wait: IdleWait,
    /// Largest acceptable bytes per idle task, excluding the future.
    pub max_bytes: f64,
}

impl MemoryTarget {
    /// How the report names what the target measures.
    pub fn scope(&self) -> String {
        format!("`sched` idle tasks, {}", self.wait.describe())
    }

    /// The subject's bytes per idle task excluding the future in the
    /// target's row, if measured.
    pub fn bytes(&self, idle: Option<&[IdleFootprint]>) -> Option<f64> {
        idle?
            .iter()
            .find(|f| f.implementation == self.subject && f.wait == self.wait)
            .map(IdleFootprint::excluding_future)
    }

    /// Judges this target against a run's idle-task footprints; the
    /// verdict carries the bytes.
    pub fn judge(&self, idle: Option<&[IdleFootprint]>) -> Verdict {
        match self.bytes(idle) {
            Some(b) if b <= self.max_bytes => Verdict::Met(b),
            Some(b) => Verdict::Missed(b),
            None => Verdict::NotMeasured,
        }
    }
}

/// Every memory target, in report order (issue: scheduler workloads): an
/// idle hoare-sched task costs at most 128 bytes beyond its future (header
/// and scheduling state), measured on tasks that wait on nothing, so that
/// no channel's waiter state is counted.
pub fn memory() -> Vec<MemoryTarget> {
    vec![MemoryTarget {
        label: "Bytes per idle task (scheduler overhead), excluding the future",
        subject: "hoare",
        wait: IdleWait::Nothing,
        max_bytes: 128.0,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::measured;

    #[test]
    fn best_peer_is_the_fastest_other_implementation() {
        let s = &chan::SPSC[0];
        let run = [
            measured(s, "hoare", 90.0),
            measured(s, "crossbeam", 100.0),
            measured(s, "kanal", 60.0),
        ];
        let t = Target {
            label: String::new(),
            subject: "hoare",
            against: Against::BestPeer { scenario: s },
            max_ratio: 1.0,
        };
        assert_eq!(t.peer_name(&run), Some("kanal"));
        assert_eq!(t.judge(&run), Verdict::Missed(1.5));
    }

    #[test]
    fn a_hoare_variant_is_never_the_peer() {
        let s = &sched::YIELD_MANY;
        let run = [
            measured(s, "hoare", 90.0),
            measured(s, "tokio", 100.0),
            measured(s, "hoare-fifo", 50.0),
        ];
        let t = Target {
            label: String::new(),
            subject: "hoare",
            against: Against::BestPeer { scenario: s },
            max_ratio: 1.0,
        };
        assert_eq!(t.peer_name(&run), Some("tokio"));
        assert_eq!(t.judge(&run), Verdict::Met(0.9));
        assert_eq!(
            t.judge(&[measured(s, "hoare", 90.0), measured(s, "hoare-fifo", 50.0)]),
            Verdict::NotMeasured
        );
    }

    #[test]
    fn every_sched_scenario_with_a_peer_has_a_target() {
        let targets = all();
        let scoped: Vec<String> = targets.iter().map(Target::scope).collect();
        for s in sched::workloads().iter().map(|w| w.scenario) {
            let has_target = scoped.contains(&format!("`{}`", s.id()));
            assert_eq!(has_target, s.name != "async_mpmc_unbounded", "{}", s.id());
        }
    }

    fn idle(implementation: &'static str, wait: IdleWait, bytes: f64) -> IdleFootprint {
        IdleFootprint {
            implementation,
            wait,
            bytes_per_task: bytes,
            future_size: 80,
        }
    }

    #[test]
    fn memory_targets_exclude_the_future() {
        let rows = [idle("hoare", IdleWait::Nothing, 200.0)];
        let t = &memory()[0];
        assert_eq!(t.judge(Some(&rows)), Verdict::Met(120.0));
        assert_eq!(t.judge(None), Verdict::NotMeasured);
    }

    #[test]
    fn the_memory_target_holds_the_scheduler_overhead_row() {
        let t = &memory()[0];
        assert_eq!(t.wait, IdleWait::Nothing);
        // The channel row (which counts the channel's waiter state) and
        // other runtimes' rows are not the target's.
        let rows = [
            idle("hoare", IdleWait::ChannelReceive, 400.0),
            idle("tokio", IdleWait::Nothing, 100.0),
            idle("hoare", IdleWait::Nothing, 300.0),
            idle("hoare-fifo", IdleWait::Nothing, 100.0),
        ];
        assert_eq!(t.judge(Some(&rows)), Verdict::Missed(220.0));
        assert_eq!(t.judge(Some(&rows[..2])), Verdict::NotMeasured);
        assert_eq!(t.scope(), "`sched` idle tasks, scheduler overhead");
    }

    #[test]
    fn geometric_mean_weighs_every_scenario_alike() {
        let (a, b) = (&chan::SPSC[0], &chan::SPSC[1]);
        let run = [
            measured(a, "hoare", 1_000.0),
            measured(a, "crossbeam", 4_000.0),
            measured(b, "hoare", 20.0),
            measured(b, "crossbeam", 10.0),
        ];
        let t = Target {
            label: String::new(),
            subject: "hoare",
            against: Against::GeoMean {
                scenarios: vec![a, b, &chan::SPSC[2]],
                peer: "crossbeam",
                over: "test",
            },
            max_ratio: 0.8,
        };
        // sqrt(0.25 * 2.0); the unmeasured third scenario is left out.
        let r = t.ratio(&run).expect("two scenarios measured");
        assert!((r - 0.5f64.sqrt()).abs() < 1e-12);
        assert_eq!(t.judge(&run), Verdict::Met(r));
        assert_eq!(t.judge(&[]), Verdict::NotMeasured);
    }
}
