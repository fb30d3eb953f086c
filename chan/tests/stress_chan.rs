//! Stress: several producers and consumers on every flavor (`bounded(0)`,
//! `bounded(1)`, `bounded(16)`, `unbounded`), mixing blocking, timed,
//! async (futures executor threads and a small tokio runtime, with
//! cancelled receives) and select-based (`select!`, `select_async!`,
//! `Select`) senders and receivers on one channel. Every value is received
//! exactly once and dropped exactly once, and every scenario finishes (a
//! watchdog turns a hang into a failure). ThreadSanitizer runs this file.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use futures::executor::block_on;
use hoare_chan::{
    Receiver, RecvTimeoutError, Select, SendTimeoutError, Sender, never, select, select_async,
};

mod util;
use util::{Counted, Drops, FLAVORS, Flavor, watchdog};

/// Values per producer: a few thousand messages per scenario natively
/// (about ten times slower under ThreadSanitizer), a handful under Miri.
const PER_PRODUCER: usize = if cfg!(miri) { 4 } else { 1_500 };

/// How long a timed operation waits before it retries. Miri's clock runs
/// far ahead of its slow execution, so a millisecond there is too short
/// for a partner to arrive at all.
const RETRY: Duration = Duration::from_millis(if cfg!(miri) { 50 } else { 1 });

/// How a producer sends.
#[derive(Clone, Copy, Debug)]
enum Producer {
    /// `send`.
    Blocking,
    /// `send_timeout` in a retry loop (withdrawn waits).
    Timed,
    /// `send_async` on a futures executor thread.
    Async,
    /// `send_async` in a tokio task.
    Tokio,
    /// A blocking `select!` with the send and a `never()` case.
    Select,
    /// `Select::select_timeout`, taking the value back with
    /// `take_unsent` and retrying when it times out.
    SelectDyn,
}

/// How a consumer receives.
#[derive(Clone, Copy, Debug)]
enum Consumer {
    /// `recv`.
    Blocking,
    /// `recv_timeout` in a retry loop (withdrawn waits).
    Timed,
    /// `recv_async` on a futures executor thread.
    Async,
    /// `recv_async` in a tokio task under `tokio::time::timeout`, so that
    /// many pending receives are cancelled.
    TokioCancelling,
    /// `select!` with a short `default(timeout)`.
    Select,
    /// `select_async!` with a short `default(timeout)` on an executor.
    SelectAsync,
    /// `Select` over the channel and a `never()` receiver.
    SelectDyn,
}

/// The bookkeeping shared by one scenario's consumers.
struct Ledger {
    seen: Vec<AtomicBool>,
    received: AtomicUsize,
}

impl Ledger {
    fn new(total: usize) -> Arc<Self> {
        Arc::new(Ledger {
            seen: (0..total).map(|_| AtomicBool::new(false)).collect(),
            received: AtomicUsize::new(0),
        })
    }

    /// Records a received value (panics on a second receipt) and drops it.
    fn take(&self, v: Counted) {
        assert!(
            !self.seen[v.id].swap(true, Ordering::SeqCst),
            "value {} received twice",
            v.id
        );
        self.received.fetch_add(1, Ordering::SeqCst);
    }

    fn missing(&self) -> Vec<usize> {
        (0..self.seen.len())
            .filter(|&i| !self.seen[i].load(Ordering::SeqCst))
            .collect()
    }
}

fn produce(
    kind: Producer,
    tx: Sender<Counted>,
    ids: std::ops::Range<usize>,
    drops: Drops,
    rt: &tokio::runtime::Handle,
) {
    match kind {
        Producer::Blocking => {
            for id in ids {
                tx.send(drops.make(id)).unwrap();
            }
        }
        Producer::Timed => {
            for id in ids {
                let mut v = drops.make(id);
                loop {
                    match tx.send_timeout(v, RETRY) {
                        Ok(()) => break,
                        Err(SendTimeoutError::Timeout(back)) => v = back,
                        Err(SendTimeoutError::Closed(_)) => panic!("closed while producing"),
                    }
                }
            }
        }
        Producer::Async => block_on(async {
            for id in ids {
                tx.send_async(drops.make(id)).await.unwrap();
            }
        }),
        Producer::Tokio => rt
            .block_on(rt.spawn(async move {
                for id in ids {
                    tx.send_async(drops.make(id)).await.unwrap();
                }
            }))
            .unwrap(),
        Producer::Select => {
            let off = never::<u8>();
            for id in ids {
                select! {
                    send(tx, drops.make(id)) -> r => r.unwrap(),
                    recv(off) -> _ => unreachable!("never() fired"),
                }
            }
        }
        Producer::SelectDyn => {
            for id in ids {
                let mut v = drops.make(id);
                loop {
                    let mut sel = Select::new();
                    let i = sel.send(&tx, v);
                    if let Some(oper) = sel.select_timeout(RETRY) {
                        assert_eq!(oper.index(), i);
                        oper.send(&tx).unwrap();
                        break;
                    }
                    v = sel
                        .take_unsent(i, &tx)
                        .expect("a case that did not fire keeps its value");
                }
            }
        }
    }
}

fn consume(kind: Consumer, rx: Receiver<Counted>, ledger: &Ledger, rt: &tokio::runtime::Handle) {
    match kind {
        Consumer::Blocking => {
            for v in rx.iter() {
                ledger.take(v);
            }
        }
        Consumer::Timed => loop {
            match rx.recv_timeout(RETRY) {
                Ok(v) => ledger.take(v),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Closed) => break,
            }
        },
        Consumer::Async => block_on(async {
            while let Ok(v) = rx.recv_async().await {
                ledger.take(v);
            }
        }),
        Consumer::TokioCancelling => {
            let got = rt
                .block_on(rt.spawn(async move {
                    let mut got = Vec::new();
                    loop {
                        match tokio::time::timeout(RETRY, rx.recv_async()).await {
                            Ok(Ok(v)) => got.push(v),
                            Ok(Err(_)) => return got,
                            Err(_elapsed) => {} // cancelled; nothing may be lost
                        }
                    }
                }))
                .unwrap();
            got.into_iter().for_each(|v| ledger.take(v));
        }
        Consumer::Select => loop {
            select! {
                recv(rx) -> v => match v {
                    Ok(v) => ledger.take(v),
                    Err(_) => break,
                },
                default(RETRY) => continue,
            }
        },
        Consumer::SelectAsync => block_on(async {
            loop {
                select_async! {
                    recv(rx) -> v => match v {
                        Ok(v) => ledger.take(v),
                        Err(_) => break,
                    },
                    default(RETRY) => continue,
                }
            }
        }),
        Consumer::SelectDyn => {
            let off = never::<Counted>();
            loop {
                let mut sel = Select::new();
                let r = sel.recv(&rx);
                sel.recv(&off);
                let oper = sel.select();
                assert_eq!(oper.index(), r, "never() fired");
                match oper.recv(&rx) {
                    Ok(v) => ledger.take(v),
                    Err(_) => break,
                }
            }
        }
    }
}

/// Runs one scenario under a watchdog and checks the exactly-once counts.
fn scenario(flavor: Flavor, producers: &[Producer], consumers: &[Consumer]) {
    let rt = util::tokio_rt();
    let handle = rt.handle().clone();
    let producers = producers.to_vec();
    let consumers = consumers.to_vec();
    let name = format!("{flavor:?} {producers:?} -> {consumers:?}");
    watchdog(&name.clone(), util::HANG, move || {
        let total = producers.len() * PER_PRODUCER;
        let drops = Drops::new();
        let ledger = Ledger::new(total);
        let (tx, rx) = flavor.make::<Counted>();
        thread::scope(|s| {
            for (p, &kind) in producers.iter().enumerate() {
                let (tx, drops, handle) = (tx.clone(), drops.clone(), handle.clone());
                let ids = p * PER_PRODUCER..(p + 1) * PER_PRODUCER;
                s.spawn(move || produce(kind, tx, ids, drops, &handle));
            }
            for &kind in &consumers {
                let (rx, ledger, handle) = (rx.clone(), &ledger, handle.clone());
                s.spawn(move || consume(kind, rx, ledger, &handle));
            }
            // The producers' clones close the channel when they finish.
            drop(tx);
            drop(rx);
        });
        let missing = ledger.missing();
        assert!(
            missing.is_empty(),
            "{name}: {} values never received, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        );
        assert_eq!(ledger.received.load(Ordering::SeqCst), total, "{name}");
        assert_eq!(
            drops.get(),
            total,
            "{name}: every value dropped exactly once"
        );
    });
    drop(rt);
}

/// Under Miri, which cannot run tokio, the tokio sides become their
/// futures-executor equivalents.
fn no_tokio_under_miri(p: &[Producer], c: &[Consumer]) -> (Vec<Producer>, Vec<Consumer>) {
    if !cfg!(miri) {
        return (p.to_vec(), c.to_vec());
    }
    let p = p
        .iter()
        .map(|&k| {
            if matches!(k, Producer::Tokio) {
                Producer::Async
            } else {
                k
            }
        })
        .collect();
    let c = c
        .iter()
        .map(|&k| {
            if matches!(k, Consumer::TokioCancelling) {
                Consumer::Async
            } else {
                k
            }
        })
        .collect();
    (p, c)
}

fn every_flavor(producers: &[Producer], consumers: &[Consumer]) {
    let (producers, consumers) = no_tokio_under_miri(producers, consumers);
    for flavor in FLAVORS {
        scenario(flavor, &producers, &consumers);
    }
}

#[test]
fn blocking_async_and_select_sides_deliver_and_drop_each_value_exactly_once() {
    every_flavor(
        &[
            Producer::Blocking,
            Producer::Async,
            Producer::Select,
            Producer::SelectDyn,
        ],
        &[Consumer::Blocking, Consumer::Async, Consumer::Select],
    );
}

#[test]
fn timed_and_cancelled_waits_lose_and_duplicate_nothing() {
    every_flavor(
        &[Producer::Timed, Producer::Tokio, Producer::SelectDyn],
        &[
            Consumer::Timed,
            Consumer::TokioCancelling,
            Consumer::SelectAsync,
            Consumer::SelectDyn,
        ],
    );
}

#[test]
fn one_of_every_kind_on_each_side_delivers_and_drops_each_value_exactly_once() {
    every_flavor(
        &[
            Producer::Blocking,
            Producer::Timed,
            Producer::Async,
            Producer::Tokio,
            Producer::Select,
            Producer::SelectDyn,
        ],
        &[
            Consumer::Blocking,
            Consumer::Timed,
            Consumer::Async,
            Consumer::TokioCancelling,
            Consumer::Select,
            Consumer::SelectAsync,
            Consumer::SelectDyn,
        ],
    );
}

#[test]
fn close_racing_sends_and_receives_accounts_for_every_value() {
    // Producers send until the channel is closed under them; a consumer
    // drains. Every attempted value is either received or handed back, and
    // dropped exactly once.
    let rounds = if cfg!(miri) { 1 } else { 10 };
    for flavor in FLAVORS {
        for round in 0..rounds {
            watchdog("close race", util::HANG, move || {
                let drops = Drops::new();
                let (tx, rx) = flavor.make::<Counted>();
                let attempted = AtomicUsize::new(0);
                let returned = AtomicUsize::new(0);
                let received = AtomicUsize::new(0);
                thread::scope(|s| {
                    for p in 0..3 {
                        let (tx, drops) = (tx.clone(), drops.clone());
                        let (attempted, returned) = (&attempted, &returned);
                        s.spawn(move || {
                            for i in 0.. {
                                attempted.fetch_add(1, Ordering::SeqCst);
                                let v = drops.make(p * 1_000_000 + i);
                                let r = if p == 0 {
                                    block_on(tx.send_async(v))
                                } else {
                                    tx.send(v)
                                };
                                if let Err(e) = r {
                                    drop(e.into_inner());
                                    returned.fetch_add(1, Ordering::SeqCst);
                                    break;
                                }
                            }
                        });
                    }
                    for c in 0..2 {
                        let (rx, received) = (rx.clone(), &received);
                        s.spawn(move || {
                            let n = if c == 0 {
                                rx.iter().count()
                            } else {
                                block_on(async {
                                    let mut n = 0;
                                    while rx.recv_async().await.is_ok() {
                                        n += 1;
                                    }
                                    n
                                })
                            };
                            received.fetch_add(n, Ordering::SeqCst);
                        });
                    }
                    thread::sleep(Duration::from_millis(if cfg!(miri) {
                        1
                    } else {
                        5 + round
                    }));
                    assert!(tx.close());
                });
                let attempted = attempted.load(Ordering::SeqCst);
                assert_eq!(
                    received.load(Ordering::SeqCst) + returned.load(Ordering::SeqCst),
                    attempted,
                    "{flavor:?}"
                );
                assert_eq!(
                    returned.load(Ordering::SeqCst),
                    3,
                    "{flavor:?}: one failed send per producer"
                );
                drop(rx);
                assert_eq!(drops.get(), attempted, "{flavor:?}");
            });
        }
    }
}
