//! Machine-readable results (`--json <file>`) and the regression check
//! against an earlier run (`--compare <old.json>`).
//!
//! The file holds the run's mode, the machine summary, one record per
//! measured entry, and the cross-core round trip probed around each
//! scenario measured in this process (`latency.rs`):
//!
//! ```json
//! {
//!   "mode": "quick",
//!   "machine": { "cpu": "AMD EPYC", "cores": 2, "rustc": "rustc 1.95.0", "go": "go1.19.8", "date": "2026-11-23" },
//!   "results": [
//!     { "id": "chan/spsc_bounded0", "implementation": "hoare",
//!       "median_ns": 812.0, "p25_ns": 790.1, "p75_ns": 830.4, "min_ns": 770.0, "max_ns": 901.2,
//!       "samples": 11, "ops_per_sample": 200000 }
//!   ],
//!   "probes": [ { "id": "chan/spsc_bounded0", "before_ns": 41.2, "after_ns": 39.8 } ]
//! }
//! ```
//!
//! The check pairs the entries of two runs by `id` and `implementation`
//! and reports each whose median per operation grew by more than the
//! threshold (a fraction: 0.10 is 10 %). Entries only one run has are
//! listed apart, so a renamed workload is not silently skipped.

use serde_json::{Value, json};

use crate::latency::Probe;
use crate::machine::Machine;
use crate::measure::{Measurement, ScenarioResults};

/// The default threshold of `--compare`: 10 % slower.
pub const DEFAULT_THRESHOLD: f64 = 0.10;

/// The JSON document of a run.
pub fn to_json(
    mode: &str,
    machine: &Machine,
    results: &[ScenarioResults],
    probes: &[Probe],
) -> Value {
    let records: Vec<Value> = results
        .iter()
        .flat_map(|(_, measured)| measured.iter().map(record))
        .collect();
    let probes: Vec<Value> = probes
        .iter()
        .map(|p| json!({ "id": p.id, "before_ns": p.before_ns, "after_ns": p.after_ns }))
        .collect();
    json!({
        "mode": mode,
        "machine": {
            "cpu": machine.cpu_model,
            "cores": machine.cores,
            "rustc": machine.rustc,
            "go": machine.go,
            "date": machine.date,
        },
        "results": records,
        "probes": probes,
    })
}

fn record(m: &Measurement) -> Value {
    json!({
        "id": m.workload.scenario.id(),
        "implementation": m.workload.implementation,
        "median_ns": m.stats.median,
        "p25_ns": m.stats.p25,
        "p75_ns": m.stats.p75,
        "min_ns": m.stats.min,
        "max_ns": m.stats.max,
        "samples": m.samples_ns.len(),
        "ops_per_sample": m.ops_per_sample,
    })
}

/// One entry's median in two runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// `group/name` of the scenario.
    pub id: String,
    /// The implementation.
    pub implementation: String,
    /// Median ns per operation in the old run.
    pub old_ns: f64,
    /// Median ns per operation in this run.
    pub new_ns: f64,
}

impl Change {
    /// `new / old`: above 1 is slower.
    pub fn ratio(&self) -> f64 {
        self.new_ns / self.old_ns
    }
}

/// What [`compare`] found.
#[derive(Debug, Default, PartialEq)]
pub struct Comparison {
    /// Entries slower than the threshold allows, slowest first.
    pub slower: Vec<Change>,
    /// Entries of both runs within the threshold (or faster).
    pub unchanged_or_faster: usize,
    /// `id implementation` of entries only the old run has.
    pub only_old: Vec<String>,
    /// `id implementation` of entries only this run has.
    pub only_new: Vec<String>,
}

/// The `(id, implementation, median)` records of a JSON document written
/// by [`to_json`].
///
/// # Errors
/// If the document does not have that shape.
pub fn medians(doc: &Value) -> Result<Vec<(String, String, f64)>, String> {
    let results = doc
        .get("results")
        .and_then(Value::as_array)
        .ok_or("no `results` array: not a file written by --json")?;
    results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let field = |k: &str| r.get(k).ok_or(format!("result {i} has no `{k}`"));
            let text = |k: &str| {
                field(k)?
                    .as_str()
                    .map(str::to_owned)
                    .ok_or(format!("result {i}: `{k}` is not a string"))
            };
            let median = field("median_ns")?
                .as_f64()
                .filter(|m| m.is_finite() && *m > 0.0)
                .ok_or(format!("result {i}: `median_ns` is not a positive number"))?;
            Ok((text("id")?, text("implementation")?, median))
        })
        .collect()
}

/// Compares this run's `new` medians with an `old` run's, flagging the
/// entries that got slower by more than `threshold` (a fraction).
pub fn compare(
    old: &[(String, String, f64)],
    new: &[(String, String, f64)],
    threshold: f64,
) -> Comparison {
    let mut out = Comparison::default();
    for (id, implementation, new_ns) in new {
        match old.iter().find(|(i, m, _)| i == id && m == implementation) {
            Some((_, _, old_ns)) => {
                let change = Change {
                    id: id.clone(),
                    implementation: implementation.clone(),
                    old_ns: *old_ns,
                    new_ns: *new_ns,
                };
                if change.ratio() > 1.0 + threshold {
                    out.slower.push(change);
                } else {
                    out.unchanged_or_faster += 1;
                }
            }
            None => out.only_new.push(format!("{id} {implementation}")),
        }
    }
    for (id, implementation, _) in old {
        if !new.iter().any(|(i, m, _)| i == id && m == implementation) {
            out.only_old.push(format!("{id} {implementation}"));
        }
    }
    out.slower
        .sort_by(|a, b| b.ratio().partial_cmp(&a.ratio()).expect("finite ratios"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, implementation: &str, ns: f64) -> (String, String, f64) {
        (id.to_owned(), implementation.to_owned(), ns)
    }

    #[test]
    fn only_changes_beyond_the_threshold_are_flagged_slowest_first() {
        let old = [
            entry("chan/a", "hoare", 100.0),
            entry("chan/b", "hoare", 100.0),
            entry("chan/c", "kanal", 100.0),
            entry("chan/gone", "hoare", 1.0),
        ];
        let new = [
            entry("chan/a", "hoare", 110.0), // +10 %: at the threshold, not beyond
            entry("chan/b", "hoare", 150.0),
            entry("chan/c", "kanal", 300.0),
            entry("chan/added", "hoare", 1.0),
        ];
        let c = compare(&old, &new, 0.10);
        let slower: Vec<_> = c
            .slower
            .iter()
            .map(|s| (s.id.as_str(), s.ratio()))
            .collect();
        assert_eq!(slower, [("chan/c", 3.0), ("chan/b", 1.5)]);
        assert_eq!(c.unchanged_or_faster, 1);
        assert_eq!(c.only_old, ["chan/gone hoare"]);
        assert_eq!(c.only_new, ["chan/added hoare"]);
    }

    #[test]
    fn a_written_document_reads_back() {
        let doc = json!({"results": [
            {"id": "sync/x", "implementation": "hoare", "median_ns": 2.5},
        ]});
        assert_eq!(medians(&doc).unwrap(), [entry("sync/x", "hoare", 2.5)]);
        let bad = json!({"results": [{"id": "sync/x", "implementation": "hoare"}]});
        assert!(medians(&bad).unwrap_err().contains("median_ns"));
        assert!(medians(&json!({})).is_err());
    }
}
