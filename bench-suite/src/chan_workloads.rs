//! Channel workloads: hoare-chan against std's `mpsc`, crossbeam-channel,
//! flume, kanal and tokio's `mpsc`.
//!
//! The thread workloads are crossbeam-channel's own benchmark suite
//! (`crossbeam-channel/benchmarks/crossbeam-channel.rs`): `seq`, `spsc`,
//! `mpsc`, `mpmc`, `select_rx` and `select_both`, each over bounded(0),
//! bounded(1), bounded(N) with N = the messages in the sample, and
//! unbounded, with [`THREADS`] = 4 producers and (for the multi-consumer
//! shapes) 4 consumers. `seq` runs only bounded(N) and unbounded, as in
//! crossbeam's suite: one thread sends every message before receiving any,
//! which deadlocks at capacity 0 or 1. To them this module adds
//!
//! * `ping_pong`: two threads, one rendezvous channel each way; one
//!   operation is a round trip (the latency of a hand-off);
//! * `async_spsc` / `async_mpsc`: tasks on a 2-worker tokio runtime over
//!   bounded(1), bounded([`ASYNC_CAP`]) and unbounded. The async buffered
//!   flavor uses a fixed capacity of 1,000 rather than N: with N = messages
//!   no producer would ever wait, and the row would repeat the unbounded one;
//! * `pinned_*`: spsc, mpsc and mpmc again with the whole process pinned
//!   to one core (`taskset -c 0`; see [`crate::pinned`]), the case where
//!   spinning for a partner that cannot run is pure loss;
//! * `oversub_mpmc_*`: [`OVERSUBSCRIBED`] producers and as many consumers,
//!   16 threads on the 2 cores.
//!
//! One operation is one message, sent by one thread and received by
//! another (`seq`: the same thread). Each run sends exactly `ops` messages,
//! split across the producers, and checks at the end that the sum of the
//! received values equals the sum of the sent ones, so a peer that loses
//! or duplicates a message cannot look fast. The timed span of a thread
//! workload runs from the release of a start barrier, once every thread is
//! spawned and waiting, to the last thread's end (the last message
//! received); of an async workload, from the first spawn to the consumer
//! task's end; runtime construction is outside it.
//!
//! Go's entries (`bench-suite/go/chan.go`, see [`crate::go`]) run the same
//! shapes with goroutines for threads and tasks, every bounded flavor; Go
//! has no unbounded channel. In the pinned tables Go runs with
//! `GOMAXPROCS=1`, what Go picks by itself in a process confined to one
//! core.
//!
//! Implementations appear where they have the operation: std has no
//! multi-consumer receiver and no select, kanal no select, tokio's `mpsc`
//! is async and single-consumer, and crossbeam and std have no async API.
//! flume has a select (`Selector`) but hangs in `select_both`, so it is
//! left out of that one workload (see [`workloads`]).

use std::sync::{Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::chan_adapters::{AsyncRx, AsyncTx, Rx, SELECT_WIDTH, SelectRx, SelectTx, Tx};
use crate::sched_adapters::{Executor, Tokio};
use crate::workload::{Scenario, Workload};

/// Producers (and consumers) in crossbeam's multi-threaded shapes.
pub const THREADS: u64 = 4;
/// Producers and consumers each in the oversubscribed workload.
pub const OVERSUBSCRIBED: u64 = 8;
/// Capacity of the buffered async flavor.
pub const ASYNC_CAP: usize = 1_000;
/// Producers in `async_mpsc`.
pub const ASYNC_PRODUCERS: u64 = 4;
/// Worker threads of the async workloads' tokio runtime: one per core.
pub const RUNTIME_WORKERS: usize = crate::sched_adapters::PROCS;
/// Name prefix of the scenarios measured in a process pinned to one core.
pub const PINNED_PREFIX: &str = "pinned_";

/// The paragraph the report prints under the group's heading.
pub const INTRO: &str = "Workloads from crossbeam-channel's benchmark suite (`seq`, `spsc`, \
    `mpsc`, `mpmc`, `select_rx`, `select_both`: 4 producer threads and, where several \
    consume, 4 consumer threads; bounded(N) has capacity N = the messages in the sample, \
    as in crossbeam's suite), ping-pong, async variants on a 2-worker tokio runtime \
    (buffered flavor: capacity 1,000), the spsc/mpsc/mpmc tables again in a process \
    pinned to one core, and mpmc with 8 + 8 threads on the 2 cores. One operation is \
    one `u64` message (ping-pong: one round trip); a sample holds at most the \
    operations named in the header, fewer when they are slow. Threads are spawned and waiting at a barrier \
    before the clock starts, and it stops when the last message is received; every \
    run checks the sum of the received values. An implementation is absent where it \
    lacks the operation: std has no multi-consumer receiver and no select, kanal no \
    select, tokio's `mpsc` is async-only and single-consumer, std and crossbeam have \
    no async API; flume is absent from `select_both`, where its `Selector` hangs \
    (lost wake-ups, flume#44). Go runs every bounded flavor (it has no unbounded \
    channel) with goroutines where the Rust entries have threads: a goroutine that \
    waits is parked and resumed by Go's scheduler in user space (a few hundred \
    nanoseconds), a thread that waits sleeps in the kernel and is woken by a futex \
    call (several microseconds once threads outnumber cores). Where senders or \
    receivers must wait (bounded(0), bounded(1)), Go's figures therefore measure \
    goroutine switches against thread switches; hoare's goroutine channels on \
    hoare-sched are compared with Go's like for like in the `sched` group.";

/// What one operation is in every channel scenario.
const ONE_MESSAGE: &str = "one message sent and received";

// ---------------------------------------------------------------------------
// Scenarios

/// The four flavors of one thread workload, in the order bounded(0),
/// bounded(1), bounded(N), unbounded.
macro_rules! four_flavors {
    ($name:literal, $title:literal, $about:expr) => {
        [
            Scenario {
                group: "chan",
                name: concat!($name, "_bounded0"),
                title: concat!($title, ", bounded(0)"),
                op: ONE_MESSAGE,
                about: concat!(
                    $about,
                    " Capacity 0: each send waits for a receiver (rendezvous)."
                ),
            },
            Scenario {
                group: "chan",
                name: concat!($name, "_bounded1"),
                title: concat!($title, ", bounded(1)"),
                op: ONE_MESSAGE,
                about: concat!($about, " Capacity 1."),
            },
            Scenario {
                group: "chan",
                name: concat!($name, "_bounded_n"),
                title: concat!($title, ", bounded(N)"),
                op: ONE_MESSAGE,
                about: concat!(
                    $about,
                    " Capacity N = the messages in the sample (crossbeam's suite), \
                     so no send waits for room."
                ),
            },
            Scenario {
                group: "chan",
                name: concat!($name, "_unbounded"),
                title: concat!($title, ", unbounded"),
                op: ONE_MESSAGE,
                about: concat!($about, " Unbounded."),
            },
        ]
    };
}

/// The three flavors of one async workload: bounded(1), bounded(1,000),
/// unbounded.
macro_rules! async_flavors {
    ($name:literal, $title:literal, $about:expr) => {
        [
            Scenario {
                group: "chan",
                name: concat!($name, "_bounded1"),
                title: concat!($title, ", bounded(1)"),
                op: ONE_MESSAGE,
                about: concat!($about, " Capacity 1."),
            },
            Scenario {
                group: "chan",
                name: concat!($name, "_bounded1000"),
                title: concat!($title, ", bounded(1000)"),
                op: ONE_MESSAGE,
                about: concat!($about, " Capacity 1,000."),
            },
            Scenario {
                group: "chan",
                name: concat!($name, "_unbounded"),
                title: concat!($title, ", unbounded"),
                op: ONE_MESSAGE,
                about: concat!($about, " Unbounded."),
            },
        ]
    };
}

// Shared sentences, as macros so that `concat!` can splice them.
macro_rules! spsc_about {
    () => {
        "One producer thread sends to one consumer thread."
    };
}
macro_rules! mpsc_about {
    () => {
        "Four producer threads send to one consumer thread (5 threads on 2 cores)."
    };
}
macro_rules! mpmc_about {
    () => {
        "Four producer threads send to four consumer threads sharing one receiver \
         (8 threads on 2 cores); std has no multi-consumer receiver."
    };
}
macro_rules! pinned_about {
    () => {
        "The whole process is pinned to one core (`taskset -c 0`, a child process), so \
         every hand-off is a context switch and spinning for a partner only burns its \
         time slice. "
    };
}

/// `seq`: bounded(N) and unbounded (capacity 0 and 1 would deadlock).
pub static SEQ: [Scenario; 2] = [
    Scenario {
        group: "chan",
        name: "seq_bounded_n",
        title: "Channel seq (one thread), bounded(N)",
        op: ONE_MESSAGE,
        about: "One thread sends every message, then receives them all: no contention, \
                no blocking. Capacity N = the messages in the sample.",
    },
    Scenario {
        group: "chan",
        name: "seq_unbounded",
        title: "Channel seq (one thread), unbounded",
        op: ONE_MESSAGE,
        about: "One thread sends every message, then receives them all: no contention, \
                no blocking. Unbounded.",
    },
];

/// `spsc`: one producer, one consumer.
pub static SPSC: [Scenario; 4] = four_flavors!(
    "spsc",
    "Channel spsc (1 producer, 1 consumer)",
    spsc_about!()
);

/// `mpsc`: four producers, one consumer.
pub static MPSC: [Scenario; 4] = four_flavors!(
    "mpsc",
    "Channel mpsc (4 producers, 1 consumer)",
    mpsc_about!()
);

/// `mpmc`: four producers, four consumers.
pub static MPMC: [Scenario; 4] = four_flavors!(
    "mpmc",
    "Channel mpmc (4 producers, 4 consumers)",
    mpmc_about!()
);

/// `select_rx`: four producers on four channels, one selecting consumer.
pub static SELECT_RX: [Scenario; 4] = four_flavors!(
    "select_rx",
    "Channel select_rx (4 producers on 4 channels, 1 selecting receiver)",
    "Four producer threads each send on their own channel; one consumer thread \
     receives with a select over the four receivers (crossbeam: `select!`, flume: \
     `Selector`; std and kanal have no select)."
);

/// `select_both`: four selecting senders, four selecting receivers.
pub static SELECT_BOTH: [Scenario; 4] = four_flavors!(
    "select_both",
    "Channel select_both (4 selecting senders, 4 selecting receivers, 4 channels)",
    "Four threads each send with a select over the senders of four channels, four \
     threads each receive with a select over their receivers (8 threads on 2 cores). \
     flume is absent: its `Selector` hangs in this workload (lost wake-ups, flume#44)."
);

/// Round trips between two threads over two rendezvous channels.
pub static PING_PONG: Scenario = Scenario {
    group: "chan",
    name: "ping_pong",
    title: "Channel ping-pong (2 threads, bounded(0) each way)",
    op: "one round trip: a message there and its answer back",
    about: "One thread sends a value on a rendezvous channel and waits for it on a second \
            one; the other thread receives it and sends it back: the latency of two \
            hand-offs between threads.",
};

/// `async_spsc`: one producer task, one consumer task.
pub static ASYNC_SPSC: [Scenario; 3] = async_flavors!(
    "async_spsc",
    "Async channel spsc (1 producer task, 1 consumer task, 2 workers)",
    "One producer task sends to one consumer task on a 2-worker tokio runtime \
     (`send(..).await` / `recv().await`)."
);

/// `async_mpsc`: four producer tasks, one consumer task.
pub static ASYNC_MPSC: [Scenario; 3] = async_flavors!(
    "async_mpsc",
    "Async channel mpsc (4 producer tasks, 1 consumer task, 2 workers)",
    "Four producer tasks send to one consumer task on a 2-worker tokio runtime \
     (`send(..).await` / `recv().await`)."
);

/// `spsc` in a process pinned to one core.
pub static PINNED_SPSC: [Scenario; 4] = four_flavors!(
    "pinned_spsc",
    "Pinned to one core: spsc (1 producer, 1 consumer)",
    concat!(pinned_about!(), spsc_about!())
);

/// `mpsc` in a process pinned to one core.
pub static PINNED_MPSC: [Scenario; 4] = four_flavors!(
    "pinned_mpsc",
    "Pinned to one core: mpsc (4 producers, 1 consumer)",
    concat!(pinned_about!(), mpsc_about!())
);

/// `mpmc` in a process pinned to one core.
pub static PINNED_MPMC: [Scenario; 4] = four_flavors!(
    "pinned_mpmc",
    "Pinned to one core: mpmc (4 producers, 4 consumers)",
    concat!(pinned_about!(), mpmc_about!())
);

/// `mpmc` with eight producers and eight consumers on two cores.
pub static OVERSUB_MPMC: [Scenario; 4] = four_flavors!(
    "oversub_mpmc",
    "Oversubscribed mpmc (8 producers, 8 consumers, 2 cores)",
    "Eight producer threads send to eight consumer threads sharing one receiver: 16 \
     runnable threads on 2 cores; std has no multi-consumer receiver."
);

/// Whether `scenario` must be measured in a process pinned to one core.
pub fn is_pinned(scenario: &Scenario) -> bool {
    scenario.group == "chan" && scenario.name.starts_with(PINNED_PREFIX)
}

/// The thread workloads on both cores: crossbeam's suite and ping-pong,
/// without the pinned and oversubscribed repeats. The geometric-mean
/// target against crossbeam is taken over these.
pub fn thread_scenarios() -> Vec<&'static Scenario> {
    let mut all: Vec<&'static Scenario> = SEQ.iter().collect();
    for flavors in [&SPSC, &MPSC, &MPMC, &SELECT_RX, &SELECT_BOTH] {
        all.extend(flavors.iter());
    }
    all.push(&PING_PONG);
    all
}

// ---------------------------------------------------------------------------
// Registry

/// Pushes one workload per (implementation, flavor) for one shape.
///
/// `rows!(out, &SCENARIOS, shape, [flavors], [implementations])` pairs the
/// i-th flavor with `SCENARIOS[i]`. Each implementation arm names the
/// library's own constructors; each flavor arm builds the `run` function as
/// a closure that captures nothing (so it is a plain `fn(u64) -> Duration`)
/// and hands the shape a constructor for that flavor. A table rather than
/// ~200 hand-written functions keeps every entry visibly the same shape.
macro_rules! rows {
    ($out:ident, $sc:expr, $shape:path, $flavors:tt, [$($imp:ident),*]) => {
        $( rows!(@imp $out, $sc, $shape, $flavors, $imp); )*
    };
    (@imp $out:ident, $sc:expr, $shape:path, $flavors:tt, hoare) => {
        rows!(@each $out, $sc, $shape, $flavors, "hoare",
            hoare_chan::bounded::<u64>, hoare_chan::unbounded::<u64>)
    };
    (@imp $out:ident, $sc:expr, $shape:path, $flavors:tt, std) => {
        rows!(@each $out, $sc, $shape, $flavors, "std",
            mpsc::sync_channel::<u64>, mpsc::channel::<u64>)
    };
    (@imp $out:ident, $sc:expr, $shape:path, $flavors:tt, crossbeam) => {
        rows!(@each $out, $sc, $shape, $flavors, "crossbeam",
            crossbeam_channel::bounded::<u64>, crossbeam_channel::unbounded::<u64>)
    };
    (@imp $out:ident, $sc:expr, $shape:path, $flavors:tt, flume) => {
        rows!(@each $out, $sc, $shape, $flavors, "flume",
            flume::bounded::<u64>, flume::unbounded::<u64>)
    };
    (@imp $out:ident, $sc:expr, $shape:path, $flavors:tt, kanal) => {
        rows!(@each $out, $sc, $shape, $flavors, "kanal",
            kanal::bounded::<u64>, kanal::unbounded::<u64>)
    };
    (@imp $out:ident, $sc:expr, $shape:path, $flavors:tt, kanal_async) => {
        rows!(@each $out, $sc, $shape, $flavors, "kanal",
            kanal::bounded_async::<u64>, kanal::unbounded_async::<u64>)
    };
    (@imp $out:ident, $sc:expr, $shape:path, $flavors:tt, tokio) => {
        rows!(@each $out, $sc, $shape, $flavors, "tokio",
            tokio::sync::mpsc::channel::<u64>, tokio::sync::mpsc::unbounded_channel::<u64>)
    };
    (@each $out:ident, $sc:expr, $shape:path, [$($flavor:ident),*], $name:literal,
        $bounded:expr, $unbounded:expr) => {{
        let scenarios: &'static [Scenario] = $sc;
        let mut next = scenarios.iter();
        $(
            $out.push(Workload {
                scenario: next.next().expect("one scenario per flavor"),
                implementation: $name,
                run: rows!(@run $shape, $flavor, $bounded, $unbounded),
            });
        )*
        assert!(next.next().is_none(), "one flavor per scenario");
    }};
    (@run $shape:path, b0, $bounded:expr, $unbounded:expr) => {
        |ops| $shape(ops, || $bounded(0))
    };
    (@run $shape:path, b1, $bounded:expr, $unbounded:expr) => {
        |ops| $shape(ops, || $bounded(1))
    };
    (@run $shape:path, bn, $bounded:expr, $unbounded:expr) => {
        |ops| $shape(ops, || $bounded(cap_n(ops)))
    };
    (@run $shape:path, b1000, $bounded:expr, $unbounded:expr) => {
        |ops| $shape(ops, || $bounded(ASYNC_CAP))
    };
    (@run $shape:path, unb, $bounded:expr, $unbounded:expr) => {
        |ops| $shape(ops, $unbounded)
    };
}

/// All channel workloads, in report order.
pub fn workloads() -> Vec<Workload> {
    let mut out = Vec::new();
    let round_trip = std::slice::from_ref(&PING_PONG);
    // Brace-delimited so that rustfmt keeps the table one row per line.
    rows! { out, &SEQ, seq, [bn, unb], [hoare, std, crossbeam, flume, kanal] }
    rows! { out, &SPSC, spsc, [b0, b1, bn, unb], [hoare, std, crossbeam, flume, kanal] }
    rows! { out, &MPSC, mpsc, [b0, b1, bn, unb], [hoare, std, crossbeam, flume, kanal] }
    rows! { out, &MPMC, mpmc, [b0, b1, bn, unb], [hoare, crossbeam, flume, kanal] }
    rows! { out, &SELECT_RX, select_rx, [b0, b1, bn, unb], [hoare, crossbeam, flume] }
    // No flume here: its `Selector` loses wake-ups when several threads
    // select over the same channels (flume#44); on this machine
    // select_both hung at every capacity, within a few hundred messages
    // at capacity 0 and 1 and after ~170,000 of 200,000 at capacity N.
    rows! { out, &SELECT_BOTH, select_both, [b0, b1, bn, unb], [hoare, crossbeam] }
    rows! { out, round_trip, ping_pong, [b0], [hoare, std, crossbeam, flume, kanal] }
    rows! { out, &ASYNC_SPSC, async_spsc, [b1, b1000, unb], [hoare, tokio, flume, kanal_async] }
    rows! { out, &ASYNC_MPSC, async_mpsc, [b1, b1000, unb], [hoare, tokio, flume, kanal_async] }
    // The pinned entries run the very same functions; only the process
    // they run in differs (see `crate::pinned`).
    rows! { out, &PINNED_SPSC, spsc, [b0, b1, bn, unb], [hoare, std, crossbeam, flume, kanal] }
    rows! { out, &PINNED_MPSC, mpsc, [b0, b1, bn, unb], [hoare, std, crossbeam, flume, kanal] }
    rows! { out, &PINNED_MPMC, mpmc, [b0, b1, bn, unb], [hoare, crossbeam, flume, kanal] }
    rows! { out, &OVERSUB_MPMC, mpmc_oversubscribed, [b0, b1, bn, unb], [hoare, crossbeam, flume, kanal] }
    // Go (bench-suite/go/chan.go): every bounded flavor, with goroutines
    // for threads and tasks; Go has no unbounded channel.
    go_rows! { out, SEQ[0], SPSC[0, 1, 2], MPSC[0, 1, 2], MPMC[0, 1, 2] }
    go_rows! { out, SELECT_RX[0, 1, 2], SELECT_BOTH[0, 1, 2], ASYNC_SPSC[0, 1], ASYNC_MPSC[0, 1] }
    go_rows! { out, PINNED_SPSC[0, 1, 2], PINNED_MPSC[0, 1, 2], PINNED_MPMC[0, 1, 2] }
    go_rows! { out, OVERSUB_MPMC[0, 1, 2] }
    out.push(crate::go_workload!(PING_PONG));
    out
}

/// Pushes the Go entry of each listed element of each scenario array.
macro_rules! go_rows {
    ($out:ident, $($sc:ident [$($i:literal),*]),* $(,)?) => {
        $( $( $out.push(crate::go_workload!($sc[$i])); )* )*
    };
}
use go_rows;

// ---------------------------------------------------------------------------
// Shared drivers

/// Thread `t`'s share of `ops` split over `parts`; the shares add up to `ops`.
fn share(ops: u64, t: u64, parts: u64) -> u64 {
    ops / parts + u64::from(t < ops % parts)
}

/// The capacity of the bounded(N) flavor: the messages in the run.
fn cap_n(ops: u64) -> usize {
    usize::try_from(ops.max(1)).expect("message count fits in usize")
}

/// The sum of the values one producer sends: `0 + 1 + ... + (n - 1)`.
pub(crate) fn sent_sum(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// The sum of all values `producers` producers send for `ops` messages.
fn expected_sum(ops: u64, producers: u64) -> u64 {
    (0..producers)
        .map(|p| sent_sum(share(ops, p, producers)))
        .sum()
}

/// Sends `0..n` on `tx`.
#[inline]
fn produce(tx: &impl Tx, n: u64) -> u64 {
    for i in 0..n {
        tx.put(i);
    }
    0
}

/// Receives `n` messages from `rx` and returns their sum.
#[inline]
fn consume(rx: &impl Rx, n: u64) -> u64 {
    (0..n).fold(0, |sum, _| sum + rx.take())
}

/// One thread's part of a timed run; returns its checksum (the sum of the
/// values it received, 0 for a producer).
type Job<'a> = Box<dyn FnOnce() -> u64 + Send + 'a>;

/// Runs every job on its own scoped thread, releases them together from a
/// barrier once all are spawned, and returns the span from the first
/// job's start to the last job's end with the sum of their checksums.
///
/// Each thread reads the clock itself, so the span leaves out spawning,
/// joining and the main thread's wake-ups.
fn timed(jobs: Vec<Job<'_>>) -> (Duration, u64) {
    let start = Barrier::new(jobs.len());
    let start = &start;
    thread::scope(|s| {
        let handles: Vec<_> = jobs
            .into_iter()
            .map(|job| {
                s.spawn(move || {
                    start.wait();
                    let begun = Instant::now();
                    let sum = job();
                    (begun, Instant::now(), sum)
                })
            })
            .collect();
        let ends: Vec<(Instant, Instant, u64)> = handles
            .into_iter()
            .map(|h| h.join().expect("channel workload thread panicked"))
            .collect();
        let first = ends.iter().map(|e| e.0).min().expect("at least one job");
        let last = ends.iter().map(|e| e.1).max().expect("at least one job");
        (last - first, ends.iter().map(|e| e.2).sum())
    })
}

// ---------------------------------------------------------------------------
// Thread workloads

/// crossbeam's `seq`: one thread sends all `ops` messages, then receives
/// them all.
fn seq<T: Tx, R: Rx>(ops: u64, mut new: impl FnMut() -> (T, R)) -> Duration {
    let (tx, rx) = new();
    let begun = Instant::now();
    produce(&tx, ops);
    let sum = consume(&rx, ops);
    let elapsed = begun.elapsed();
    assert_eq!(sum, sent_sum(ops));
    elapsed
}

/// `producers` threads share one sender; one thread receives all `ops`.
fn many_to_one<T: Tx, R: Rx>(ops: u64, producers: u64, (tx, rx): (T, R)) -> Duration {
    let tx = &tx;
    let mut jobs: Vec<Job<'_>> = (0..producers)
        .map(|p| {
            let n = share(ops, p, producers);
            Box::new(move || produce(tx, n)) as Job<'_>
        })
        .collect();
    jobs.push(Box::new(move || consume(&rx, ops)));
    let (elapsed, sum) = timed(jobs);
    assert_eq!(sum, expected_sum(ops, producers));
    elapsed
}

/// `producers` threads share one sender, `consumers` threads one receiver.
pub(crate) fn many_to_many<T: Tx, R: Rx + Sync>(
    ops: u64,
    producers: u64,
    consumers: u64,
    (tx, rx): (T, R),
) -> Duration {
    let (tx, rx) = (&tx, &rx);
    let mut jobs: Vec<Job<'_>> = Vec::new();
    for p in 0..producers {
        let n = share(ops, p, producers);
        jobs.push(Box::new(move || produce(tx, n)));
    }
    for c in 0..consumers {
        let n = share(ops, c, consumers);
        jobs.push(Box::new(move || consume(rx, n)));
    }
    let (elapsed, sum) = timed(jobs);
    assert_eq!(sum, expected_sum(ops, producers));
    elapsed
}

/// crossbeam's `spsc`.
fn spsc<T: Tx, R: Rx>(ops: u64, mut new: impl FnMut() -> (T, R)) -> Duration {
    many_to_one(ops, 1, new())
}

/// crossbeam's `mpsc`: [`THREADS`] producers.
fn mpsc<T: Tx, R: Rx>(ops: u64, mut new: impl FnMut() -> (T, R)) -> Duration {
    many_to_one(ops, THREADS, new())
}

/// crossbeam's `mpmc`: [`THREADS`] producers and as many consumers.
fn mpmc<T: Tx, R: Rx + Sync>(ops: u64, mut new: impl FnMut() -> (T, R)) -> Duration {
    many_to_many(ops, THREADS, THREADS, new())
}

/// `mpmc` with [`OVERSUBSCRIBED`] producers and as many consumers.
fn mpmc_oversubscribed<T: Tx, R: Rx + Sync>(ops: u64, mut new: impl FnMut() -> (T, R)) -> Duration {
    many_to_many(ops, OVERSUBSCRIBED, OVERSUBSCRIBED, new())
}

/// [`SELECT_WIDTH`] channels, as an array of senders and one of receivers.
fn channels<T, R>(mut new: impl FnMut() -> (T, R)) -> ([T; SELECT_WIDTH], [R; SELECT_WIDTH]) {
    let [a, b, c, d] = std::array::from_fn(|_| new());
    ([a.0, b.0, c.0, d.0], [a.1, b.1, c.1, d.1])
}

/// crossbeam's `select_rx`: producer `i` sends on channel `i`; one
/// consumer receives every message through a select over all four.
fn select_rx<T: Tx, R: SelectRx>(ops: u64, new: impl FnMut() -> (T, R)) -> Duration {
    // The senders stay here, borrowed by the producers: a producer that
    // dropped its sender on finishing would disconnect its channel, and a
    // select may then fire on the disconnection instead of a message.
    let (txs, rxs) = channels(new);
    let mut jobs: Vec<Job<'_>> = Vec::new();
    for (p, tx) in (0..).zip(&txs) {
        let n = share(ops, p, SELECT_WIDTH as u64);
        jobs.push(Box::new(move || produce(tx, n)));
    }
    jobs.push(Box::new(move || {
        (0..ops).fold(0, |sum, _| sum + R::take_any(&rxs))
    }));
    let (elapsed, sum) = timed(jobs);
    assert_eq!(sum, expected_sum(ops, SELECT_WIDTH as u64));
    elapsed
}

/// crossbeam's `select_both`: [`THREADS`] threads send through a select
/// over the four senders, as many receive through a select over the four
/// receivers.
fn select_both<T: SelectTx, R: SelectRx + Sync>(ops: u64, new: impl FnMut() -> (T, R)) -> Duration {
    let (txs, rxs) = channels(new);
    let (txs, rxs) = (&txs, &rxs);
    let mut jobs: Vec<Job<'_>> = Vec::new();
    for p in 0..THREADS {
        let n = share(ops, p, THREADS);
        jobs.push(Box::new(move || {
            for i in 0..n {
                T::put_any(txs, i);
            }
            0
        }));
    }
    for c in 0..THREADS {
        let n = share(ops, c, THREADS);
        jobs.push(Box::new(move || {
            (0..n).fold(0, |sum, _| sum + R::take_any(rxs))
        }));
    }
    let (elapsed, sum) = timed(jobs);
    assert_eq!(sum, expected_sum(ops, THREADS));
    elapsed
}

/// `ops` round trips: the value goes out on one channel and comes back on
/// the other.
fn ping_pong<T: Tx, R: Rx>(ops: u64, mut new: impl FnMut() -> (T, R)) -> Duration {
    let (ping_tx, ping_rx) = new();
    let (pong_tx, pong_rx) = new();
    let (elapsed, sum) = timed(vec![
        Box::new(move || {
            (0..ops).fold(0, |sum, i| {
                ping_tx.put(i);
                sum + pong_rx.take()
            })
        }),
        Box::new(move || {
            for _ in 0..ops {
                pong_tx.put(ping_rx.take());
            }
            0
        }),
    ]);
    assert_eq!(sum, sent_sum(ops));
    elapsed
}

// ---------------------------------------------------------------------------
// Async workloads

/// `producers` tasks share one sender; one task receives all `ops`; on
/// tokio here, on hoare-sched too in [`crate::sched_workloads`].
///
/// Both tasks are spawned from the future of `block_on`, which runs on the
/// calling thread, not on a worker; the clock runs from the first spawn to
/// the consumer's end. Runtime construction and shutdown are outside it.
pub(crate) fn async_many_to_one<S: Executor, T: AsyncTx, R: AsyncRx>(
    ops: u64,
    producers: u64,
    (tx, rx): (T, R),
) -> Duration {
    async_fan::<S, T, R>(ops, producers, tx, vec![rx])
}

/// `producers` tasks share `tx`; one consumer task per receiver of `rxs`
/// (handles of one channel) receives its share of the `ops` messages. The
/// clock runs from the first spawn (from the future of `block_on`) to the
/// last consumer's end; the sum of the received values is checked.
pub(crate) fn async_fan<S: Executor, T: AsyncTx, R: AsyncRx>(
    ops: u64,
    producers: u64,
    tx: T,
    rxs: Vec<R>,
) -> Duration {
    let (elapsed, sum) = S::start().block_on(async move {
        let begun = Instant::now();
        let consumers = rxs.len() as u64;
        let consumers: Vec<_> = rxs
            .into_iter()
            .enumerate()
            .map(|(c, mut rx)| {
                let n = share(ops, c as u64, consumers);
                S::go(async move {
                    let mut sum = 0;
                    for _ in 0..n {
                        sum += rx.take_async().await;
                    }
                    sum
                })
            })
            .collect();
        let producers: Vec<_> = (0..producers)
            .map(|p| {
                let (tx, n) = (tx.clone(), share(ops, p, producers));
                S::go(async move {
                    for i in 0..n {
                        tx.put_async(i).await;
                    }
                })
            })
            .collect();
        let mut sum = 0;
        for c in consumers {
            sum += c.await;
        }
        let elapsed = begun.elapsed();
        for p in producers {
            p.await;
        }
        (elapsed, sum)
    });
    assert_eq!(sum, expected_sum(ops, producers));
    elapsed
}

/// One producer task, one consumer task.
fn async_spsc<T: AsyncTx, R: AsyncRx>(ops: u64, mut new: impl FnMut() -> (T, R)) -> Duration {
    async_many_to_one::<Tokio, _, _>(ops, 1, new())
}

/// [`ASYNC_PRODUCERS`] producer tasks, one consumer task.
fn async_mpsc<T: AsyncTx, R: AsyncRx>(ops: u64, mut new: impl FnMut() -> (T, R)) -> Duration {
    async_many_to_one::<Tokio, _, _>(ops, ASYNC_PRODUCERS, new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_the_total() {
        for ops in [0, 1, 7, 1_000, 1_001] {
            let total: u64 = (0..THREADS).map(|t| share(ops, t, THREADS)).sum();
            assert_eq!(total, ops);
        }
    }

    #[test]
    fn every_flavor_has_one_scenario_per_entry() {
        crate::workload::assert_one_entry_per_implementation(&workloads());
    }

    #[test]
    fn every_workload_delivers_every_message() {
        // Each workload asserts its own checksum; small counts exercise
        // uneven shares (7 over 4 and 8 threads) and the capacity-N flavor.
        let go = crate::go::required_or_skip("every_workload_delivers_every_message (Go entries)");
        for w in workloads()
            .into_iter()
            .filter(|w| go || !crate::go::is_go(w))
        {
            for ops in [1, 7, 40] {
                (w.run)(ops);
            }
        }
    }
}
