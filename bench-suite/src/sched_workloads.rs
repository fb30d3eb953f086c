//! Scheduler workloads: hoare-sched against tokio's multi-thread runtime.
//!
//! The first five shapes are tokio's own scheduler benchmark
//! (`tokio/benches/rt_multi_threaded.rs`), with tokio's counts:
//!
//! * `spawn_many_local`: one task spawns [`NUM_SPAWN`] tasks, each of
//!   which sends one message on a `std::sync::mpsc` channel (as tokio's
//!   benchmark does), and the calling thread receives the [`NUM_SPAWN`]
//!   messages. The channel is std's unbounded one, so that no task can
//!   block its worker on a full channel;
//! * `spawn_many_remote_idle`: the calling thread, outside the runtime,
//!   spawns [`NUM_SPAWN`] empty tasks on the idle runtime, then awaits
//!   every handle;
//! * `yield_many`: [`YIELD_TASKS`] tasks each `yield_now().await`
//!   [`NUM_YIELD`] times, all spawned, then all awaited;
//! * `ping_pong`: one task spawns [`NUM_PINGS`] tasks; each spawns a
//!   partner, sends it one message on a oneshot-like channel and waits for
//!   its answer on a second one; the last pair to finish signals the
//!   calling thread. The channels are the runtimes' own: a
//!   `hoare_chan::bounded(1)` for hoare-sched (hoare-chan has no oneshot;
//!   at capacity 1 the single send never waits, as a oneshot's does not)
//!   and `tokio::sync::oneshot` for tokio, as in tokio's benchmark;
//! * `chained_spawn`: each task spawns the next, [`CHAIN`] deep; the last
//!   one signals the calling thread.
//!
//! To them this module adds the goroutine channel rows, each over
//! hoare-chan's bounded(0), bounded(1), bounded([`ASYNC_CAP`]) and
//! unbounded channels on hoare-sched: `async_spsc_*` (one producer task,
//! one consumer), `async_mpsc_*` ([`ASYNC_PRODUCERS`] producers),
//! `async_mpmc_*` (as many producers and [`ASYNC_CONSUMERS`] consumers)
//! and `async_ping_pong_*` (two tasks bouncing one value, a round trip per
//! operation). tokio runs them with `tokio::sync::mpsc`, which has no
//! capacity 0 and one consumer: it is absent from the bounded(0) and mpmc
//! rows. The channel rows check the sum of the received values.
//!
//! Every scenario runs on hoare-sched (`hoare`: 2 Ps, work stealing), on
//! tokio's multi-thread runtime (`tokio`: 2 workers) and in Go (`go`: the
//! program in `bench-suite/go/`, see [`crate::go`]; Go has no unbounded
//! channel), and tokio's shapes and spsc also on `hoare-fifo`, hoare-sched
//! with `Policy::GlobalFifo`: a baseline that shows what the per-P queues
//! and stealing buy. It is not a peer: the targets compare `hoare` with
//! the fastest implementation that is not hoare's (see
//! [`crate::targets`]).
//!
//! One operation is one round of a shape (a message in the channel rows,
//! a round trip in ping-pong). Each `run(ops)` starts a fresh runtime
//! before its clock starts and drops it after the clock stops, and does
//! `ops` rounds on it; every round checks that all of its tasks ran (every
//! message received, every handle awaited, the completion signal
//! received).
//!
//! [`crate::memory::idle_tasks`] adds the heap bytes of an idle task: the
//! scheduler's own overhead, and blocked on its own channel receive.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::chan_adapters::{AsyncRx, AsyncTx};
use crate::chan_workloads::{ASYNC_CAP, ASYNC_PRODUCERS, async_fan, async_many_to_one};
use crate::sched_adapters::{Executor, Hoare, HoareFifo, Tokio};
use crate::workload::{Scenario, Workload};

/// Tasks per round of `spawn_many_local` and `spawn_many_remote_idle`.
pub const NUM_SPAWN: usize = 10_000;
/// Tasks per round of `yield_many`.
pub const YIELD_TASKS: usize = 200;
/// `yield_now().await`s per task in `yield_many`.
pub const NUM_YIELD: usize = 1_000;
/// Pairs per round of `ping_pong`.
pub const NUM_PINGS: usize = 1_000;
/// Tasks per chain in `chained_spawn`.
pub const CHAIN: usize = 1_000;

/// The paragraph the report prints under the group's heading.
pub const INTRO: &str = "The shapes of tokio's scheduler benchmark (`rt_multi_threaded`: \
    `spawn_many_local`, `spawn_many_remote_idle`, `yield_many`, `ping_pong`, \
    `chained_spawn`, with its counts) and async channels between goroutines (spsc, mpsc, \
    mpmc and ping-pong over every flavor), each on hoare-sched (`hoare`: 2 Ps, work \
    stealing), on tokio's multi-thread runtime (`tokio`: 2 worker threads) and in Go \
    (`go`: the program in `bench-suite/go/`, goroutines and Go channels, `GOMAXPROCS=2`). \
    `hoare-fifo` is hoare-sched with `Policy::GlobalFifo`, one queue shared by both \
    workers: a baseline that shows what the per-P queues and stealing buy, not a peer (the \
    targets leave it out). One operation is one round of the shape (the channel rows: one \
    `u64` message; the ping-pong rows: one round trip). Each sample starts a fresh runtime \
    (for Go, a fresh process, which times itself after one untimed warm-up) before its \
    clock starts and drops it after the clock stops; every round checks that all of its \
    tasks ran.";

/// How the first five scenarios are measured, in a sentence.
macro_rules! tokio_shape {
    () => {
        "A shape of tokio's `rt_multi_threaded` benchmark on 2 workers. "
    };
}

/// From inside one task, spawn 10,000 tasks that each send one message.
pub static SPAWN_MANY_LOCAL: Scenario = Scenario {
    group: "sched",
    name: "spawn_many_local",
    title: "Scheduler spawn_many_local: 10,000 spawns from a task",
    op: "one round: a task spawns 10,000 tasks, each sends one message, the calling thread \
         receives the 10,000",
    about: concat!(
        tokio_shape!(),
        "One task spawns 10,000 tasks on its own worker; each sends one message on an \
         unbounded `std::sync::mpsc` channel, which the calling thread drains."
    ),
};

/// From outside the runtime, spawn 10,000 empty tasks and await them.
pub static SPAWN_MANY_REMOTE_IDLE: Scenario = Scenario {
    group: "sched",
    name: "spawn_many_remote_idle",
    title: "Scheduler spawn_many_remote_idle: 10,000 spawns from outside",
    op: "one round: 10,000 spawns from outside, then the 10,000 handles awaited",
    about: concat!(
        tokio_shape!(),
        "The calling thread, not a worker, spawns 10,000 empty tasks on the idle runtime \
         (into its global queue), then awaits every handle in `block_on`."
    ),
};

/// 200 tasks yielding 1,000 times each.
pub static YIELD_MANY: Scenario = Scenario {
    group: "sched",
    name: "yield_many",
    title: "Scheduler yield_many: 200 tasks × 1,000 yields",
    op: "one round: 200 tasks spawned, each yields 1,000 times, all awaited",
    about: concat!(
        tokio_shape!(),
        "The calling thread spawns 200 tasks, each of which calls `yield_now().await` \
         1,000 times, then awaits them all: 200,000 trips through the run queues."
    ),
};

/// 1,000 pairs of tasks exchanging one message each way.
pub static PING_PONG: Scenario = Scenario {
    group: "sched",
    name: "ping_pong",
    title: "Scheduler ping_pong: 1,000 task pairs, one message each way",
    op: "one round: 1,000 pairs spawned, one message each way per pair",
    about: concat!(
        tokio_shape!(),
        "One task spawns 1,000 tasks; each spawns a partner, sends it a message and awaits \
         the answer, over oneshot-like channels (hoare-sched: `hoare_chan::bounded(1)`; \
         tokio: `tokio::sync::oneshot`, as in tokio's benchmark). The last pair to finish \
         signals the calling thread."
    ),
};

/// A chain of 1,000 tasks, each spawning the next.
pub static CHAINED_SPAWN: Scenario = Scenario {
    group: "sched",
    name: "chained_spawn",
    title: "Scheduler chained_spawn: a chain of 1,000 spawns",
    op: "one round: 1,000 tasks, each spawned by the one before",
    about: concat!(
        tokio_shape!(),
        "Each task spawns the next, 1,000 deep; the last one signals the calling thread: \
         the latency of a spawn to a task's first poll, 1,000 times in a row."
    ),
};

/// The four flavors of a goroutine channel workload, in the order
/// bounded(0), bounded(1), bounded(1000), unbounded: `$shape` names it
/// (`spsc`), `$title` heads its tables, `$about` describes it.
macro_rules! flavors {
    ($shape:literal, $title:literal, $about:expr) => {
        [
            Scenario {
                group: "sched",
                name: concat!("async_", $shape, "_bounded0"),
                title: concat!($title, ", bounded(0)"),
                op: ONE_MESSAGE,
                about: concat!(
                    $about,
                    " Capacity 0: each send waits for a receiver (rendezvous); tokio has \
                     no such channel."
                ),
            },
            Scenario {
                group: "sched",
                name: concat!("async_", $shape, "_bounded1"),
                title: concat!($title, ", bounded(1)"),
                op: ONE_MESSAGE,
                about: concat!($about, " Capacity 1."),
            },
            Scenario {
                group: "sched",
                name: concat!("async_", $shape, "_bounded1000"),
                title: concat!($title, ", bounded(1000)"),
                op: ONE_MESSAGE,
                about: concat!($about, " Capacity 1,000."),
            },
            Scenario {
                group: "sched",
                name: concat!("async_", $shape, "_unbounded"),
                title: concat!($title, ", unbounded"),
                op: ONE_MESSAGE,
                about: concat!($about, " Unbounded; Go has no such channel."),
            },
        ]
    };
}

/// The operation of the goroutine channel workloads.
const ONE_MESSAGE: &str = "one message sent and received";

/// `async_spsc`: one producer goroutine, one consumer goroutine.
pub static ASYNC_SPSC: [Scenario; 4] = flavors!(
    "spsc",
    "Goroutine channel spsc",
    "One producer task sends `u64`s to one consumer task, both spawned from `block_on` \
     (`send_async(..).await` / `recv_async().await`): hoare-chan on hoare-sched, \
     `tokio::sync::mpsc` on tokio, a Go channel between goroutines."
);

/// `async_mpsc`: [`ASYNC_PRODUCERS`] producer goroutines, one consumer.
pub static ASYNC_MPSC: [Scenario; 4] = flavors!(
    "mpsc",
    "Goroutine channel mpsc (4 producers)",
    "Four producer tasks send `u64`s on one channel to one consumer task: hoare-chan on \
     hoare-sched, `tokio::sync::mpsc` on tokio, a Go channel between goroutines."
);

/// `async_mpmc`: [`ASYNC_PRODUCERS`] producers, [`ASYNC_CONSUMERS`]
/// consumers, one channel.
pub static ASYNC_MPMC: [Scenario; 4] = flavors!(
    "mpmc",
    "Goroutine channel mpmc (4 producers, 4 consumers)",
    "Four producer tasks send `u64`s on one channel that four consumer tasks receive \
     from: hoare-chan on hoare-sched, a Go channel between goroutines; tokio's `mpsc` has \
     one consumer, so tokio is absent."
);

/// `async_ping_pong`: two goroutines bounce one message over two channels.
pub static ASYNC_PING_PONG: [Scenario; 4] = flavors!(
    "ping_pong",
    "Goroutine channel ping-pong",
    "Two tasks bounce one `u64` over two channels of the flavor, one each way; one \
     operation is a round trip (the figure is per round trip, not per message): \
     hoare-chan on hoare-sched, `tokio::sync::mpsc` on tokio, Go channels between \
     goroutines."
);

/// Consumers of `async_mpmc`.
pub const ASYNC_CONSUMERS: u64 = 4;

/// The channel rows of one runtime over one flavor: spsc, mpsc, mpmc and
/// ping-pong. `$new` makes the flavor's channel (hoare's or tokio's);
/// mpmc only where the receiver can be shared (`$mpmc`).
macro_rules! channel_rows {
    ($out:ident, $i:literal, $impl:literal, $exec:ty, $new:expr, mpmc) => {
        channel_rows!($out, $i, $impl, $exec, $new);
        $out.push(w(&ASYNC_MPMC[$i], $impl, |ops| {
            async_many_to_many::<$exec, _, _>(ops, ASYNC_PRODUCERS, ASYNC_CONSUMERS, $new)
        }));
    };
    ($out:ident, $i:literal, $impl:literal, $exec:ty, $new:expr) => {
        $out.push(w(&ASYNC_SPSC[$i], $impl, |ops| {
            async_many_to_one::<$exec, _, _>(ops, 1, $new)
        }));
        $out.push(w(&ASYNC_MPSC[$i], $impl, |ops| {
            async_many_to_one::<$exec, _, _>(ops, ASYNC_PRODUCERS, $new)
        }));
        $out.push(w(&ASYNC_PING_PONG[$i], $impl, |ops| {
            async_ping_pong::<$exec, _, _>(ops, $new, $new)
        }));
    };
}

/// A workload entry.
fn w(
    scenario: &'static Scenario,
    implementation: &'static str,
    run: fn(u64) -> Duration,
) -> Workload {
    Workload {
        scenario,
        implementation,
        run,
    }
}

/// All scheduler workloads, in report order: per scenario `hoare`,
/// `tokio`, `go`, then the `hoare-fifo` baseline (tokio's shapes and
/// spsc only: it shows what the per-P queues buy; the other channel rows
/// leave it out to keep the run short).
pub fn workloads() -> Vec<Workload> {
    let mut out = Vec::new();
    for (scenario, [hoare, tokio, fifo]) in [
        (
            &SPAWN_MANY_LOCAL,
            [
                spawn_many_local::<Hoare> as fn(u64) -> Duration,
                spawn_many_local::<Tokio>,
                spawn_many_local::<HoareFifo>,
            ],
        ),
        (
            &SPAWN_MANY_REMOTE_IDLE,
            [
                spawn_many_remote_idle::<Hoare>,
                spawn_many_remote_idle::<Tokio>,
                spawn_many_remote_idle::<HoareFifo>,
            ],
        ),
        (
            &YIELD_MANY,
            [
                yield_many::<Hoare>,
                yield_many::<Tokio>,
                yield_many::<HoareFifo>,
            ],
        ),
        (
            &PING_PONG,
            [
                ping_pong::<Hoare>,
                ping_pong::<Tokio>,
                ping_pong::<HoareFifo>,
            ],
        ),
        (
            &CHAINED_SPAWN,
            [
                chained_spawn::<Hoare>,
                chained_spawn::<Tokio>,
                chained_spawn::<HoareFifo>,
            ],
        ),
    ] {
        out.push(w(scenario, "hoare", hoare));
        out.push(w(scenario, "tokio", tokio));
        out.push(w(scenario, "hoare-fifo", fifo));
    }
    out.extend([
        crate::go_workload!(SPAWN_MANY_LOCAL),
        crate::go_workload!(SPAWN_MANY_REMOTE_IDLE),
        crate::go_workload!(YIELD_MANY),
        crate::go_workload!(PING_PONG),
        crate::go_workload!(CHAINED_SPAWN),
    ]);
    use hoare_chan::{bounded, unbounded};
    use tokio::sync::mpsc::{channel, unbounded_channel};
    channel_rows!(out, 0, "hoare", Hoare, bounded::<u64>(0), mpmc);
    channel_rows!(out, 1, "hoare", Hoare, bounded::<u64>(1), mpmc);
    channel_rows!(out, 2, "hoare", Hoare, bounded::<u64>(ASYNC_CAP), mpmc);
    channel_rows!(out, 3, "hoare", Hoare, unbounded::<u64>(), mpmc);
    channel_rows!(out, 1, "tokio", Tokio, channel::<u64>(1));
    channel_rows!(out, 2, "tokio", Tokio, channel::<u64>(ASYNC_CAP));
    channel_rows!(out, 3, "tokio", Tokio, unbounded_channel::<u64>());
    out.extend([
        crate::go_workload!(ASYNC_SPSC[0]),
        crate::go_workload!(ASYNC_SPSC[1]),
        crate::go_workload!(ASYNC_SPSC[2]),
        crate::go_workload!(ASYNC_MPSC[0]),
        crate::go_workload!(ASYNC_MPSC[1]),
        crate::go_workload!(ASYNC_MPSC[2]),
        crate::go_workload!(ASYNC_MPMC[0]),
        crate::go_workload!(ASYNC_MPMC[1]),
        crate::go_workload!(ASYNC_MPMC[2]),
        crate::go_workload!(ASYNC_PING_PONG[0]),
        crate::go_workload!(ASYNC_PING_PONG[1]),
        crate::go_workload!(ASYNC_PING_PONG[2]),
    ]);
    let [b0, b1, b1000, unb] = &ASYNC_SPSC;
    out.extend([
        w(b0, "hoare-fifo", |ops| {
            async_many_to_one::<HoareFifo, _, _>(ops, 1, bounded::<u64>(0))
        }),
        w(b1, "hoare-fifo", |ops| {
            async_many_to_one::<HoareFifo, _, _>(ops, 1, bounded::<u64>(1))
        }),
        w(b1000, "hoare-fifo", |ops| {
            async_many_to_one::<HoareFifo, _, _>(ops, 1, bounded::<u64>(ASYNC_CAP))
        }),
        w(unb, "hoare-fifo", |ops| {
            async_many_to_one::<HoareFifo, _, _>(ops, 1, unbounded::<u64>())
        }),
    ]);
    out.extend(crate::echo::workloads());
    // Report order: tokio's shapes, then each channel shape over its four
    // flavors, then the echo server; the sort is stable, so each table
    // keeps the order above.
    let order: Vec<&'static Scenario> = [
        &SPAWN_MANY_LOCAL,
        &SPAWN_MANY_REMOTE_IDLE,
        &YIELD_MANY,
        &PING_PONG,
        &CHAINED_SPAWN,
    ]
    .into_iter()
    .chain(
        [&ASYNC_SPSC, &ASYNC_MPSC, &ASYNC_MPMC, &ASYNC_PING_PONG]
            .into_iter()
            .flatten(),
    )
    .chain([&crate::echo::ECHO_TCP])
    .collect();
    out.sort_by_key(|w| {
        order
            .iter()
            .position(|s| std::ptr::eq(*s, w.scenario))
            .expect("every scenario is in the report order")
    });
    out
}

// ---------------------------------------------------------------------------
// tokio's shapes

/// Why a completion message cannot be lost: the calling thread holds the
/// receiver until the round is over.
const RECEIVING: &str = "the calling thread receives until the round is over";
/// Why a completion message must come: every task of the round runs.
const SENT: &str = "a task of the round did not run";

/// `spawn_many_local`: per round, one task spawns [`NUM_SPAWN`] tasks that
/// each send one message; the calling thread receives them all.
fn spawn_many_local<S: Executor>(ops: u64) -> Duration {
    let rt = S::start();
    let (tx, rx) = mpsc::channel::<()>();
    let begun = Instant::now();
    for _ in 0..ops {
        let tx = tx.clone();
        drop(rt.spawn(async move {
            for _ in 0..NUM_SPAWN {
                let tx = tx.clone();
                drop(S::go(async move { tx.send(()).expect(RECEIVING) }));
            }
        }));
        for _ in 0..NUM_SPAWN {
            rx.recv().expect(SENT);
        }
    }
    let elapsed = begun.elapsed();
    drop(rt);
    elapsed
}

/// `spawn_many_remote_idle`: per round, [`NUM_SPAWN`] empty tasks spawned
/// from the calling thread, then every handle awaited.
fn spawn_many_remote_idle<S: Executor>(ops: u64) -> Duration {
    spawn_and_join::<S, _>(ops, NUM_SPAWN, || async {})
}

/// `ops` rounds of: `tasks` tasks made by `task`, spawned from the calling
/// thread, then every handle awaited; the time of all rounds.
fn spawn_and_join<S: Executor, F>(ops: u64, tasks: usize, task: impl Fn() -> F) -> Duration
where
    F: Future<Output = ()> + Send + 'static,
{
    spawn_and_join_on(S::start(), ops, tasks, task)
}

/// [`spawn_and_join`] on the runtime `rt`, which it shuts down at the end.
pub(crate) fn spawn_and_join_on<S: Executor, F>(
    rt: S,
    ops: u64,
    tasks: usize,
    task: impl Fn() -> F,
) -> Duration
where
    F: Future<Output = ()> + Send + 'static,
{
    let mut handles = Vec::with_capacity(tasks);
    let begun = Instant::now();
    for _ in 0..ops {
        for _ in 0..tasks {
            handles.push(rt.spawn(task()));
        }
        rt.block_on(async {
            for handle in handles.drain(..) {
                handle.await;
            }
        });
    }
    let elapsed = begun.elapsed();
    drop(rt);
    elapsed
}

/// `yield_many`: per round, [`YIELD_TASKS`] tasks that each yield
/// [`NUM_YIELD`] times, spawned from the calling thread, then awaited.
fn yield_many<S: Executor>(ops: u64) -> Duration {
    spawn_and_join::<S, _>(ops, YIELD_TASKS, || async {
        for _ in 0..NUM_YIELD {
            S::yield_now().await;
        }
    })
}

/// `ping_pong`: per round, one task spawns [`NUM_PINGS`] tasks; each
/// spawns a partner and exchanges one message each way with it; the last
/// to finish signals the calling thread.
fn ping_pong<S: Executor>(ops: u64) -> Duration {
    let rt = S::start();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let remaining = Arc::new(AtomicUsize::new(0));
    let begun = Instant::now();
    for _ in 0..ops {
        remaining.store(NUM_PINGS, Ordering::Relaxed);
        let (done_tx, remaining) = (done_tx.clone(), remaining.clone());
        drop(rt.spawn(async move {
            for _ in 0..NUM_PINGS {
                let (done_tx, remaining) = (done_tx.clone(), remaining.clone());
                drop(S::go(async move {
                    let (tx1, rx1) = S::once_channel();
                    let (tx2, rx2) = S::once_channel();
                    drop(S::go(async move {
                        S::recv_once(rx1).await;
                        S::send_once(tx2).await;
                    }));
                    S::send_once(tx1).await;
                    S::recv_once(rx2).await;
                    // AcqRel: the last pair sees every other pair's end.
                    if remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
                        done_tx.send(()).expect(RECEIVING);
                    }
                }));
            }
        }));
        done_rx.recv().expect(SENT);
    }
    let elapsed = begun.elapsed();
    drop(rt);
    elapsed
}

/// One link of `chained_spawn`: spawns the next, or signals at the end.
fn chain<S: Executor>(done: mpsc::Sender<()>, left: usize) {
    if left == 0 {
        done.send(()).expect(RECEIVING);
    } else {
        drop(S::go(async move { chain::<S>(done, left - 1) }));
    }
}

/// `chained_spawn`: per round, a chain of [`CHAIN`] tasks, each spawned by
/// the one before; the last signals the calling thread.
fn chained_spawn<S: Executor>(ops: u64) -> Duration {
    let rt = S::start();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let begun = Instant::now();
    for _ in 0..ops {
        let done = done_tx.clone();
        drop(rt.spawn(async move { chain::<S>(done, CHAIN - 1) }));
        done_rx.recv().expect(SENT);
    }
    let elapsed = begun.elapsed();
    drop(rt);
    elapsed
}

// ---------------------------------------------------------------------------
// Goroutine channels (spsc and mpsc: `crate::chan_workloads::async_many_to_one`)

/// `producers` tasks share one sender, `consumers` tasks share one
/// receiver (clones of it); `ops` messages in all
/// ([`crate::chan_workloads::async_fan`]).
fn async_many_to_many<S: Executor, T: AsyncTx, R: AsyncRx + Clone>(
    ops: u64,
    producers: u64,
    consumers: u64,
    (tx, rx): (T, R),
) -> Duration {
    let rxs = (0..consumers).map(|_| rx.clone()).collect();
    drop(rx);
    async_fan::<S, T, R>(ops, producers, tx, rxs)
}

/// Two tasks bounce a counter over `ping` and `pong`, `ops` round trips;
/// the clock runs from the first spawn to the last answer.
fn async_ping_pong<S: Executor, T: AsyncTx, R: AsyncRx>(
    ops: u64,
    (ping_tx, mut ping_rx): (T, R),
    (pong_tx, mut pong_rx): (T, R),
) -> Duration {
    let (elapsed, last) = S::start().block_on(async move {
        let begun = Instant::now();
        let echo = S::go(async move {
            for _ in 0..ops {
                let v = ping_rx.take_async().await;
                pong_tx.put_async(v + 1).await;
            }
        });
        let starter = S::go(async move {
            let mut v = 0;
            for _ in 0..ops {
                ping_tx.put_async(v).await;
                v = pong_rx.take_async().await;
            }
            v
        });
        let last = starter.await;
        let elapsed = begun.elapsed();
        echo.await;
        (elapsed, last)
    });
    assert_eq!(last, ops, "every round trip adds one");
    elapsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_has_one_entry_per_implementation() {
        let all = workloads();
        for (scenario, names) in crate::workload::assert_one_entry_per_implementation(&all) {
            assert!(names.contains(&"hoare"), "{} has no hoare", scenario.id());
        }
    }

    #[test]
    fn every_workload_completes_its_rounds() {
        // Each workload checks its own rounds; two rounds also prove that
        // a runtime is left clean for the next one.
        let go = crate::go::required_or_skip("every_workload_completes_its_rounds (Go entries)");
        for w in workloads()
            .into_iter()
            .filter(|w| go || !crate::go::is_go(w))
        {
            let rounds = if w.scenario.name.starts_with("async_") {
                100
            } else {
                2
            };
            (w.run)(rounds);
        }
    }
}
