//! Workload entries and the registry of all of them.
//!
//! A benchmark is a flat list of [`Workload`] entries, one per
//! (scenario, implementation) pair. Entries that share a [`Scenario`] are
//! compared with each other: the report puts them in one table and states
//! each one's time as a ratio to the fastest.
//!
//! The contract of [`Workload::run`] is criterion's `iter_custom`: perform
//! exactly `ops` operations and return the time they took. Setup (spawning
//! threads, building a runtime, initialising a cell) happens before the
//! clock starts and teardown after it stops, so one call with a large `ops`
//! measures the steady state.

use std::time::Duration;

/// What one table of the report measures: a workload shape that several
/// implementations perform.
#[derive(Debug)]
pub struct Scenario {
    /// The area: `sync`, `chan`, `sched`.
    pub group: &'static str,
    /// Short identifier, unique within the group (`mutex_uncontended`);
    /// also the file name of the plot.
    pub name: &'static str,
    /// One-line title for the report heading.
    pub title: &'static str,
    /// What a single operation is ("lock + increment + unlock").
    pub op: &'static str,
    /// How the workload is set up, in a sentence or two for the report.
    pub about: &'static str,
}

impl Scenario {
    /// `group/name`, the key used in the report, the plots and criterion.
    pub fn id(&self) -> String {
        format!("{}/{}", self.group, self.name)
    }
}

/// One implementation of one scenario.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    /// The shared description of what is measured.
    pub scenario: &'static Scenario,
    /// The peer under test: `hoare`, `std`, `parking_lot`, `tokio`, ...;
    /// a name that starts with `hoare` (`hoare-fifo`) is a variant of
    /// hoare itself, never a peer.
    pub implementation: &'static str,
    /// Performs `ops` operations and returns the time they took.
    pub run: fn(ops: u64) -> Duration,
}

impl Workload {
    /// Whether this entry measures hoare itself (or a variant of it, such
    /// as `hoare-fifo`) rather than a peer.
    pub fn is_hoare(&self) -> bool {
        self.implementation.starts_with("hoare")
    }
}

/// Every workload of the suite, grouped by scenario in report order.
pub fn all() -> Vec<Workload> {
    let mut all = Vec::new();
    all.extend(crate::sync_workloads::workloads());
    all.extend(crate::chan_workloads::workloads());
    all.extend(crate::sched_workloads::workloads());
    all
}

/// The paragraph the report prints under `group`'s heading, if any.
pub fn group_intro(group: &str) -> Option<&'static str> {
    match group {
        "sync" => Some(crate::sync_workloads::INTRO),
        "chan" => Some(crate::chan_workloads::INTRO),
        "sched" => Some(crate::sched_workloads::INTRO),
        _ => None,
    }
}

/// The scenarios of `workloads` in first-seen order, each with its entries.
pub fn by_scenario(workloads: &[Workload]) -> Vec<(&'static Scenario, Vec<Workload>)> {
    let mut groups: Vec<(&'static Scenario, Vec<Workload>)> = Vec::new();
    for w in workloads {
        match groups
            .iter_mut()
            .find(|(s, _)| std::ptr::eq(*s, w.scenario))
        {
            Some((_, entries)) => entries.push(*w),
            None => groups.push((w.scenario, vec![*w])),
        }
    }
    groups
}

/// Test helper: every scenario of `workloads` lists each implementation
/// once; returns the scenarios with their implementations' names.
#[cfg(test)]
pub(crate) fn assert_one_entry_per_implementation(
    workloads: &[Workload],
) -> Vec<(&'static Scenario, Vec<&'static str>)> {
    by_scenario(workloads)
        .into_iter()
        .map(|(scenario, entries)| {
            let mut names: Vec<_> = entries.iter().map(|w| w.implementation).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(
                names.len(),
                entries.len(),
                "{} repeats an implementation",
                scenario.id()
            );
            (scenario, names)
        })
        .collect()
}
