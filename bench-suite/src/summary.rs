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
            let peer = measured
                .iter()
                .filter(|m| !m.workload.is_hoare())
                .min_by(|a, b| a.stats.median.total_cmp(&b.stats.median))?;
            Some(Standing {
                scenario,
                hoare,
                peer,
            })
        })
        .collect()
}

/// The geometric mean of the ratios of `standings` (1.0 for none).
pub fn geometric_mean(standings: &[Standing<'_>]) -> f64 {
    if standings.is_empty() {
        return 1.0;
    }
    let logs: f64 = standings.iter().map(|s| s.ratio().ln()).sum();
    (logs / standings.len() as f64).exp()
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
