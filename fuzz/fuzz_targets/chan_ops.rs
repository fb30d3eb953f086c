//! `hoare_chan` channels of every flavor against a sequential model, on one
//! thread.
//!
//! The model of a channel is its contract, written the simplest way: a FIFO
//! of value ids, a capacity (`Some(0)` unbuffered, `None` unbounded) and a
//! `closed` flag.
//!
//! * A send completes at once iff the channel is open and has room; on a
//!   closed channel it fails and gives the value back. An unbuffered channel
//!   never has room here: with one thread nobody is blocked receiving, so
//!   every `try_send` is `Full` (the documented decision: it succeeds only
//!   when a receiver is blocked in a thread) and a send with a timeout
//!   times out.
//! * A receive takes the oldest value; with none, it fails with `Closed` if
//!   the channel is closed and `Empty` (or times out) otherwise.
//! * `close` returns whether the channel was open. Dropping the last sender
//!   closes the channel; dropping the last receiver closes it and drops the
//!   buffered values, each exactly once, at that moment.
//! * A select (the dynamic `Select` without blocking or with a short
//!   timeout, the `select!` macro with `default`) fires a case the model
//!   says is ready, and only when one is; the cases that do not fire
//!   consume nothing, and their values come back (`Select::take_unsent`)
//!   or are dropped with the select (`select!`). A case on `never()` never
//!   fires; a select may name a channel in several cases, sending and
//!   receiving (an unbuffered channel must not pair a select with itself).
//! * An async send or receive polled once is ready iff the model says so;
//!   dropped while pending, it consumed nothing.
//!
//! Every value is a `Tracked` payload with a unique id. After every
//! operation the values not yet dropped are exactly those in the model's
//! buffers; values received or given back in an error are checked against
//! the model and dropped at once. At the end, with every handle dropped,
//! every value has been dropped exactly once.

#![no_main]

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use arbitrary::Arbitrary;
use hoare_chan::{
    Receiver, RecvError, RecvTimeoutError, Select, SendError, SendTimeoutError, Sender,
    TryRecvError, TrySendError, bounded, never, select, unbounded,
};
use hoare_fuzz::{DropLog, Tracked, WakeCounter};
use libfuzzer_sys::fuzz_target;

const MAX_OPS: usize = 400;
/// Handles of each side per channel (clones), at most.
const MAX_HANDLES: usize = 3;
/// Cases in one dynamic select, at most.
const MAX_CASES: usize = 6;

#[derive(Arbitrary, Debug)]
struct Input {
    /// 2 + `channels % 3` channels, with the first flavors of `flavors`.
    channels: u8,
    flavors: [Flavor; 4],
    ops: Vec<Op>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Flavor {
    Unbuffered,
    /// `bounded(1 + raw % 4)`.
    Bounded(u8),
    Unbounded,
}

/// A channel (reduced modulo the number of channels) and one of its
/// handles (reduced modulo the live handles of the side the op needs).
#[derive(Arbitrary, Debug, Clone, Copy)]
struct On {
    ch: u8,
    handle: u8,
}

/// The timeout of an operation that would block: 0, 1, 10 or 100 µs.
#[derive(Arbitrary, Debug, Clone, Copy)]
struct Wait(u8);

impl Wait {
    fn duration(self) -> Duration {
        Duration::from_micros([0, 1, 10, 100][usize::from(self.0 % 4)])
    }
}

#[derive(Arbitrary, Debug)]
enum Op {
    TrySend(On),
    /// A blocking `send` when the model says it completes at once,
    /// otherwise `send_timeout`.
    Send(On, Wait),
    TryRecv(On),
    /// A blocking `recv` when the model says it completes at once,
    /// otherwise `recv_timeout`.
    Recv(On, Wait),
    Close(On),
    /// `len`, `is_closed`, `is_empty`, `is_full`, `capacity` of every handle.
    Check(u8),
    CloneSender(On),
    CloneReceiver(On),
    DropSender(On),
    DropReceiver(On),
    /// `try_iter` to the end.
    Drain(On),
    /// A dynamic `Select`: `try_select`, or `select_timeout(wait)`.
    Select {
        cases: Vec<CaseSpec>,
        wait: Option<Wait>,
    },
    /// `select! { recv, send, default }` (or `default(wait)`).
    SelectMacro {
        recv: On,
        send: On,
        wait: Option<Wait>,
    },
    /// `recv_async` polled once, then dropped.
    RecvAsync(On),
    /// `send_async` polled once, then dropped.
    SendAsync(On),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum CaseSpec {
    Recv(On),
    Send(On),
    Never,
}

struct Model {
    cap: Option<usize>,
    buf: VecDeque<u64>,
    closed: bool,
}

impl Model {
    /// A send would complete now (a closed channel completes it with an
    /// error, as Go's select treats it as ready).
    fn send_ready(&self) -> bool {
        self.closed || self.cap.is_none_or(|cap| self.buf.len() < cap)
    }

    /// A receive would complete now.
    fn recv_ready(&self) -> bool {
        self.closed || !self.buf.is_empty()
    }
}

/// What a send did, as the real channel reported it.
enum Sent {
    Done,
    /// Full, timed out, or pending: the value is given back (`Some`) or was
    /// dropped with the operation (`None`).
    Refused(Option<Tracked>),
    Closed(Tracked),
}

impl From<Result<(), TrySendError<Tracked>>> for Sent {
    fn from(r: Result<(), TrySendError<Tracked>>) -> Self {
        match r {
            Ok(()) => Sent::Done,
            Err(TrySendError::Full(v)) => Sent::Refused(Some(v)),
            Err(TrySendError::Closed(v)) => Sent::Closed(v),
        }
    }
}

impl From<Result<(), SendTimeoutError<Tracked>>> for Sent {
    fn from(r: Result<(), SendTimeoutError<Tracked>>) -> Self {
        match r {
            Ok(()) => Sent::Done,
            Err(SendTimeoutError::Timeout(v)) => Sent::Refused(Some(v)),
            Err(SendTimeoutError::Closed(v)) => Sent::Closed(v),
        }
    }
}

impl From<Result<(), SendError<Tracked>>> for Sent {
    fn from(r: Result<(), SendError<Tracked>>) -> Self {
        match r {
            Ok(()) => Sent::Done,
            Err(SendError(v)) => Sent::Closed(v),
        }
    }
}

/// What a receive did.
enum Received {
    Value(Tracked),
    /// Empty, timed out, or pending.
    Nothing,
    Closed,
}

impl From<Result<Tracked, TryRecvError>> for Received {
    fn from(r: Result<Tracked, TryRecvError>) -> Self {
        match r {
            Ok(v) => Received::Value(v),
            Err(TryRecvError::Empty) => Received::Nothing,
            Err(TryRecvError::Closed) => Received::Closed,
        }
    }
}

impl From<Result<Tracked, RecvTimeoutError>> for Received {
    fn from(r: Result<Tracked, RecvTimeoutError>) -> Self {
        match r {
            Ok(v) => Received::Value(v),
            Err(RecvTimeoutError::Timeout) => Received::Nothing,
            Err(RecvTimeoutError::Closed) => Received::Closed,
        }
    }
}

impl From<Result<Tracked, RecvError>> for Received {
    fn from(r: Result<Tracked, RecvError>) -> Self {
        match r {
            Ok(v) => Received::Value(v),
            Err(RecvError) => Received::Closed,
        }
    }
}

/// Checks a send of value `id` against the model and applies it.
fn sent(model: &mut Model, log: &DropLog, id: u64, outcome: Sent, what: &str) {
    let state = format!(
        "{what} of {id}: model buf {:?}, cap {:?}, closed {}",
        model.buf, model.cap, model.closed
    );
    match outcome {
        Sent::Done => {
            assert!(
                !model.closed && model.send_ready(),
                "{state}: the send completed"
            );
            model.buf.push_back(id);
        }
        Sent::Closed(v) => {
            assert!(model.closed, "{state}: the send failed as closed");
            assert_eq!(v.id(), id, "{state}: a different value came back");
        }
        Sent::Refused(v) => {
            assert!(!model.send_ready(), "{state}: the send did not complete");
            match v {
                Some(v) => assert_eq!(v.id(), id, "{state}: a different value came back"),
                None => assert_eq!(
                    log.drops(id),
                    1,
                    "{state}: the unsent value was not dropped"
                ),
            }
        }
    }
}

/// Checks a receive against the model and applies it.
fn received(model: &mut Model, outcome: Received, what: &str) {
    let state = format!(
        "{what}: model buf {:?}, cap {:?}, closed {}",
        model.buf, model.cap, model.closed
    );
    match outcome {
        Received::Value(v) => {
            let expected = model.buf.pop_front();
            assert_eq!(Some(v.id()), expected, "{state}: received {v:?}");
        }
        Received::Closed => assert!(
            model.closed && model.buf.is_empty(),
            "{state}: the receive failed as closed"
        ),
        Received::Nothing => assert!(!model.recv_ready(), "{state}: nothing received"),
    }
}

struct Handles {
    senders: Vec<Sender<Tracked>>,
    receivers: Vec<Receiver<Tracked>>,
}

impl Handles {
    fn sender(&self, raw: u8) -> Option<usize> {
        pick(self.senders.len(), raw)
    }

    fn receiver(&self, raw: u8) -> Option<usize> {
        pick(self.receivers.len(), raw)
    }
}

fn pick(len: usize, raw: u8) -> Option<usize> {
    (len > 0).then(|| usize::from(raw) % len)
}

/// A dynamic select's case, as planned.
#[derive(Clone, Copy, Debug)]
enum Planned {
    Recv { ch: usize, h: usize },
    Send { ch: usize, h: usize, id: u64 },
    Never,
}

/// The fired arm of a `select!`.
enum Fired {
    Recv(Result<Tracked, RecvError>),
    Send(Result<(), SendError<Tracked>>),
    Default,
}

fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    let (_wakes, waker) = WakeCounter::new_waker();
    Pin::new(fut).poll(&mut Context::from_waker(&waker))
}

fuzz_target!(|input: Input| {
    let log = DropLog::new();
    let n = 2 + usize::from(input.channels % 3);
    let mut handles = Vec::with_capacity(n);
    let mut models = Vec::with_capacity(n);
    for flavor in &input.flavors[..n] {
        let ((tx, rx), cap) = match *flavor {
            Flavor::Unbuffered => (bounded(0), Some(0)),
            Flavor::Bounded(raw) => {
                let cap = 1 + usize::from(raw % 4);
                (bounded(cap), Some(cap))
            }
            Flavor::Unbounded => (unbounded(), None),
        };
        handles.push(Handles {
            senders: vec![tx],
            receivers: vec![rx],
        });
        models.push(Model {
            cap,
            buf: VecDeque::new(),
            closed: false,
        });
    }
    let never_rx = never::<Tracked>();
    let mut next_id = 0u64;
    let mut fresh = || {
        next_id += 1;
        next_id
    };

    for op in input.ops.into_iter().take(MAX_OPS) {
        let chan = |raw: u8| usize::from(raw) % n;
        match op {
            Op::TrySend(on) => {
                let ch = chan(on.ch);
                if let Some(h) = handles[ch].sender(on.handle) {
                    let id = fresh();
                    let r = handles[ch].senders[h].try_send(log.value(id));
                    sent(&mut models[ch], &log, id, r.into(), "try_send");
                }
            }
            Op::Send(on, wait) => {
                let ch = chan(on.ch);
                if let Some(h) = handles[ch].sender(on.handle) {
                    let id = fresh();
                    let tx = &handles[ch].senders[h];
                    let value = log.value(id);
                    if models[ch].send_ready() {
                        sent(&mut models[ch], &log, id, tx.send(value).into(), "send");
                    } else {
                        let r = tx.send_timeout(value, wait.duration());
                        sent(&mut models[ch], &log, id, r.into(), "send_timeout");
                    }
                }
            }
            Op::TryRecv(on) => {
                let ch = chan(on.ch);
                if let Some(h) = handles[ch].receiver(on.handle) {
                    let r = handles[ch].receivers[h].try_recv();
                    received(&mut models[ch], r.into(), "try_recv");
                }
            }
            Op::Recv(on, wait) => {
                let ch = chan(on.ch);
                if let Some(h) = handles[ch].receiver(on.handle) {
                    let rx = &handles[ch].receivers[h];
                    if models[ch].recv_ready() {
                        received(&mut models[ch], rx.recv().into(), "recv");
                    } else {
                        let r = rx.recv_timeout(wait.duration());
                        received(&mut models[ch], r.into(), "recv_timeout");
                    }
                }
            }
            Op::Close(on) => {
                let ch = chan(on.ch);
                if let Some(h) = handles[ch].sender(on.handle) {
                    let first = handles[ch].senders[h].close();
                    assert_eq!(first, !models[ch].closed, "close() on channel {ch}");
                    models[ch].closed = true;
                }
            }
            Op::Check(raw) => {
                let ch = chan(raw);
                let m = &models[ch];
                let len = if m.cap == Some(0) { 0 } else { m.buf.len() };
                let full = m.cap.is_some_and(|cap| len == cap);
                let hs = &handles[ch];
                for tx in &hs.senders {
                    assert_eq!(tx.len(), len, "Sender::len of channel {ch}");
                    assert_eq!(tx.is_empty(), len == 0, "Sender::is_empty of {ch}");
                    assert_eq!(tx.is_full(), full, "Sender::is_full of {ch}");
                    assert_eq!(tx.is_closed(), m.closed, "Sender::is_closed of {ch}");
                    assert_eq!(tx.capacity(), m.cap, "Sender::capacity of {ch}");
                    assert!(tx.same_channel(&hs.senders[0]));
                }
                for rx in &hs.receivers {
                    assert_eq!(rx.len(), len, "Receiver::len of channel {ch}");
                    assert_eq!(rx.is_empty(), len == 0, "Receiver::is_empty of {ch}");
                    assert_eq!(rx.is_full(), full, "Receiver::is_full of {ch}");
                    assert_eq!(rx.is_closed(), m.closed, "Receiver::is_closed of {ch}");
                    assert_eq!(rx.capacity(), m.cap, "Receiver::capacity of {ch}");
                    assert!(rx.same_channel(&hs.receivers[0]));
                }
            }
            Op::CloneSender(on) => {
                let ch = chan(on.ch);
                if let Some(h) = handles[ch].sender(on.handle)
                    && handles[ch].senders.len() < MAX_HANDLES
                {
                    let tx = handles[ch].senders[h].clone();
                    handles[ch].senders.push(tx);
                }
            }
            Op::CloneReceiver(on) => {
                let ch = chan(on.ch);
                if let Some(h) = handles[ch].receiver(on.handle)
                    && handles[ch].receivers.len() < MAX_HANDLES
                {
                    let rx = handles[ch].receivers[h].clone();
                    handles[ch].receivers.push(rx);
                }
            }
            Op::DropSender(on) => {
                let ch = chan(on.ch);
                if let Some(h) = handles[ch].sender(on.handle) {
                    drop(handles[ch].senders.swap_remove(h));
                    if handles[ch].senders.is_empty() {
                        models[ch].closed = true;
                    }
                }
            }
            Op::DropReceiver(on) => {
                let ch = chan(on.ch);
                if let Some(h) = handles[ch].receiver(on.handle) {
                    drop(handles[ch].receivers.swap_remove(h));
                    if handles[ch].receivers.is_empty() {
                        let m = &mut models[ch];
                        m.closed = true;
                        for id in m.buf.drain(..) {
                            assert_eq!(
                                log.drops(id),
                                1,
                                "value {id} buffered in channel {ch} when its last receiver dropped"
                            );
                        }
                    }
                }
            }
            Op::Drain(on) => {
                let ch = chan(on.ch);
                if let Some(h) = handles[ch].receiver(on.handle) {
                    let got: Vec<u64> = handles[ch].receivers[h]
                        .try_iter()
                        .map(|v| v.id())
                        .collect();
                    let expected: Vec<u64> = models[ch].buf.drain(..).collect();
                    assert_eq!(got, expected, "try_iter of channel {ch}");
                }
            }
            Op::Select { cases, wait } => {
                let mut plan = Vec::new();
                let mut sel = Select::new();
                for spec in cases.into_iter().take(MAX_CASES) {
                    match spec {
                        CaseSpec::Recv(on) => {
                            let ch = chan(on.ch);
                            if let Some(h) = handles[ch].receiver(on.handle) {
                                let i = sel.recv(&handles[ch].receivers[h]);
                                assert_eq!(i, plan.len(), "Select::recv index");
                                plan.push(Planned::Recv { ch, h });
                            }
                        }
                        CaseSpec::Send(on) => {
                            let ch = chan(on.ch);
                            if let Some(h) = handles[ch].sender(on.handle) {
                                let id = fresh();
                                let i = sel.send(&handles[ch].senders[h], log.value(id));
                                assert_eq!(i, plan.len(), "Select::send index");
                                plan.push(Planned::Send { ch, h, id });
                            }
                        }
                        CaseSpec::Never => {
                            let i = sel.recv(&never_rx);
                            assert_eq!(i, plan.len(), "Select::recv index");
                            plan.push(Planned::Never);
                        }
                    }
                }
                let ready: Vec<bool> = plan
                    .iter()
                    .map(|p| match *p {
                        Planned::Recv { ch, .. } => models[ch].recv_ready(),
                        Planned::Send { ch, .. } => models[ch].send_ready(),
                        Planned::Never => false,
                    })
                    .collect();
                let oper = match wait {
                    None => sel.try_select(),
                    Some(w) => sel.select_timeout(w.duration()),
                };
                let fired = oper.map(|oper| {
                    let i = oper.index();
                    assert!(
                        ready.get(i) == Some(&true),
                        "select fired case {i}, not ready in the model; plan {plan:?}, ready {ready:?}"
                    );
                    match plan[i] {
                        Planned::Recv { ch, h } => {
                            let r = oper.recv(&handles[ch].receivers[h]);
                            received(&mut models[ch], r.into(), "select recv case");
                        }
                        Planned::Send { ch, h, id } => {
                            let r = oper.send(&handles[ch].senders[h]);
                            sent(&mut models[ch], &log, id, r.into(), "select send case");
                        }
                        Planned::Never => unreachable!("checked ready"),
                    }
                    i
                });
                if fired.is_none() {
                    assert!(
                        !ready.contains(&true),
                        "select took its default with a case ready; plan {plan:?}, ready {ready:?}"
                    );
                }
                for (j, p) in plan.iter().enumerate() {
                    if let Planned::Send { ch, h, id } = *p {
                        let back = sel.take_unsent(j, &handles[ch].senders[h]);
                        if fired == Some(j) {
                            assert!(back.is_none(), "the fired send case {j} kept its value");
                        } else {
                            let v = back.unwrap_or_else(|| {
                                panic!("send case {j} did not fire, yet its value {id} is gone")
                            });
                            assert_eq!(v.id(), id, "send case {j} gave back another value");
                        }
                    }
                }
            }
            Op::SelectMacro { recv, send, wait } => {
                let (rc, sc) = (chan(recv.ch), chan(send.ch));
                let (Some(rh), Some(sh)) = (
                    handles[rc].receiver(recv.handle),
                    handles[sc].sender(send.handle),
                ) else {
                    continue;
                };
                let rx = &handles[rc].receivers[rh];
                let tx = &handles[sc].senders[sh];
                let (recv_ready, send_ready) = (models[rc].recv_ready(), models[sc].send_ready());
                let id = fresh();
                let value = log.value(id);
                let fired = match wait {
                    None => select! {
                        recv(rx) -> v => Fired::Recv(v),
                        send(tx, value) -> r => Fired::Send(r),
                        default => Fired::Default,
                    },
                    Some(w) => select! {
                        recv(rx) -> v => Fired::Recv(v),
                        send(tx, value) -> r => Fired::Send(r),
                        default(w.duration()) => Fired::Default,
                    },
                };
                match fired {
                    Fired::Recv(r) => {
                        assert!(recv_ready, "select! fired its recv case, not ready");
                        received(&mut models[rc], r.into(), "select! recv case");
                        assert_eq!(
                            log.drops(id),
                            1,
                            "select!: the unsent value was not dropped"
                        );
                    }
                    Fired::Send(r) => {
                        assert!(send_ready, "select! fired its send case, not ready");
                        sent(&mut models[sc], &log, id, r.into(), "select! send case");
                    }
                    Fired::Default => {
                        assert!(
                            !recv_ready && !send_ready,
                            "select! took its default with a case ready (recv {recv_ready}, send {send_ready})"
                        );
                        sent(
                            &mut models[sc],
                            &log,
                            id,
                            Sent::Refused(None),
                            "select! default",
                        );
                    }
                }
            }
            Op::RecvAsync(on) => {
                let ch = chan(on.ch);
                if let Some(h) = handles[ch].receiver(on.handle) {
                    let mut fut = handles[ch].receivers[h].recv_async();
                    let outcome = match poll_once(&mut fut) {
                        Poll::Ready(r) => r.into(),
                        Poll::Pending => Received::Nothing,
                    };
                    drop(fut);
                    received(&mut models[ch], outcome, "recv_async polled once");
                }
            }
            Op::SendAsync(on) => {
                let ch = chan(on.ch);
                if let Some(h) = handles[ch].sender(on.handle) {
                    let id = fresh();
                    let mut fut = handles[ch].senders[h].send_async(log.value(id));
                    let outcome = match poll_once(&mut fut) {
                        Poll::Ready(r) => r.into(),
                        Poll::Pending => Sent::Refused(None),
                    };
                    drop(fut);
                    sent(&mut models[ch], &log, id, outcome, "send_async polled once");
                }
            }
        }

        let buffered: usize = models.iter().map(|m| m.buf.len()).sum();
        assert_eq!(
            log.total_drops() + buffered,
            log.made(),
            "the values alive are not exactly the model's buffered ones"
        );
    }

    drop(handles);
    assert_eq!(
        log.undropped(),
        Vec::<u64>::new(),
        "values never dropped after every channel was dropped"
    );
    assert_eq!(log.total_drops(), log.made());
});
