//! # hoare-bench: the comparison suite
//!
//! Workloads that pit hoare's primitives and scheduler against their peers
//! (std, parking_lot, crossbeam, flume, kanal, tokio, and Go through
//! `bench-suite/go/`) in one process tree, and the machinery that measures
//! them and writes the report. Two front ends share it:
//!
//! * the `hoare-bench` binary (`cargo run --release -p hoare-bench --
//!   --quick`) measures every workload, draws a progress bar and writes
//!   `REPORT.md` (opening with a summary of hoare's ratio to the fastest
//!   peer) plus SVG charts under `plots/`: one per workload, one per group
//!   and the summary's;
//! * the `hoare-scaling` binary (`cargo run --release -p hoare-bench --bin
//!   hoare-scaling`) measures the scaling tables of `SCALING.md` (1 to 8
//!   threads, 16 to a million queued messages);
//! * the criterion benches (`cargo bench -p hoare-bench`) run the same
//!   workload functions under criterion's statistics.
//!
//! ## The shape of a workload
//!
//! A [`Workload`] is one entry `(group, name, implementation, run)`: the
//! [`Scenario`] says what is measured (`sync` / `mutex_uncontended`, "one
//! lock + unlock"), the implementation names the peer (`hoare`, `std`,
//! `parking_lot`, ...), and `run(n)` performs `n` operations and returns the
//! time they took, leaving setup such as spawning threads or building a
//! runtime outside the timed span. That is exactly criterion's
//! `iter_custom` contract, so both front ends drive the same function.
//! Later areas (channels, the scheduler, a Go baseline) add their own list
//! to [`workload::all`]; nothing else changes.
//!
//! ```
//! let workloads = hoare_bench::workload::all();
//! let first = &workloads[0];
//! let elapsed = (first.run)(1_000);
//! println!("{}/{} {}: {elapsed:?} for 1,000 ops",
//!     first.scenario.group, first.scenario.name, first.implementation);
//! ```
//!
//! ## Modules
//!
//! | module | concern |
//! |---|---|
//! | [`workload`] | the `Workload`/`Scenario` types and the registry |
//! | [`sync_workloads`] | lock, RwMutex, WaitGroup, semaphore and once workloads |
//! | [`chan_workloads`] | crossbeam's channel suite, ping-pong, async, pinned and oversubscribed |
//! | [`chan_adapters`] | one blocking/select/async interface over every channel |
//! | [`sched_workloads`] | tokio's scheduler benchmark shapes and goroutine channels on hoare-sched |
//! | [`sched_adapters`] | one spawn/yield/block_on interface over hoare-sched and tokio |
//! | [`go`] | the Go baseline: builds and runs `bench-suite/go/` |
//! | [`pinned`] | the child process, pinned to one core, for the `pinned_*` scenarios |
//! | [`memory`] | the counting allocator, the channels' and idle tasks' heap footprint |
//! | [`measure`] | calibration, interleaved sampling, order statistics |
//! | [`targets`] | the performance targets the report checks |
//! | [`machine`] | the machine summary (CPU, cores, rustc, date) |
//! | [`latency`] | the cross-core round trip, probed around every scenario |
//! | [`report`] | the Markdown report |
//! | [`results`] | `--json` output and the `--compare` regression check |
//! | [`plot`] | the SVG charts: per workload, per group, the summary |
//! | [`summary`] | hoare's standing against the fastest peer in every workload |
//! | [`scaling`] | the scaling tables and their analysis (`SCALING.md`) |

pub mod chan_adapters;
pub mod chan_workloads;
pub mod echo;
pub mod go;
pub mod latency;
pub mod machine;
pub mod measure;
pub mod memory;
pub mod pinned;
pub mod plot;
pub mod report;
pub mod results;
pub mod scaling;
pub mod sched_adapters;
pub mod sched_workloads;
pub mod summary;
pub mod sync_workloads;
pub mod targets;
pub mod workload;

pub use measure::{Budget, Config, Measurement, Stats};
pub use workload::{Scenario, Workload};
