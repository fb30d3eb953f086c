//! hoare's standing in every scenario: its median against the fastest
//! peer's, for the report's summary table and summary chart.

use crate::measure::Measurement;
use crate::workload::Scenario;

/// hoare's entry and the fastest peer's in one scenario.
#[derive(Clone, Copy, Debug)]
pub struct Standing<'a> {
    /// The scenario.
    pub scenario: &'static Scenario,
    /// hoare's own entry (implementation `hoare`).
    pub hoare: &'a Measurement,
    /// The fastest entry that is not hoare's or a variant of it.
    pub peer: &'a Measurement,
    /// The fastest Rust peer: as `peer`, leaving Go's entry out. `None`
    /// where Go is the only peer.
    pub rust_peer: Option<&'a Measurement>,
}

impl Standing<'_> {
    /// hoare's median over the fastest peer's: below 1.0 hoare is faster.
    pub fn ratio(&self) -> f64 {
        self.hoare.stats.median / self.peer.stats.median
    }

    /// Whether hoare is the fastest implementation of the scenario (a tie
    /// counts as fastest).
    pub fn hoare_fastest(&self) -> bool {
        self.ratio() <= 1.0
    }

    /// hoare's median over the fastest Rust peer's (`None` without one).
    pub fn rust_ratio(&self) -> Option<f64> {
        self.rust_peer
            .map(|p| self.hoare.stats.median / p.stats.median)
    }

    /// Whether the two interquartile ranges overlap: hoare and the peer
    /// are within this run's noise of each other.
    pub fn within_noise(&self) -> bool {
        let (h, p) = (&self.hoare.stats, &self.peer.stats);
        h.p25 <= p.p75 && p.p25 <= h.p75
    }
}

/// The standing of every scenario in `results` that has both a `hoare`
/// entry and a peer, in report order. A scenario measured only by hoare
/// and its variants has no standing.
pub fn standings<'a>(results: &'a [(&'static Scenario, Vec<Measurement>)]) -> Vec<Standing<'a>> {
    results
        .iter()
        .filter_map(|(scenario, measured)| {
            let hoare = measured
                .iter()
                .find(|m| m.workload.implementation == "hoare")?;
            let fastest = |rust_only: bool| {
                measured
                    .iter()
                    .filter(|m| !m.workload.is_hoare())
                    .filter(|m| !rust_only || m.workload.implementation != GO)
                    .min_by(|a, b| a.stats.median.total_cmp(&b.stats.median))
            };
            Some(Standing {
                scenario,
                hoare,
                peer: fastest(false)?,
                rust_peer: fastest(true),
            })
        })
        .collect()
}

/// The implementation name of the Go baseline's entries.
const GO: &str = "go";

/// The geometric mean of the ratios of `standings` (1.0 for none).
pub fn geometric_mean(standings: &[Standing<'_>]) -> f64 {
    geometric_mean_of(standings.iter().map(Standing::ratio))
}

/// The geometric mean of the ratios to the fastest Rust peer, over the
/// standings that have one, and how many those are.
pub fn rust_geometric_mean(standings: &[Standing<'_>]) -> (f64, usize) {
    let ratios: Vec<f64> = standings.iter().filter_map(Standing::rust_ratio).collect();
    (geometric_mean_of(ratios.iter().copied()), ratios.len())
}

/// The geometric mean of `ratios` (1.0 for none).
fn geometric_mean_of(ratios: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = ratios.fold((0.0, 0usize), |(sum, n), r| (sum + r.ln(), n + 1));
    if n == 0 {
        return 1.0;
    }
    (sum / n as f64).exp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::measured;

    static A: Scenario = Scenario {
        group: "t",
        name: "a",
        title: "A",
        op: "op",
        about: "",
    };
    static B: Scenario = Scenario {
        group: "t",
        name: "b",
        title: "B",
        op: "op",
        about: "",
    };

    #[test]
    fn the_peer_is_the_fastest_non_hoare_entry() {
        let results = vec![
            (
                &A,
                vec![
                    measured(&A, "hoare", 10.0),
                    measured(&A, "hoare-fifo", 1.0),
                    measured(&A, "go", 8.0),
                    measured(&A, "std", 20.0),
                ],
            ),
            // Only hoare and a variant: no standing.
            (
                &B,
                vec![measured(&B, "hoare", 5.0), measured(&B, "hoare-fifo", 4.0)],
            ),
        ];
        let s = standings(&results);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].peer.workload.implementation, "go");
        assert!((s[0].ratio() - 1.25).abs() < 1e-12);
        assert!(!s[0].hoare_fastest());
        // Without Go, the fastest Rust peer is std.
        let rust = s[0].rust_peer.expect("std is a Rust peer");
        assert_eq!(rust.workload.implementation, "std");
        assert!((s[0].rust_ratio().unwrap() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn go_as_the_only_peer_leaves_no_rust_peer() {
        let results = vec![(
            &A,
            vec![measured(&A, "hoare", 4.0), measured(&A, "go", 2.0)],
        )];
        let s = standings(&results);
        assert!(s[0].rust_peer.is_none() && s[0].rust_ratio().is_none());
        assert_eq!(rust_geometric_mean(&s), (1.0, 0));
    }

    #[test]
    fn geometric_mean_of_reciprocal_ratios_is_one() {
        let results = vec![
            (
                &A,
                vec![measured(&A, "hoare", 2.0), measured(&A, "std", 1.0)],
            ),
            (
                &B,
                vec![measured(&B, "hoare", 1.0), measured(&B, "std", 2.0)],
            ),
        ];
        let s = standings(&results);
        assert!((geometric_mean(&s) - 1.0).abs() < 1e-12);
        assert!(s[1].hoare_fastest());
    }
}
