//! Small multi-threaded scripts on `hoare_chan` channels: every value is
//! accounted for exactly once.
//!
//! Two or three threads share one or two channels (unbuffered, bounded or
//! unbounded) and each runs a few operations: sends and receives with a
//! timeout, `try_` operations, `close`, `select!` with `default(timeout)`,
//! a dynamic `Select` with `select_timeout`, and dropping its own handles.
//! Every wait has a timeout, so a script always ends.
//!
//! No interleaving is predicted; what is checked holds for all of them:
//!
//! * Every value is received at most once, and only if its send reported
//!   success; a value given back in an error (full, timed out, closed) or
//!   left in a select case that did not fire is never received.
//! * FIFO: the values one thread receives from one channel that came from
//!   one sender thread arrive in the order that thread sent them.
//! * A thread that saw its channel closed (its own `close`, a `Closed`
//!   error, `is_closed()`) sees it closed from then on: sends fail as
//!   closed, receives never report empty or time out, a select with a case
//!   on it never takes the default.
//! * `close` returns `true` at most once per channel, and exactly once when
//!   nothing else can have closed it.
//! * After the threads end, the values sent and not received are exactly
//!   what is left in the channel: still buffered (then `len` agrees and
//!   draining returns them in order) if a receiver is left, already dropped
//!   if the last receiver is gone, and none at all if unbuffered. Every
//!   other value has been dropped once; at the end, every value exactly
//!   once.
//!
//! A lost wake-up in the scripts above only turns a receive into a timeout,
//! which no check can tell from bad luck. So a second phase runs a balanced
//! exchange on a fresh channel: one or two sender threads send a few values
//! each and one or two receiver threads receive exactly as many in all,
//! each thread blocking plainly, through `select!` or through a dynamic
//! `Select`. Every operation must then complete; one still waiting after
//! [`LIVENESS`] is reported as a lost wake-up. The values are accounted
//! for as above, FIFO per sender included.

#![no_main]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use hoare_chan::{
    Receiver, RecvError, RecvTimeoutError, Select, SendError, SendTimeoutError, Sender,
    TryRecvError, TrySendError, bounded, select, unbounded,
};
use hoare_fuzz::{DropLog, Tracked};
use libfuzzer_sys::fuzz_target;

const MAX_OPS_PER_THREAD: usize = 6;
/// How long an operation of the balanced phase may wait before it counts
/// as a lost wake-up: far beyond any scheduling delay of a few threads.
const LIVENESS: Duration = Duration::from_secs(5);
const MAX_THREADS: usize = 3;
const MAX_SELECT_CASES: usize = 3;

#[derive(Arbitrary, Debug)]
struct Input {
    /// One channel, or two.
    two_channels: bool,
    channels: [ChanSpec; 2],
    /// 2 + `threads % 2` threads.
    threads: u8,
    balanced: Balanced,
    /// The scripts, interleaved: each step names its thread (modulo the
    /// number of threads); a thread runs its first few steps.
    steps: Vec<Step>,
}

/// The balanced phase.
#[derive(Arbitrary, Debug)]
struct Balanced {
    flavor: Flavor,
    /// 1 + `senders % 2` sender threads.
    senders: u8,
    /// 1 + `receivers % 2` receiver threads.
    receivers: u8,
    /// 1 + `per_sender % 4` values per sender.
    per_sender: u8,
    /// Per thread (senders first), two bits: plain, `select!`, dynamic
    /// `Select` (and plain again).
    styles: u8,
}

/// One operation of one thread's script.
///
/// Decoded by hand, two or three bytes a step rather than the derive's
/// four-byte tags, so that libFuzzer's short early inputs already hold
/// whole scripts: the first byte is the kind (low nibble), the channel
/// arguments (bits 4 and 5) and the thread (bits 6 and 7); a `Wait` or a
/// select's cases follow.
#[derive(Debug, Clone, Copy)]
struct Step {
    thread: u8,
    op: Op,
}

impl<'a> Arbitrary<'a> for Step {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let b: u8 = u.arbitrary()?;
        let (a, c) = ((b >> 4) & 1, (b >> 5) & 1);
        let op = match (b & 0x0f) % 10 {
            0 => Op::Send(a, Wait(u.arbitrary()?)),
            1 => Op::TrySend(a),
            2 => Op::RecvTimeout(a, Wait(u.arbitrary()?)),
            3 => Op::TryRecv(a),
            4 => Op::Close(a),
            5 => Op::Check(a),
            6 if c == 0 => Op::DropSender(a),
            6 => Op::DropReceiver(a),
            7 => Op::SelectMacro {
                recv: a,
                send: c,
                wait: Wait(u.arbitrary()?),
            },
            8 | 9 => {
                // Bits 0-1: how many cases; then per case a send bit and a
                // channel bit.
                let k: u8 = u.arbitrary()?;
                let mut cases = [None; MAX_SELECT_CASES];
                for (i, case) in cases.iter_mut().enumerate().take(usize::from(1 + k % 3)) {
                    let bits = k >> (2 + 2 * i);
                    *case = Some(if bits & 1 == 0 {
                        Case::Recv((bits >> 1) & 1)
                    } else {
                        Case::Send((bits >> 1) & 1)
                    });
                }
                Op::Select {
                    cases,
                    wait: Wait(u.arbitrary()?),
                }
            }
            _ => unreachable!("reduced modulo 10"),
        };
        Ok(Step { thread: b >> 6, op })
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct ChanSpec {
    flavor: Flavor,
    /// The main thread holds a sender until the end: the channel closes
    /// only by `close`, or when its receivers are all gone.
    main_sender: bool,
    /// The main thread holds a receiver until the end, and checks and
    /// drains what is left.
    main_receiver: bool,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Flavor {
    Unbuffered,
    /// `bounded(1 + raw % 3)`.
    Bounded(u8),
    Unbounded,
}

/// A timeout: 0, 50 µs, 1 ms, 10 ms or 50 ms.
#[derive(Debug, Clone, Copy)]
struct Wait(u8);

impl Wait {
    fn duration(self) -> Duration {
        Duration::from_micros([0, 50, 1_000, 10_000, 50_000][usize::from(self.0 % 5)])
    }
}

/// Channel arguments are reduced modulo the number of channels. An
/// operation on a handle the thread has dropped is skipped.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// `send_timeout`; a plain blocking `send` on an unbounded channel.
    Send(u8, Wait),
    TrySend(u8),
    RecvTimeout(u8, Wait),
    TryRecv(u8),
    Close(u8),
    /// `is_closed`, and `len` within the capacity.
    Check(u8),
    DropSender(u8),
    DropReceiver(u8),
    /// `select! { recv(a), send(b, v), default(wait) }`.
    SelectMacro {
        recv: u8,
        send: u8,
        wait: Wait,
    },
    /// A dynamic `Select` over up to three cases, `select_timeout(wait)`.
    Select {
        cases: [Option<Case>; MAX_SELECT_CASES],
        wait: Wait,
    },
}

#[derive(Debug, Clone, Copy)]
enum Case {
    Recv(u8),
    Send(u8),
}

/// The fired arm of a `select!`.
enum Fired {
    Recv(Result<Tracked, RecvError>),
    Send(Result<(), SendError<Tracked>>),
    Timeout,
}

/// What one thread saw.
#[derive(Debug, Default)]
struct Record {
    /// Values whose send succeeded: (channel, id), in order.
    sent: Vec<(usize, u64)>,
    /// Values that came back (or stayed in an unfired case).
    unsent: Vec<u64>,
    /// Values received: (channel, id), in order.
    received: Vec<(usize, u64)>,
    /// `close()` results: (channel, returned).
    closes: Vec<(usize, bool)>,
}

/// One thread's view while it runs.
struct Worker {
    index: u64,
    log: Arc<DropLog>,
    senders: Vec<Option<Sender<Tracked>>>,
    receivers: Vec<Option<Receiver<Tracked>>>,
    caps: Vec<Option<usize>>,
    /// Channels this thread has seen closed.
    known_closed: Vec<bool>,
    next: u64,
    record: Record,
}

impl Worker {
    fn value(&mut self) -> Tracked {
        self.next += 1;
        self.log.value(self.index << 32 | self.next)
    }

    /// Records a send's outcome: `Ok`, or the value given back and whether
    /// the channel was reported closed.
    fn sent(&mut self, ch: usize, id: u64, outcome: Result<(), (Option<Tracked>, bool)>) {
        match outcome {
            Ok(()) => {
                assert!(
                    !self.known_closed[ch],
                    "thread {}: a send on channel {ch} succeeded after it was seen closed",
                    self.index
                );
                self.record.sent.push((ch, id));
            }
            Err((back, closed)) => {
                if let Some(v) = back {
                    assert_eq!(v.id(), id, "a different value came back");
                }
                assert!(
                    closed || !self.known_closed[ch],
                    "thread {}: a send on channel {ch} was refused as full/timed out after it was seen closed",
                    self.index
                );
                self.known_closed[ch] |= closed;
                self.record.unsent.push(id);
            }
        }
    }

    /// Records a receive's outcome: `Some(Ok)` a value, `Some(Err)` closed,
    /// `None` nothing (empty, timed out).
    fn received(&mut self, ch: usize, outcome: Option<Result<Tracked, ()>>) {
        match outcome {
            Some(Ok(v)) => self.record.received.push((ch, v.id())),
            Some(Err(())) => self.known_closed[ch] = true,
            None => assert!(
                !self.known_closed[ch],
                "thread {}: a receive on channel {ch} found nothing after it was seen closed",
                self.index
            ),
        }
    }

    fn run(&mut self, op: Op) {
        let n = self.senders.len();
        let chan = |raw: u8| usize::from(raw) % n;
        match op {
            Op::Send(raw, wait) => {
                let ch = chan(raw);
                if self.senders[ch].is_none() {
                    return;
                }
                let value = self.value();
                let id = value.id();
                let tx = self.senders[ch].as_ref().expect("checked");
                let outcome = if self.caps[ch].is_none() {
                    tx.send(value).map_err(|SendError(v)| (Some(v), true))
                } else {
                    tx.send_timeout(value, wait.duration())
                        .map_err(|e| match e {
                            SendTimeoutError::Timeout(v) => (Some(v), false),
                            SendTimeoutError::Closed(v) => (Some(v), true),
                        })
                };
                self.sent(ch, id, outcome);
            }
            Op::TrySend(raw) => {
                let ch = chan(raw);
                if self.senders[ch].is_none() {
                    return;
                }
                let value = self.value();
                let id = value.id();
                let tx = self.senders[ch].as_ref().expect("checked");
                let outcome = tx.try_send(value).map_err(|e| match e {
                    TrySendError::Full(v) => (Some(v), false),
                    TrySendError::Closed(v) => (Some(v), true),
                });
                self.sent(ch, id, outcome);
            }
            Op::RecvTimeout(raw, wait) => {
                let ch = chan(raw);
                let Some(rx) = &self.receivers[ch] else {
                    return;
                };
                let outcome = match rx.recv_timeout(wait.duration()) {
                    Ok(v) => Some(Ok(v)),
                    Err(RecvTimeoutError::Closed) => Some(Err(())),
                    Err(RecvTimeoutError::Timeout) => None,
                };
                self.received(ch, outcome);
            }
            Op::TryRecv(raw) => {
                let ch = chan(raw);
                let Some(rx) = &self.receivers[ch] else {
                    return;
                };
                let outcome = match rx.try_recv() {
                    Ok(v) => Some(Ok(v)),
                    Err(TryRecvError::Closed) => Some(Err(())),
                    Err(TryRecvError::Empty) => None,
                };
                self.received(ch, outcome);
            }
            Op::Close(raw) => {
                let ch = chan(raw);
                let Some(tx) = &self.senders[ch] else { return };
                let first = tx.close();
                assert!(
                    !(first && self.known_closed[ch]),
                    "thread {}: close() on channel {ch} returned true after it was seen closed",
                    self.index
                );
                self.known_closed[ch] = true;
                self.record.closes.push((ch, first));
            }
            Op::Check(raw) => {
                let ch = chan(raw);
                let was_closed = self.known_closed[ch];
                let (closed, len) = match (&self.senders[ch], &self.receivers[ch]) {
                    (Some(tx), _) => (tx.is_closed(), tx.len()),
                    (None, Some(rx)) => (rx.is_closed(), rx.len()),
                    (None, None) => return,
                };
                assert!(
                    closed || !was_closed,
                    "thread {}: channel {ch} reopened",
                    self.index
                );
                self.known_closed[ch] = closed;
                if let Some(cap) = self.caps[ch] {
                    assert!(len <= cap, "len {len} beyond the capacity {cap}");
                }
            }
            Op::DropSender(raw) => drop(self.senders[chan(raw)].take()),
            Op::DropReceiver(raw) => drop(self.receivers[chan(raw)].take()),
            Op::SelectMacro { recv, send, wait } => {
                let (rc, sc) = (chan(recv), chan(send));
                if self.receivers[rc].is_none() || self.senders[sc].is_none() {
                    return;
                }
                let value = self.value();
                let id = value.id();
                let must_fire = self.known_closed[rc] || self.known_closed[sc];
                let rx = self.receivers[rc].as_ref().expect("checked");
                let tx = self.senders[sc].as_ref().expect("checked");
                let fired = select! {
                    recv(rx) -> v => Fired::Recv(v),
                    send(tx, value) -> r => Fired::Send(r),
                    default(wait.duration()) => Fired::Timeout,
                };
                match fired {
                    Fired::Recv(r) => {
                        assert_eq!(
                            self.log.drops(id),
                            1,
                            "select!: the unsent value was not dropped"
                        );
                        self.received(rc, Some(r.map_err(|RecvError| ())));
                        self.record.unsent.push(id);
                    }
                    Fired::Send(r) => self.sent(sc, id, r.map_err(|SendError(v)| (Some(v), true))),
                    Fired::Timeout => {
                        assert!(
                            !must_fire,
                            "thread {}: select! timed out with a case on a channel seen closed",
                            self.index
                        );
                        assert_eq!(
                            self.log.drops(id),
                            1,
                            "select!: the unsent value was not dropped"
                        );
                        self.record.unsent.push(id);
                    }
                }
            }
            Op::Select { cases, wait } => self.select(cases, wait),
        }
    }

    fn select(&mut self, cases: [Option<Case>; MAX_SELECT_CASES], wait: Wait) {
        let n = self.senders.len();
        // (is a send, channel, id of the value sent)
        let mut plan: Vec<(bool, usize, u64)> = Vec::new();
        let mut values: Vec<Option<Tracked>> = Vec::new();
        for case in cases.into_iter().flatten() {
            match case {
                Case::Recv(raw) if self.receivers[usize::from(raw) % n].is_some() => {
                    plan.push((false, usize::from(raw) % n, 0));
                    values.push(None);
                }
                Case::Send(raw) if self.senders[usize::from(raw) % n].is_some() => {
                    let v = self.value();
                    plan.push((true, usize::from(raw) % n, v.id()));
                    values.push(Some(v));
                }
                _ => {}
            }
        }
        let must_fire = plan.iter().any(|&(_, ch, _)| self.known_closed[ch]);
        let senders = &self.senders;
        let receivers = &self.receivers;
        let mut sel = Select::new();
        for (&(is_send, ch, _), value) in plan.iter().zip(&mut values) {
            if is_send {
                let tx = senders[ch].as_ref().expect("checked");
                sel.send(tx, value.take().expect("a send case's value"));
            } else {
                sel.recv(receivers[ch].as_ref().expect("checked"));
            }
        }
        let mut outcome = None;
        let fired = sel.select_timeout(wait.duration()).map(|oper| {
            let i = oper.index();
            let (is_send, ch, _) = plan[i];
            outcome = Some(if is_send {
                Err(oper
                    .send(senders[ch].as_ref().expect("checked"))
                    .map_err(|SendError(v)| v))
            } else {
                Ok(oper
                    .recv(receivers[ch].as_ref().expect("checked"))
                    .map_err(|RecvError| ()))
            });
            i
        });
        let mut unsent = Vec::new();
        for (j, &(is_send, ch, id)) in plan.iter().enumerate() {
            if is_send {
                let back = sel.take_unsent(j, senders[ch].as_ref().expect("checked"));
                if fired == Some(j) {
                    assert!(back.is_none(), "the fired send case kept its value");
                } else {
                    let v = back.expect("an unfired send case gives its value back");
                    assert_eq!(v.id(), id, "a send case gave back another value");
                    unsent.push(id);
                }
            }
        }
        drop(sel);
        self.record.unsent.extend(unsent);
        let Some(i) = fired else {
            assert!(
                !must_fire,
                "thread {}: a select timed out with a case on a channel seen closed",
                self.index
            );
            return;
        };
        let (_, ch, id) = plan[i];
        match outcome.expect("set with `fired`") {
            Ok(r) => self.received(ch, Some(r)),
            Err(Ok(())) => self.sent(ch, id, Ok(())),
            Err(Err(v)) => self.sent(ch, id, Err((Some(v), true))),
        }
    }
}

/// A channel of `flavor` and its capacity.
fn channel(flavor: Flavor) -> ((Sender<Tracked>, Receiver<Tracked>), Option<usize>) {
    match flavor {
        Flavor::Unbuffered => (bounded(0), Some(0)),
        Flavor::Bounded(raw) => {
            let cap = 1 + usize::from(raw % 3);
            (bounded(cap), Some(cap))
        }
        Flavor::Unbounded => (unbounded(), None),
    }
}

fuzz_target!(|input: Input| {
    let log = DropLog::new();
    let n = if input.two_channels { 2 } else { 1 };
    let specs = &input.channels[..n];
    let mut senders = Vec::new();
    let mut receivers = Vec::new();
    let mut caps = Vec::new();
    for spec in specs {
        let ((tx, rx), cap) = channel(spec.flavor);
        senders.push(tx);
        receivers.push(rx);
        caps.push(cap);
    }

    let threads = 2 + usize::from(input.threads % 2);
    let barrier = Arc::new(Barrier::new(threads));
    let mut workers = Vec::new();
    let mut scripts: [Vec<Op>; MAX_THREADS] = Default::default();
    for step in &input.steps {
        let script = &mut scripts[usize::from(step.thread) % threads];
        if script.len() < MAX_OPS_PER_THREAD {
            script.push(step.op);
        }
    }
    for (t, script) in scripts.into_iter().take(threads).enumerate() {
        let mut worker = Worker {
            index: t as u64,
            log: log.clone(),
            senders: senders.iter().map(|tx| Some(tx.clone())).collect(),
            receivers: receivers.iter().map(|rx| Some(rx.clone())).collect(),
            caps: caps.clone(),
            known_closed: vec![false; n],
            next: 0,
            record: Record::default(),
        };
        let barrier = barrier.clone();
        workers.push(thread::spawn(move || {
            barrier.wait();
            for op in script {
                worker.run(op);
            }
            // The worker's handles drop here, before the record goes back.
            worker.record
        }));
    }
    // The main thread keeps only the handles its spec says.
    let main_tx: Vec<Option<Sender<Tracked>>> = senders
        .into_iter()
        .zip(specs)
        .map(|(tx, spec)| spec.main_sender.then_some(tx))
        .collect();
    let main_rx: Vec<Option<Receiver<Tracked>>> = receivers
        .into_iter()
        .zip(specs)
        .map(|(rx, spec)| spec.main_receiver.then_some(rx))
        .collect();
    let records: Vec<Record> = workers
        .into_iter()
        .map(|w| w.join().expect("a script thread panicked"))
        .collect();

    // Every received value was sent successfully, on that channel, once.
    let sent: BTreeMap<u64, usize> = records
        .iter()
        .flat_map(|r| r.sent.iter().map(|&(ch, id)| (id, ch)))
        .collect();
    let unsent: BTreeSet<u64> = records.iter().flat_map(|r| &r.unsent).copied().collect();
    let mut received = BTreeSet::new();
    for r in &records {
        for &(ch, id) in &r.received {
            assert!(received.insert(id), "value {id} received twice");
            assert!(
                !unsent.contains(&id),
                "value {id} received, though its send failed"
            );
            assert_eq!(
                sent.get(&id),
                Some(&ch),
                "value {id} received on channel {ch} without a successful send there"
            );
        }
        check_fifo(&r.received);
    }

    // Closing: true at most once, exactly once when only `close` could
    // have closed the channel.
    for (ch, spec) in specs.iter().enumerate() {
        let results: Vec<bool> = records
            .iter()
            .flat_map(|r| &r.closes)
            .filter(|&&(c, _)| c == ch)
            .map(|&(_, first)| first)
            .collect();
        let trues = results.iter().filter(|&&b| b).count();
        assert!(
            trues <= 1,
            "close() on channel {ch} returned true {trues} times"
        );
        if !results.is_empty() && spec.main_sender && spec.main_receiver {
            assert_eq!(trues, 1, "close() on channel {ch} never returned true");
        }
    }

    // What was sent and not received is in the channel, or dropped with it.
    let mut drained = Vec::new();
    for (ch, spec) in specs.iter().enumerate() {
        let in_flight: Vec<u64> = sent
            .iter()
            .filter(|&(id, &c)| c == ch && !received.contains(id))
            .map(|(&id, _)| id)
            .collect();
        if caps[ch] == Some(0) {
            assert_eq!(
                in_flight,
                Vec::<u64>::new(),
                "unbuffered channel {ch}: sent but never received"
            );
        }
        match &main_rx[ch] {
            Some(rx) => {
                for &id in &in_flight {
                    assert_eq!(log.drops(id), 0, "value {id} dropped while buffered");
                }
                if caps[ch] != Some(0) {
                    assert_eq!(
                        rx.len(),
                        in_flight.len(),
                        "len of channel {ch} after the threads"
                    );
                }
                let closed = rx.is_closed();
                loop {
                    match rx.try_recv() {
                        Ok(v) => drained.push((ch, v.id())),
                        Err(e) => {
                            assert_eq!(
                                e,
                                if closed {
                                    TryRecvError::Closed
                                } else {
                                    TryRecvError::Empty
                                },
                                "the drain of channel {ch} ended unexpectedly"
                            );
                            break;
                        }
                    }
                }
                let got: BTreeSet<u64> = drained
                    .iter()
                    .filter(|&&(c, _)| c == ch)
                    .map(|&(_, id)| id)
                    .collect();
                assert_eq!(
                    got,
                    in_flight.iter().copied().collect(),
                    "the drain of channel {ch} is not what was sent and not received"
                );
                if !spec.main_sender && !closed {
                    panic!("channel {ch}: every sender is gone, yet it is open");
                }
            }
            None => {
                for &id in &in_flight {
                    assert_eq!(
                        log.drops(id),
                        1,
                        "value {id} not dropped when the last receiver of channel {ch} went"
                    );
                }
                if let Some(tx) = &main_tx[ch] {
                    assert!(
                        tx.is_closed(),
                        "channel {ch}: every receiver is gone, yet it is open"
                    );
                }
            }
        }
    }
    check_fifo(&drained);
    for id in received
        .iter()
        .chain(&unsent)
        .chain(drained.iter().map(|(_, id)| id))
    {
        assert_eq!(
            log.drops(*id),
            1,
            "value {id} received or unsent, but not dropped once"
        );
    }

    drop(main_tx);
    drop(main_rx);
    balanced(&log, &input.balanced);
    assert_eq!(log.undropped(), Vec::<u64>::new(), "values never dropped");
    assert_eq!(
        log.total_drops(),
        log.made(),
        "values dropped more than once"
    );
});

/// One receiver's values, per channel and sender thread, arrive in the
/// order they were sent (ids grow per sender thread).
fn check_fifo(received: &[(usize, u64)]) {
    let mut last: BTreeMap<(usize, u64), u64> = BTreeMap::new();
    for &(ch, id) in received {
        let sender = id >> 32;
        if let Some(prev) = last.insert((ch, sender), id) {
            assert!(
                prev < id,
                "channel {ch}: value {id} of thread {sender} received after its later value {prev}"
            );
        }
    }
}

/// The balanced phase: every operation completes, or a wake-up was lost.
fn balanced(log: &Arc<DropLog>, spec: &Balanced) {
    let ((tx, rx), _) = channel(spec.flavor);
    let senders = 1 + usize::from(spec.senders % 2);
    let receivers = 1 + usize::from(spec.receivers % 2);
    let per_sender = 1 + u64::from(spec.per_sender % 4);
    let total = senders as u64 * per_sender;
    let style = |thread: usize| (spec.styles >> (2 * thread)) & 3;
    let barrier = Arc::new(Barrier::new(senders + receivers));
    let mut threads = Vec::new();
    for s in 0..senders {
        let (tx, log, barrier, style) = (tx.clone(), log.clone(), barrier.clone(), style(s));
        threads.push(thread::spawn(move || {
            barrier.wait();
            for k in 1..=per_sender {
                let value = log.value((8 + s as u64) << 32 | k);
                let sent = match style {
                    1 => select! {
                        send(tx, value) -> r => Some(r),
                        default(LIVENESS) => None,
                    },
                    2 => {
                        let mut sel = Select::new();
                        sel.send(&tx, value);
                        sel.select_timeout(LIVENESS).map(|oper| oper.send(&tx))
                    }
                    _ => match tx.send_timeout(value, LIVENESS) {
                        Ok(()) => Some(Ok(())),
                        Err(SendTimeoutError::Timeout(_)) => None,
                        Err(SendTimeoutError::Closed(v)) => Some(Err(SendError(v))),
                    },
                };
                match sent {
                    Some(Ok(())) => {}
                    Some(Err(_)) => panic!("balanced phase: sender {s} found the channel closed"),
                    None => panic!(
                        "balanced phase: lost wake-up? sender {s} (style {style}) waited {LIVENESS:?} \
                         to send value {k} of {per_sender}; len {}",
                        tx.len()
                    ),
                }
            }
            Vec::new()
        }));
    }
    for r in 0..receivers {
        let (rx, barrier, style) = (rx.clone(), barrier.clone(), style(senders + r));
        let quota = total / receivers as u64 + u64::from((r as u64) < total % receivers as u64);
        threads.push(thread::spawn(move || {
            barrier.wait();
            let mut got = Vec::new();
            for k in 0..quota {
                let value = match style {
                    1 => select! {
                        recv(rx) -> v => Some(v),
                        default(LIVENESS) => None,
                    },
                    2 => {
                        let mut sel = Select::new();
                        sel.recv(&rx);
                        sel.select_timeout(LIVENESS).map(|oper| oper.recv(&rx))
                    }
                    _ => match rx.recv_timeout(LIVENESS) {
                        Ok(v) => Some(Ok(v)),
                        Err(RecvTimeoutError::Timeout) => None,
                        Err(RecvTimeoutError::Closed) => Some(Err(RecvError)),
                    },
                };
                match value {
                    Some(Ok(v)) => got.push((0, v.id())),
                    Some(Err(RecvError)) => {
                        panic!("balanced phase: receiver {r} found the channel closed")
                    }
                    None => panic!(
                        "balanced phase: lost wake-up? receiver {r} (style {style}) waited \
                         {LIVENESS:?} for its value {k} of {quota}; len {}",
                        rx.len()
                    ),
                }
            }
            got
        }));
    }
    let mut received = BTreeSet::new();
    for t in threads {
        let got = t.join().expect("a balanced-phase thread panicked");
        check_fifo(&got);
        for (_, id) in got {
            assert!(
                received.insert(id),
                "balanced phase: value {id} received twice"
            );
        }
    }
    let expected: BTreeSet<u64> = (0..senders as u64)
        .flat_map(|s| (1..=per_sender).map(move |k| (8 + s) << 32 | k))
        .collect();
    assert_eq!(received, expected, "balanced phase: the values received");
    assert!(rx.is_empty(), "balanced phase: values left over");
    drop((tx, rx));
    assert_eq!(
        log.undropped(),
        Vec::<u64>::new(),
        "balanced phase: values never dropped"
    );
}
