//! Criterion benches for the scheduler workloads.
//!
//! The same workload functions as the `hoare-bench` report binary, one
//! criterion group per scenario (`sched/spawn_many_local`,
//! `sched/yield_many`, `sched/ping_pong`, `sched/chained_spawn`, ...) and
//! one bench per runtime (`hoare`, `tokio`, `go` when Go is on `PATH`,
//! and the `hoare-fifo` baseline), under criterion's `iter_custom` contract: `run(n)` does `n`
//! rounds of tokio's benchmark shape (or sends `n` messages) and returns
//! the time they took, runtime construction and shutdown excluded.
//!
//! ```text
//! cargo bench -p hoare-bench --bench sched
//! cargo bench -p hoare-bench --bench sched -- sched/yield_many
//! ```

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use hoare_bench::{go, workload};

fn sched(c: &mut Criterion) {
    // The Go entries need `go` on PATH (as in the report binary).
    let with_go = match go::available() {
        Ok(_) => true,
        Err(why) => {
            eprintln!("the Go entries are left out: {why}");
            false
        }
    };
    let workloads: Vec<_> = workload::all()
        .into_iter()
        .filter(|w| w.scenario.group == "sched" && (with_go || !go::is_go(w)))
        .collect();
    for (scenario, entries) in workload::by_scenario(&workloads) {
        let mut group = c.benchmark_group(scenario.id());
        // Short windows: ~25 benches on 2 cores, and a `yield_many` round
        // takes tens of milliseconds.
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        for w in entries {
            group.bench_function(w.implementation, |b| b.iter_custom(w.run));
        }
        group.finish();
    }
}

criterion_group!(benches, sched);
criterion_main!(benches);
