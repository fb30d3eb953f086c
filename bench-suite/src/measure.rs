//! Calibration, sampling and order statistics.
//!
//! The protocol for one scenario:
//!
//! 1. **Calibrate** each implementation: call `run(ops)` with growing `ops`
//!    until one call lasts at least a fifth of the sample time, then choose
//!    `ops` so that one sample lasts about [`Budget::sample_time`], but
//!    holds no more than [`Budget::max_ops`] operations. The calibration
//!    calls double as warm-up. Each group has its own budget
//!    ([`Config::budget`]).
//! 2. **Sample** round-robin: round `k` takes sample `k` of every
//!    implementation before round `k + 1` starts. Noise that drifts over
//!    time (frequency scaling, a neighbour on the host) then hits all
//!    implementations alike instead of whichever ran during the spike.
//! 3. **Summarise** each implementation's per-operation times by order
//!    statistics: the median is the figure the report uses; min, max and
//!    the quartiles show the spread. Means are not used: one preempted
//!    sample would drag them.

use std::time::Duration;

use crate::workload::{Scenario, Workload};

/// How long and how often to measure one group of scenarios.
#[derive(Clone, Debug)]
pub struct Budget {
    /// Samples per implementation; the report's medians are over these.
    pub samples: usize,
    /// Target wall time of one sample.
    pub sample_time: Duration,
    /// Most operations one sample may hold, whatever its time.
    pub max_ops: u64,
}

/// How long and how often to measure.
///
/// The channel group has its own budget: it has about eight times as many
/// entries as the sync group, and it follows crossbeam's benchmark suite
/// in sending a fixed number of messages (at most 200,000 per sample, the
/// figure ANCHORS.md was measured with) rather than filling a time slot.
/// Slow entries (rendezvous through a futex, ~30 µs a message) still stop
/// at the sample time.
///
/// The scheduler group has its own too: its operations are whole rounds
/// of tokio's benchmark shapes (0.1 to 30 ms each) and it has three
/// implementations per scenario, so fewer, shorter samples than the base
/// budget keep the quick run short; a sample still holds several rounds.
#[derive(Clone, Debug)]
pub struct Config {
    /// Name of the mode, printed in the report (`quick`, `full`, `smoke`).
    pub mode: &'static str,
    /// The budget of every group without one of its own.
    pub base: Budget,
    /// The budget of group `chan`.
    pub chan: Budget,
    /// The budget of group `sched`.
    pub sched: Budget,
}

/// Messages per channel sample at most: ANCHORS.md's count.
pub const CHAN_MESSAGES: u64 = 200_000;

impl Config {
    /// A few seconds in total: proves every workload runs (CI).
    pub fn smoke() -> Config {
        Config {
            mode: "smoke",
            base: Budget {
                samples: 5,
                sample_time: Duration::from_millis(2),
                max_ops: MAX_OPS,
            },
            chan: Budget {
                samples: 3,
                sample_time: Duration::from_millis(2),
                max_ops: CHAN_MESSAGES,
            },
            sched: Budget {
                samples: 3,
                sample_time: Duration::from_millis(2),
                max_ops: MAX_OPS,
            },
        }
    }

    /// Well under two minutes on a 2-core machine.
    pub fn quick() -> Config {
        Config {
            mode: "quick",
            base: Budget {
                samples: 12,
                sample_time: Duration::from_millis(150),
                max_ops: MAX_OPS,
            },
            chan: Budget {
                samples: 5,
                sample_time: Duration::from_millis(40),
                max_ops: CHAN_MESSAGES,
            },
            sched: Budget {
                samples: 7,
                sample_time: Duration::from_millis(60),
                max_ops: MAX_OPS,
            },
        }
    }

    /// The published numbers: more and longer samples (about 10 minutes,
    /// most of it in the slow rendezvous and capacity-1 channel tables).
    pub fn full() -> Config {
        Config {
            mode: "full",
            base: Budget {
                samples: 25,
                sample_time: Duration::from_millis(400),
                max_ops: MAX_OPS,
            },
            chan: Budget {
                samples: 11,
                sample_time: Duration::from_millis(250),
                max_ops: CHAN_MESSAGES,
            },
            sched: Budget {
                samples: 15,
                sample_time: Duration::from_millis(200),
                max_ops: MAX_OPS,
            },
        }
    }

    /// The budget that applies to `scenario`.
    pub fn budget(&self, scenario: &Scenario) -> &Budget {
        match scenario.group {
            "chan" => &self.chan,
            "sched" => &self.sched,
            _ => &self.base,
        }
    }

    /// Progress steps for `workloads`: one calibration plus the budget's
    /// samples each.
    pub fn steps(&self, workloads: &[Workload]) -> u64 {
        workloads
            .iter()
            .map(|w| 1 + self.budget(w.scenario).samples as u64)
            .sum()
    }
}

/// Order statistics of per-operation times, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    /// Fastest sample.
    pub min: f64,
    /// First quartile.
    pub p25: f64,
    /// Median: the figure every ratio is computed from.
    pub median: f64,
    /// Third quartile.
    pub p75: f64,
    /// Slowest sample.
    pub max: f64,
}

impl Stats {
    /// Summarises `samples` (any order).
    ///
    /// # Panics
    ///
    /// If `samples` is empty or holds a NaN.
    ///
    /// ```
    /// let s = hoare_bench::Stats::from_samples(&[3.0, 1.0, 2.0, 100.0]);
    /// assert_eq!((s.min, s.median, s.max), (1.0, 2.5, 100.0));
    /// ```
    pub fn from_samples(samples: &[f64]) -> Stats {
        assert!(!samples.is_empty(), "no samples to summarise");
        let mut sorted = samples.to_vec();
        sorted.sort_by(|a, b| a.partial_cmp(b).expect("sample is NaN"));
        Stats {
            min: sorted[0],
            p25: quantile(&sorted, 0.25),
            median: quantile(&sorted, 0.5),
            p75: quantile(&sorted, 0.75),
            max: sorted[sorted.len() - 1],
        }
    }
}

/// The `q` quantile of sorted data, interpolating linearly between ranks.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64)
}

/// The result for one implementation of one scenario.
#[derive(Clone, Debug)]
pub struct Measurement {
    /// What was measured.
    pub workload: Workload,
    /// Operations per sample, as calibrated.
    pub ops_per_sample: u64,
    /// Each sample's time per operation, in nanoseconds, in run order.
    pub samples_ns: Vec<f64>,
    /// Order statistics of `samples_ns`.
    pub stats: Stats,
}

/// One scenario's measurements, one per implementation, in entry order.
pub type ScenarioResults = (&'static Scenario, Vec<Measurement>);

/// Largest `ops` calibration will try: bounds a run whose clock reads zero.
pub const MAX_OPS: u64 = 1 << 40;

/// Finds the operation count for which `run` lasts about `target`, but
/// not more than `max_ops`.
pub fn calibrate(run: fn(u64) -> Duration, target: Duration, max_ops: u64) -> u64 {
    let target = target.as_secs_f64();
    let mut ops = 1u64;
    loop {
        let took = run(ops).as_secs_f64();
        if took >= target / 5.0 || ops >= max_ops {
            let per_op = (took / ops as f64).max(1e-12);
            return ((target / per_op).round() as u64).clamp(1, max_ops);
        }
        // Aim past a fifth of the target, growing at least 2× so that
        // fixed setup costs (thread spawns) cannot stall the search.
        let grow = if took > 0.0 {
            target / 4.0 / took
        } else {
            100.0
        };
        ops = ((ops as f64 * grow.clamp(2.0, 100.0)) as u64).min(max_ops);
    }
}

/// Measures every implementation of one scenario, interleaving samples.
///
/// `tick` is called once after each calibration and after each sample, with
/// the entry just measured; the binary drives its progress bar from it.
pub fn measure_scenario(
    entries: &[Workload],
    budget: &Budget,
    mut tick: impl FnMut(&Workload),
) -> Vec<Measurement> {
    let ops: Vec<u64> = entries
        .iter()
        .map(|w| {
            let ops = calibrate(w.run, budget.sample_time, budget.max_ops);
            tick(w);
            ops
        })
        .collect();
    let mut samples = vec![Vec::with_capacity(budget.samples); entries.len()];
    for _ in 0..budget.samples {
        for ((w, &n), out) in entries.iter().zip(&ops).zip(&mut samples) {
            let took = (w.run)(n);
            out.push(took.as_nanos() as f64 / n as f64);
            tick(w);
        }
    }
    entries
        .iter()
        .zip(ops)
        .zip(samples)
        .map(|((w, ops_per_sample), samples_ns)| Measurement {
            workload: *w,
            ops_per_sample,
            stats: Stats::from_samples(&samples_ns),
            samples_ns,
        })
        .collect()
}

/// A measurement of `implementation` in `scenario` with one sample of `ns`
/// per operation, for tests of what is computed from measurements.
#[cfg(test)]
pub(crate) fn measured(
    scenario: &'static Scenario,
    implementation: &'static str,
    ns: f64,
) -> Measurement {
    Measurement {
        workload: Workload {
            scenario,
            implementation,
            run: |_| Duration::ZERO,
        },
        ops_per_sample: 1,
        samples_ns: vec![ns],
        stats: Stats::from_samples(&[ns]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_interpolate_between_ranks() {
        let s = Stats::from_samples(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!((s.p25, s.median, s.p75), (2.0, 3.0, 4.0));
        let s = Stats::from_samples(&[4.0, 1.0]);
        assert_eq!((s.p25, s.median, s.p75), (1.75, 2.5, 3.25));
    }

    #[test]
    fn calibration_reaches_the_sample_time() {
        fn sleepy(ops: u64) -> Duration {
            Duration::from_micros(10) * ops as u32
        }
        let ops = calibrate(sleepy, Duration::from_millis(10), MAX_OPS);
        assert_eq!(ops, 1_000);
        let ops = calibrate(sleepy, Duration::from_millis(10), 300);
        assert_eq!(ops, 300);
    }
}
