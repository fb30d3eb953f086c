//! The scaling tables of `SCALING.md`: how each structure's cost per
//! operation grows with the number of threads (1, 2, 4 and 8, on however
//! many cores the machine has) and with the length of a channel's queue.
//!
//! Each table is one structure; its columns are the parameter (threads,
//! workers or queued messages) and its rows the implementations. Every
//! cell is measured like a report entry ([`crate::measure`]): calibrated,
//! then several interleaved samples per implementation, median per
//! operation. The analysis around the tables, which counts the cache lines
//! each operation touches, is [`ANALYSIS`], [`Table::analysis`] and
//! [`MANY_CORES`].
//!
//! `cargo run --release -p hoare-bench --bin hoare-scaling [-- --quick]`
//! writes `bench-suite/SCALING.md`.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::chan_adapters::{Rx, Tx};
use crate::chan_workloads::{many_to_many, sent_sum};
use crate::machine::Machine;
use crate::measure::{Budget, Measurement, measure_scenario};
use crate::report::format_ns;
use crate::sched_adapters::{Executor, Hoare, Tokio};
use crate::sched_workloads::spawn_and_join_on;
use crate::sync_workloads::{WRITE_EVERY, is_write, on_n_threads, share};
use crate::workload::{Scenario, Workload};

/// The thread (or worker) counts of the thread tables.
pub const THREADS: [usize; 4] = [1, 2, 4, 8];
/// The queue lengths of the queue tables.
pub const QUEUED: [usize; 4] = [16, 1_024, 65_536, 1_048_576];
/// A capacity that stands for "unbounded" in the channel functions.
const UNBOUNDED: usize = usize::MAX;

/// One implementation's row of a table: its name and one run function per
/// column.
pub type Row = (&'static str, Vec<fn(u64) -> Duration>);

/// One structure's table.
pub struct Table {
    /// Heading.
    pub title: &'static str,
    /// What one operation is and how the threads are used.
    pub about: &'static str,
    /// The column parameter's letter (`N` threads, pairs or workers, `L`
    /// queued messages), explained in the title.
    pub column: &'static str,
    /// The column values, in order.
    pub columns: &'static [usize],
    /// One row per implementation.
    pub rows: Vec<Row>,
    /// How the cost grows, counted from the algorithm.
    pub analysis: &'static str,
}

// ---------------------------------------------------------------------------
// Channels

/// A channel library's constructors.
trait Channels {
    type Tx: Tx;
    type Rx: Rx + Sync;
    /// `bounded(cap)`, or unbounded for [`UNBOUNDED`].
    fn make(cap: usize) -> (Self::Tx, Self::Rx);
}

/// A [`Channels`] for a crate whose `bounded(cap)` and `unbounded()` make
/// `Sender<u64>` / `Receiver<u64>` pairs (hoare-chan, crossbeam-channel and
/// kanal alike).
macro_rules! channels {
    ($name:ident, $krate:ident) => {
        struct $name;
        impl Channels for $name {
            type Tx = $krate::Sender<u64>;
            type Rx = $krate::Receiver<u64>;
            fn make(cap: usize) -> (Self::Tx, Self::Rx) {
                match cap {
                    UNBOUNDED => $krate::unbounded(),
                    cap => $krate::bounded(cap),
                }
            }
        }
    };
}

channels!(HoareChan, hoare_chan);
channels!(Crossbeam, crossbeam_channel);
channels!(Kanal, kanal);

/// `PAIRS` producer threads and `PAIRS` consumer threads on one channel
/// of capacity `CAP`.
fn pairs<C: Channels, const PAIRS: usize, const CAP: usize>(ops: u64) -> Duration {
    many_to_many(ops, PAIRS as u64, PAIRS as u64, C::make(CAP))
}

/// One thread sends `LEN` messages into the channel, then receives them,
/// and again until `ops` messages went through: the cost of a message with
/// `LEN` of them queued. Capacity `CAP` ([`UNBOUNDED`] or `LEN`).
fn queued<C: Channels, const LEN: usize, const CAP: usize>(ops: u64) -> Duration {
    let (tx, rx) = C::make(CAP);
    let mut left = ops;
    let mut sum = 0;
    let begun = Instant::now();
    while left > 0 {
        let burst = left.min(LEN as u64);
        for i in 0..burst {
            tx.put(i);
        }
        for _ in 0..burst {
            sum += rx.take();
        }
        left -= burst;
    }
    let elapsed = begun.elapsed();
    let bursts = ops / LEN as u64;
    assert_eq!(
        sum,
        bursts * sent_sum(LEN as u64) + sent_sum(ops % LEN as u64)
    );
    elapsed
}

// ---------------------------------------------------------------------------
// Locks

/// A mutex around a counter.
pub(crate) trait Counter: Default + Sync {
    fn increment(&self);
    fn get(&self) -> u64;
}

/// [`Counter`] for a mutex whose `lock()` returns the guard itself.
macro_rules! counter {
    ($mutex:ty) => {
        impl Counter for $mutex {
            fn increment(&self) {
                *self.lock() += 1;
            }
            fn get(&self) -> u64 {
                *self.lock()
            }
        }
    };
}

counter!(hoare_sync::Mutex<u64>);
counter!(parking_lot::Mutex<u64>);

impl Counter for std::sync::Mutex<u64> {
    fn increment(&self) {
        *self.lock().unwrap() += 1;
    }
    fn get(&self) -> u64 {
        *self.lock().unwrap()
    }
}

/// `T` threads lock, increment and unlock one mutex.
pub(crate) fn mutex<M: Counter, const T: usize>(ops: u64) -> Duration {
    let m = M::default();
    let elapsed = on_n_threads(ops, T, |_, n| {
        for _ in 0..n {
            black_box(&m).increment();
        }
    });
    assert_eq!(m.get(), ops);
    elapsed
}

/// A reader-writer lock around four words.
pub(crate) trait Shared: Default + Sync {
    fn write(&self);
    fn read(&self) -> u64;
    fn writes(&self) -> u64;
}

/// [`Shared`] for a lock whose `read()` and `write()` return the guards
/// themselves.
macro_rules! shared {
    ($lock:ty) => {
        impl Shared for $lock {
            fn write(&self) {
                self.write()[0] += 1;
            }
            fn read(&self) -> u64 {
                let g = self.read();
                g[0] + g[3]
            }
            fn writes(&self) -> u64 {
                self.read()[0]
            }
        }
    };
}

shared!(hoare_sync::RwMutex<[u64; 4]>);
shared!(parking_lot::RwLock<[u64; 4]>);

impl Shared for std::sync::RwLock<[u64; 4]> {
    fn write(&self) {
        self.write().unwrap()[0] += 1;
    }
    fn read(&self) -> u64 {
        let g = self.read().unwrap();
        g[0] + g[3]
    }
    fn writes(&self) -> u64 {
        self.read().unwrap()[0]
    }
}

/// `T` threads, each 20th operation a write, the others reads.
pub(crate) fn rwmutex<L: Shared, const T: usize>(ops: u64) -> Duration {
    let rw = L::default();
    let elapsed = on_n_threads(ops, T, |_, n| {
        for i in 0..n {
            if is_write(i) {
                black_box(&rw).write();
            } else {
                black_box(black_box(&rw).read());
            }
        }
    });
    let writes: u64 = (0..T as u64)
        .map(|t| share(ops, t, T as u64) / WRITE_EVERY)
        .sum();
    assert_eq!(rw.writes(), writes);
    elapsed
}

// ---------------------------------------------------------------------------
// Scheduler

/// Tasks per round of the scheduler tables.
const SCHED_TASKS: usize = 1_000;
/// Yields per task in the yield table.
const SCHED_YIELDS: usize = 20;

/// Per round, [`SCHED_TASKS`] empty tasks spawned from outside and joined,
/// on `P` workers. One operation: one round.
fn spawn<S: Executor, const P: usize>(ops: u64) -> Duration {
    spawn_and_join_on(S::start_with(P), ops, SCHED_TASKS, || async {})
}

/// Per round, [`SCHED_TASKS`] tasks that each yield [`SCHED_YIELDS`]
/// times, on `P` workers. One operation: one round.
fn yields<S: Executor, const P: usize>(ops: u64) -> Duration {
    spawn_and_join_on(S::start_with(P), ops, SCHED_TASKS, || async {
        for _ in 0..SCHED_YIELDS {
            S::yield_now().await;
        }
    })
}

// ---------------------------------------------------------------------------
// The tables

/// One row: `name` and the function `$f::<T, N>` (or `$f::<T, N, X>`)
/// for every `N` of the column values.
macro_rules! row {
    ($name:literal, $f:ident::<$ty:ty>, [$($n:expr),*]) => {
        ($name, vec![$($f::<$ty, { $n }> as fn(u64) -> Duration),*])
    };
    ($name:literal, $f:ident::<$ty:ty>, [$($n:expr),*], $extra:expr) => {
        ($name, vec![$($f::<$ty, { $n }, { $extra }> as fn(u64) -> Duration),*])
    };
}

/// The bounded(L) queue row: capacity = L in every column.
macro_rules! bounded_queue_row {
    ($name:literal, $c:ty) => {
        (
            $name,
            vec![
                queued::<$c, 16, 16> as fn(u64) -> Duration,
                queued::<$c, 1_024, 1_024>,
                queued::<$c, 65_536, 65_536>,
                queued::<$c, 1_048_576, 1_048_576>,
            ],
        )
    };
}

/// The table of one channel flavor (capacity `$cap`) at 1 to 8 producer
/// and consumer pairs, hoare against crossbeam and kanal.
macro_rules! pairs_table {
    ($flavor:literal, $on:literal, $cap:expr, $analysis:expr) => {
        Table {
            title: concat!(
                "Channel, ",
                $flavor,
                ": N producer and N consumer threads (2N threads)"
            ),
            about: concat!(
                "N producers and N consumers ",
                $on,
                "; one operation is one message."
            ),
            column: "N",
            columns: &THREADS,
            rows: vec![
                row!("hoare", pairs::<HoareChan>, [1, 2, 4, 8], $cap),
                row!("crossbeam", pairs::<Crossbeam>, [1, 2, 4, 8], $cap),
                row!("kanal", pairs::<Kanal>, [1, 2, 4, 8], $cap),
            ],
            analysis: $analysis,
        }
    };
}

/// Every table, in the order of `SCALING.md`.
pub fn tables() -> Vec<Table> {
    vec![
        pairs_table!("bounded(0)", "on one rendezvous channel", 0, ZERO),
        pairs_table!("bounded(1)", "on a channel of capacity 1", 1, ARRAY_SMALL),
        pairs_table!(
            "bounded(1024)",
            "on a channel of capacity 1,024, where a sender rarely waits",
            1024,
            ARRAY
        ),
        pairs_table!("unbounded", "on an unbounded channel", UNBOUNDED, LIST),
        Table {
            title: "Channel, unbounded: L messages queued",
            about: "One thread sends L messages, then receives them, over and over: the \
                    cost of a message with L of them in the queue.",
            column: "L",
            columns: &QUEUED,
            rows: vec![
                row!(
                    "hoare",
                    queued::<HoareChan>,
                    [16, 1_024, 65_536, 1_048_576],
                    UNBOUNDED
                ),
                row!(
                    "crossbeam",
                    queued::<Crossbeam>,
                    [16, 1_024, 65_536, 1_048_576],
                    UNBOUNDED
                ),
                row!(
                    "kanal",
                    queued::<Kanal>,
                    [16, 1_024, 65_536, 1_048_576],
                    UNBOUNDED
                ),
            ],
            analysis: QUEUE_LIST,
        },
        Table {
            title: "Channel, bounded(L): L messages queued",
            about: "As above on a channel of capacity L, filled to the brim each time.",
            column: "L",
            columns: &QUEUED,
            rows: vec![
                bounded_queue_row!("hoare", HoareChan),
                bounded_queue_row!("crossbeam", Crossbeam),
                bounded_queue_row!("kanal", Kanal),
            ],
            analysis: QUEUE_ARRAY,
        },
        Table {
            title: "Mutex: N threads increment one counter",
            about: "N threads lock, increment one shared counter and unlock in a loop.",
            column: "N",
            columns: &THREADS,
            rows: vec![
                row!("hoare", mutex::<hoare_sync::Mutex<u64>>, [1, 2, 4, 8]),
                row!("std", mutex::<std::sync::Mutex<u64>>, [1, 2, 4, 8]),
                row!(
                    "parking_lot",
                    mutex::<parking_lot::Mutex<u64>>,
                    [1, 2, 4, 8]
                ),
            ],
            analysis: MUTEX,
        },
        Table {
            title: "RwMutex, 95% reads: N threads",
            about: "N threads share a 4-word array; each 20th operation of each thread is a \
                    write, the others read two words.",
            column: "N",
            columns: &THREADS,
            rows: vec![
                row!(
                    "hoare",
                    rwmutex::<hoare_sync::RwMutex<[u64; 4]>>,
                    [1, 2, 4, 8]
                ),
                row!("std", rwmutex::<std::sync::RwLock<[u64; 4]>>, [1, 2, 4, 8]),
                row!(
                    "parking_lot",
                    rwmutex::<parking_lot::RwLock<[u64; 4]>>,
                    [1, 2, 4, 8]
                ),
            ],
            analysis: RWMUTEX,
        },
        Table {
            title: "Scheduler: spawn and join 1,000 empty tasks on N workers",
            about: "Per round, 1,000 empty tasks spawned from a thread outside the runtime, \
                    then all joined; one operation is one round.",
            column: "N",
            columns: &THREADS,
            rows: vec![
                row!("hoare", spawn::<Hoare>, [1, 2, 4, 8]),
                row!("tokio", spawn::<Tokio>, [1, 2, 4, 8]),
            ],
            analysis: SCHED_SPAWN,
        },
        Table {
            title: "Scheduler: 1,000 tasks yielding 20 times each on N workers",
            about: "Per round, 1,000 tasks that each yield 20 times, spawned from outside \
                    and joined; one operation is one round (21,000 polls).",
            column: "N",
            columns: &THREADS,
            rows: vec![
                row!("hoare", yields::<Hoare>, [1, 2, 4, 8]),
                row!("tokio", yields::<Tokio>, [1, 2, 4, 8]),
            ],
            analysis: SCHED_YIELD,
        },
    ]
}

// ---------------------------------------------------------------------------
// Measuring and writing

/// A measured table: per column, one measurement per row.
pub struct Measured<'a> {
    /// The table.
    pub table: &'a Table,
    /// `cells[column][row]`.
    pub cells: Vec<Vec<Measurement>>,
}

/// Measures every cell of `table` with `budget`; `tick` after each
/// calibration and sample.
pub fn measure<'a>(table: &'a Table, budget: &Budget, mut tick: impl FnMut()) -> Measured<'a> {
    let cells = table
        .columns
        .iter()
        .enumerate()
        .map(|(c, value)| {
            // Measurements name a `'static` scenario; these few are leaked.
            let scenario: &'static Scenario = Box::leak(Box::new(Scenario {
                group: "scaling",
                name: Box::leak(format!("{}={value}", table.column).into_boxed_str()),
                title: table.title,
                op: "",
                about: table.about,
            }));
            let entries: Vec<Workload> = table
                .rows
                .iter()
                .map(|(implementation, runs)| Workload {
                    scenario,
                    implementation,
                    run: runs[c],
                })
                .collect();
            measure_scenario(&entries, budget, |_| tick())
        })
        .collect();
    Measured { table, cells }
}

/// Steps [`measure`] reports through `tick` for `table`.
pub fn steps(table: &Table, budget: &Budget) -> u64 {
    (table.columns.len() * table.rows.len() * (budget.samples + 1)) as u64
}

/// Renders `SCALING.md` from the measured tables.
pub fn render(
    measured: &[Measured<'_>],
    machine: &Machine,
    command: &str,
    budget: &Budget,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# How hoare's costs grow with threads and queue length\n"
    );
    let _ = writeln!(
        out,
        "Written by `{command}` on {} ({} cores, {}, {}), {} samples of about {} ms per \
         cell; each cell is the median time per operation and, in parentheses, its \
         ratio to the first column of its row. **Absolute numbers are from a {}-core \
         machine**: from 4 threads on, threads outnumber cores and the operating \
         system's time slicing is part of the figure. Hand-offs between threads \
         (the bounded(0) and bounded(1) tables) vary by 2 to 3× from one run to the \
         next here; compare the rows of one table, which were measured together.\n",
        machine.cpu_model,
        machine.cores,
        machine.rustc,
        machine.date,
        budget.samples,
        budget.sample_time.as_millis(),
        machine.cores,
    );
    out.push_str(ANALYSIS);
    out.push('\n');
    for m in measured {
        let t = m.table;
        let _ = writeln!(out, "## {}\n\n{}\n", t.title, t.about);
        let _ = write!(out, "| implementation |");
        for v in t.columns {
            let _ = write!(
                out,
                " {} = {} |",
                t.column,
                crate::report::thousands(*v as i64)
            );
        }
        let _ = write!(out, "\n|---|");
        for _ in t.columns {
            out.push_str("---:|");
        }
        out.push('\n');
        for (r, (name, _)) in t.rows.iter().enumerate() {
            let _ = write!(out, "| {name} |");
            let first = m.cells[0][r].stats.median;
            for column in &m.cells {
                let median = column[r].stats.median;
                let _ = write!(out, " {} ({:.2}×) |", format_ns(median), median / first);
            }
            out.push('\n');
        }
        let _ = writeln!(out, "\n{}\n", t.analysis);
    }
    out.push_str(MANY_CORES);
    out
}

// ---------------------------------------------------------------------------
// The analysis

/// The opening of `SCALING.md`, before the tables.
pub const ANALYSIS: &str = include_str!("scaling/intro.md");
/// What changes on a machine with many cores, after the tables.
pub const MANY_CORES: &str = include_str!("scaling/many_cores.md");
const ZERO: &str = include_str!("scaling/zero.md");
const ARRAY_SMALL: &str = include_str!("scaling/array_small.md");
const ARRAY: &str = include_str!("scaling/array.md");
const LIST: &str = include_str!("scaling/list.md");
const QUEUE_LIST: &str = include_str!("scaling/queue_list.md");
const QUEUE_ARRAY: &str = include_str!("scaling/queue_array.md");
const MUTEX: &str = include_str!("scaling/mutex.md");
const RWMUTEX: &str = include_str!("scaling/rwmutex.md");
const SCHED_SPAWN: &str = include_str!("scaling/sched_spawn.md");
const SCHED_YIELD: &str = include_str!("scaling/sched_yield.md");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_one_run_per_column_and_runs() {
        for t in tables() {
            for (name, runs) in &t.rows {
                assert_eq!(runs.len(), t.columns.len(), "{}: {name}", t.title);
                // The small cells only: the 1M-message bursts are too big
                // for a unit test.
                for (run, value) in runs.iter().zip(t.columns) {
                    if *value <= 1_024 {
                        run(40);
                    }
                }
            }
        }
    }
}
