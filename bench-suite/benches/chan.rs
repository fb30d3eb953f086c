//! Criterion benches for the channel workloads.
//!
//! The same workload functions as the `hoare-bench` report binary, one
//! criterion group per scenario (`chan/spsc_bounded0`, ...) and one bench
//! per implementation, under criterion's `iter_custom` contract: `run(n)`
//! sends `n` messages and returns the time they took, thread spawning and
//! runtime construction excluded.
//!
//! The `pinned_*` scenarios are left out: they differ from the unpinned
//! ones only in the process's CPU affinity, which the report binary sets
//! with a child process. Pin the whole bench run instead:
//!
//! ```text
//! cargo bench -p hoare-bench --bench chan
//! cargo bench -p hoare-bench --bench chan -- chan/mpsc_bounded1
//! taskset -c 0 cargo bench -p hoare-bench --bench chan -- chan/mpmc
//! ```

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use hoare_bench::chan_workloads::is_pinned;
use hoare_bench::workload;

fn chan(c: &mut Criterion) {
    let workloads: Vec<_> = workload::all()
        .into_iter()
        .filter(|w| w.scenario.group == "chan" && !is_pinned(w.scenario))
        .collect();
    for (scenario, entries) in workload::by_scenario(&workloads) {
        let mut group = c.benchmark_group(scenario.id());
        // Short windows: the suite has ~140 benches on 2 cores, and a
        // rendezvous message costs tens of microseconds for some peers.
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1));
        for w in entries {
            group.bench_function(w.implementation, |b| b.iter_custom(w.run));
        }
        group.finish();
    }
}

criterion_group!(benches, chan);
criterion_main!(benches);
