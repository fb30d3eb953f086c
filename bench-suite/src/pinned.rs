//! The single-core tables: the `pinned_*` scenarios measured in a child
//! process that `taskset -c 0` confines to one core.
//!
//! Pinning one thread is not enough: hoare-chan (like any channel that
//! spins) decides how long to spin from `std::thread::available_parallelism()`,
//! which reads the affinity of the *process*, and every thread the
//! workloads spawn must share the one core. So the parent re-runs its own
//! executable under `taskset -c 0` with [`CHILD_FLAG`]; the child measures
//! only the pinned scenarios with the parent's mode and filter, and reports
//! on stdout, one line per event:
//!
//! ```text
//! tick                                     after each calibration or sample
//! result<TAB>chan/pinned_spsc_bounded0<TAB>hoare<TAB>1234<TAB>812.5,799.25,...
//!        scenario id, implementation, operations per sample, each sample's ns per op
//! ```
//!
//! The parent turns ticks into progress and results into [`Measurement`]s
//! of its own workload entries, which are the same functions: a pinned
//! scenario's entries run exactly the code of its unpinned twin.

use std::error::Error;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::measure::{self, Config, Measurement, ScenarioResults, Stats};
use crate::workload::{self, Workload};

/// The command-line flag that makes `hoare-bench` the pinned child.
pub const CHILD_FLAG: &str = "--pinned-child";

/// Whether `taskset` (util-linux) can be run.
pub fn taskset_available() -> bool {
    Command::new("taskset")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// One result line for `m`.
pub fn format_result(m: &Measurement) -> String {
    let samples: Vec<String> = m.samples_ns.iter().map(f64::to_string).collect();
    format!(
        "result\t{}\t{}\t{}\t{}",
        m.workload.scenario.id(),
        m.workload.implementation,
        m.ops_per_sample,
        samples.join(",")
    )
}

/// Parses a result line back into a measurement of the entry of
/// `workloads` it names.
pub fn parse_result(line: &str, workloads: &[Workload]) -> Result<Measurement, String> {
    let fields: Vec<&str> = line.split('\t').collect();
    let [_, id, implementation, ops, samples] = fields[..] else {
        return Err(format!("malformed result line `{line}`"));
    };
    let workload = *workloads
        .iter()
        .find(|w| w.scenario.id() == id && w.implementation == implementation)
        .ok_or_else(|| format!("the child measured an unknown workload `{id} {implementation}`"))?;
    let ops_per_sample = ops
        .parse()
        .map_err(|e| format!("bad operation count in `{line}`: {e}"))?;
    let samples_ns = samples
        .split(',')
        .map(str::parse)
        .collect::<Result<Vec<f64>, _>>()
        .map_err(|e| format!("bad sample in `{line}`: {e}"))?;
    if samples_ns.is_empty() || samples_ns.iter().any(|s| s.is_nan()) {
        return Err(format!("no samples in `{line}`"));
    }
    Ok(Measurement {
        workload,
        ops_per_sample,
        stats: Stats::from_samples(&samples_ns),
        samples_ns,
    })
}

/// The child's side: measures `workloads` (the pinned ones the parent
/// selected) and writes the protocol to stdout.
///
/// Refuses to measure unless the process really is confined to one core,
/// so a child started without `taskset` cannot pass off two-core numbers.
pub fn serve(workloads: &[Workload], config: &Config) -> Result<(), String> {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    if cores != 1 {
        return Err(format!(
            "{CHILD_FLAG} must run pinned to one core (taskset -c 0); this process may use {cores}"
        ));
    }
    for (scenario, entries) in workload::by_scenario(workloads) {
        let measured =
            measure::measure_scenario(&entries, config.budget(scenario), |_| println!("tick"));
        for m in &measured {
            println!("{}", format_result(m));
        }
    }
    Ok(())
}

/// The parent's side: runs this executable as the pinned child with
/// `mode_args` (the mode and filter flags), calls `tick` on each of its
/// ticks, and returns its measurements grouped like `workloads`.
pub fn measure_in_child(
    workloads: &[Workload],
    mode_args: &[String],
    mut tick: impl FnMut(),
) -> Result<Vec<ScenarioResults>, Box<dyn Error>> {
    let exe = std::env::current_exe()?;
    let mut child = Command::new("taskset")
        .args(["-c", "0"])
        .arg(exe)
        .arg(CHILD_FLAG)
        .args(mode_args)
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("the child has no stdout")?;
    let mut measured = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        if line == "tick" {
            tick();
        } else if line.starts_with("result\t") {
            measured.push(parse_result(&line, workloads)?);
        } else {
            return Err(format!("unexpected line from the pinned child: `{line}`").into());
        }
    }
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("the pinned child failed ({status})").into());
    }
    let grouped = workload::by_scenario(workloads)
        .into_iter()
        .map(|(scenario, entries)| {
            let results = entries
                .iter()
                .filter_map(|w| {
                    measured
                        .iter()
                        .find(|m| {
                            std::ptr::eq(m.workload.scenario, scenario)
                                && m.workload.implementation == w.implementation
                        })
                        .cloned()
                })
                .collect();
            (scenario, results)
        })
        .collect();
    Ok(grouped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_line_round_trips() {
        let workloads = crate::chan_workloads::workloads();
        let w = *workloads
            .iter()
            .find(|w| crate::chan_workloads::is_pinned(w.scenario))
            .expect("pinned workloads exist");
        let samples_ns = vec![812.5, 0.1 + 0.2, 1e-3];
        let m = Measurement {
            workload: w,
            ops_per_sample: 1234,
            stats: Stats::from_samples(&samples_ns),
            samples_ns,
        };
        let back = parse_result(&format_result(&m), &workloads).expect("parses");
        assert!(std::ptr::eq(back.workload.scenario, w.scenario));
        assert_eq!(back.workload.implementation, w.implementation);
        assert_eq!(back.ops_per_sample, 1234);
        assert_eq!(back.samples_ns, m.samples_ns);
    }

    #[test]
    fn malformed_lines_are_errors() {
        let workloads = crate::chan_workloads::workloads();
        assert!(parse_result("result\tchan/nope\thoare\t1\t2.0", &workloads).is_err());
        assert!(parse_result("result\tonly two", &workloads).is_err());
    }
}
