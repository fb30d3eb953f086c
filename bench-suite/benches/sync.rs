//! Criterion benches for the sync workloads.
//!
//! The same workload functions as the `hoare-bench` report binary, one
//! criterion group per scenario (`sync/mutex_uncontended`, ...) and one
//! bench per implementation. Each workload follows criterion's
//! `iter_custom` contract: `run(n)` performs `n` operations and returns the
//! time they took, setup excluded.
//!
//! ```text
//! cargo bench -p hoare-bench --bench sync
//! cargo bench -p hoare-bench --bench sync -- mutex_contended
//! ```

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use hoare_bench::workload;

fn sync(c: &mut Criterion) {
    let workloads: Vec<_> = workload::all()
        .into_iter()
        .filter(|w| w.scenario.group == "sync")
        .collect();
    for (scenario, entries) in workload::by_scenario(&workloads) {
        let mut group = c.benchmark_group(scenario.id());
        // Short windows: the suite has ~25 benches and runs on 2 cores.
        group
            .sample_size(20)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        for w in entries {
            group.bench_function(w.implementation, |b| b.iter_custom(w.run));
        }
        group.finish();
    }
}

criterion_group!(benches, sync);
criterion_main!(benches);
