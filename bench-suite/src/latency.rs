//! The cross-core round trip: how long one cache line takes to go from one
//! core to another and back, probed before and after every scenario.
//!
//! Every contended workload moves cache lines between cores, so its time
//! depends on this latency, and on a virtual machine the latency is not a
//! constant of the hardware: the hypervisor decides where the virtual CPUs
//! run. On the machine the committed report comes from, two threads
//! bouncing one line measured about 30–80 ns a round trip at some times
//! and 450–800 ns at others, in stretches of minutes, with nothing else
//! running.
//! A scenario measured in such a stretch is slower for every
//! implementation, but not by the same factor: the more lines a design
//! moves per operation, the more it loses. So the report gives the probe
//! next to each table (and the spread of all probes in the machine
//! summary) to let a reader tell a slow stretch from a slow design.
//!
//! The probe: the calling thread and one helper thread take turns writing
//! a counter on a line of its own, each waiting (spinning) for the other's
//! write, [`ROUNDS`] times; the result is the median of three such runs in
//! nanoseconds per round trip. It needs two cores and returns `None` with
//! fewer. A run that cannot finish quickly (the two threads on one core,
//! turning only at preemptions) stops at [`LIMIT`] and counts the round
//! trips it completed, so the probe always ends.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

/// Round trips in one run of the probe.
pub const ROUNDS: u64 = 5_000;

/// The longest one run of the probe may take.
pub const LIMIT: Duration = Duration::from_millis(50);

/// The probes taken around one scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    /// The scenario's `group/name`.
    pub id: String,
    /// Nanoseconds per round trip just before the scenario was measured.
    pub before_ns: f64,
    /// Nanoseconds per round trip just after.
    pub after_ns: f64,
}

impl Probe {
    /// The slower of the two probes.
    pub fn worst_ns(&self) -> f64 {
        self.before_ns.max(self.after_ns)
    }
}

/// The cross-core round trip in nanoseconds (module docs), or `None` on a
/// machine with fewer than two cores.
pub fn round_trip() -> Option<f64> {
    if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        return None;
    }
    let mut runs: Vec<f64> = (0..3).map(|_| one_run()).collect();
    runs.sort_by(f64::total_cmp);
    Some(runs[1])
}

/// One run of the probe: nanoseconds per completed round trip.
fn one_run() -> f64 {
    // The caller writes odd values, the helper the even ones after them.
    // The first `WARM_UP` round trips are not timed: they wait for the
    // helper thread to start and settle on its core.
    const WARM_UP: u64 = 100;
    let line = CachePadded::new(AtomicU64::new(0));
    let stop = CachePadded::new(AtomicBool::new(false));
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..WARM_UP + ROUNDS {
                // Acquire/Release: only the value matters; the orderings
                // keep the compiler from merging the waits.
                while line.load(Ordering::Acquire) != 2 * i + 1 {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    std::hint::spin_loop();
                }
                line.store(2 * i + 2, Ordering::Release);
            }
        });
        let started = Instant::now();
        let mut begun = started;
        let mut done = 0;
        'rounds: for i in 0..WARM_UP + ROUNDS {
            if i == WARM_UP {
                begun = Instant::now();
            }
            line.store(2 * i + 1, Ordering::Release);
            let mut spins = 0u32;
            while line.load(Ordering::Acquire) != 2 * i + 2 {
                spins = spins.wrapping_add(1);
                if spins % 1024 == 0 && started.elapsed() > LIMIT {
                    break 'rounds;
                }
                std::hint::spin_loop();
            }
            done += u64::from(i >= WARM_UP);
        }
        let elapsed = begun.elapsed();
        stop.store(true, Ordering::Relaxed);
        if done == 0 {
            // Not even the warm-up finished within the limit: report the
            // limit itself, a lower bound.
            return LIMIT.as_nanos() as f64;
        }
        elapsed.as_nanos() as f64 / done as f64
    })
}

/// Order statistics of the probes of a run: `(min, median, max)` of every
/// probe taken (before and after each scenario), `None` if there are none.
pub fn spread(probes: &[Probe]) -> Option<(f64, f64, f64)> {
    let mut all: Vec<f64> = probes
        .iter()
        .flat_map(|p| [p.before_ns, p.after_ns])
        .collect();
    if all.is_empty() {
        return None;
    }
    all.sort_by(f64::total_cmp);
    Some((all[0], all[all.len() / 2], all[all.len() - 1]))
}

/// The probes whose slower reading is above `factor` times the median of
/// all the run's probes: scenarios measured (at least partly) in a slow
/// stretch. (The median, not the fastest: the fastest probes come from a
/// third, rarer state, about half the usual round trip on this machine.)
pub fn slow(probes: &[Probe], factor: f64) -> Vec<&Probe> {
    let Some((_, median, _)) = spread(probes) else {
        return Vec::new();
    };
    probes
        .iter()
        .filter(|p| p.worst_ns() > factor * median)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(id: &str, before_ns: f64, after_ns: f64) -> Probe {
        Probe {
            id: id.to_owned(),
            before_ns,
            after_ns,
        }
    }

    #[test]
    fn the_probe_ends_and_measures_a_positive_time() {
        // On one core it is `None`; on two it must end (LIMIT) with a time.
        if let Some(ns) = round_trip() {
            assert!(ns > 0.0 && ns.is_finite(), "{ns}");
        }
    }

    #[test]
    fn spread_covers_both_readings_of_every_probe() {
        let p = [probe("a", 40.0, 500.0), probe("b", 60.0, 50.0)];
        assert_eq!(spread(&p), Some((40.0, 60.0, 500.0)));
        assert_eq!(spread(&[]), None);
    }

    #[test]
    fn slow_lists_the_probes_above_the_factor() {
        // Readings 40, 45, 42, 480, 80, 79: median 79 (the upper middle).
        let p = [
            probe("fast", 40.0, 45.0),
            probe("slow", 42.0, 480.0),
            probe("usual", 80.0, 79.0),
        ];
        let ids: Vec<&str> = slow(&p, 3.0).iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["slow"]);
        assert!(slow(&p, 7.0).is_empty());
    }
}
