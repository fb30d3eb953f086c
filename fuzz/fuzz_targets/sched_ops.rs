//! `hoare_sched` running random trees of goroutines whose results are known
//! in advance.
//!
//! An input is a small program: a tree of at most [`MAX_TASKS`] tasks, at
//! most [`MAX_DEPTH`] levels below the root, and a runtime of 1 to 3 Ps
//! (work stealing or the global FIFO). Each task runs a few operations in
//! order:
//!
//! * `Yield`: `yield_now().await`.
//! * `Spawn`: `go` a child task, with an inbox channel (unbuffered,
//!   bounded or unbounded) that only the parent sends on.
//! * `Join`: drop the child's inbox sender, then await its `JoinHandle`.
//! * `Abort`: `JoinHandle::abort` (the handle is joined later).
//! * `Detach`: drop the `JoinHandle`; the child keeps running.
//! * `Send`: send the child the next message on its inbox.
//! * `Recv`: receive the next message from the task's own inbox.
//! * `BlockInPlace`: `block_in_place` around a computation.
//! * `Panic`: panic (never the root); the task's last operation.
//!
//! After its operations a task drops its inbox senders, receives on its
//! results channel until every child is gone (each child sends its id and
//! value there as it finishes), joins the handles it still holds, and
//! returns its value: a hash of its id, the messages it received and the
//! results of the joins whose outcome is certain, in program order.
//!
//! None of this can deadlock: a task waits only for its own children
//! (which never wait for it, except to receive a message it either sends
//! or gives up by dropping the sender before it waits for them) and for
//! its parent's messages.
//!
//! The model is a plain recursive function over the tree. It knows how many
//! messages each parent sends each child, so what every receive returns,
//! and whether each send succeeds (a send the child will receive must; an
//! unbuffered send the child never receives must fail once the child is
//! gone), and every task's value. Checked, on the tasks as they run:
//!
//! * A join returns `Ok(value)` with the model's value, or
//!   `Err(Panicked)` with the child's own payload if the child panics, or,
//!   only for an aborted child, `Err(Cancelled)`; then `is_finished()`.
//! * Receives and sends are as the model says (unless an abort makes them
//!   racy: a task whose parent may abort it checks nothing about its
//!   inbox, and sends to an aborted child are unchecked).
//! * The results channel delivers each child at most once, with the
//!   model's value, and every child that can neither panic nor be aborted.
//!   Sending a result fails only if the parent panics or may be aborted.
//! * The root's value is the model's. The root runs as `block_on`'s future,
//!   or is spawned and awaited by `block_on`, or spawned and joined with the
//!   blocking `JoinHandle::join`.
//!
//! Then the runtime is dropped (shutting down, it cancels the detached
//! tasks still running), and every task's future and every output was
//! dropped exactly once. A watchdog aborts with the program and the
//! runtime's goroutine dump if one input runs for [`HANG_AFTER`].

#![no_main]

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Once, Weak};
use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Unstructured};
use hoare_chan::{Receiver, Sender, TrySendError, bounded, unbounded};
use hoare_fuzz::{DropLog, ExpectedPanic, Tracked, expected_panic};
use hoare_sched::{JoinError, JoinHandle, Policy, Runtime, block_in_place, go_named, yield_now};
use libfuzzer_sys::fuzz_target;

/// Tasks in one program, the root included.
const MAX_TASKS: usize = 64;
/// Levels of tasks below the root.
const MAX_DEPTH: usize = 4;
/// Operations of one task.
const MAX_OPS: u8 = 10;
/// One input running this long is a hang (a lost wake-up, a shutdown that
/// does not end); CI's libFuzzer `-timeout` is 10 s.
const HANG_AFTER: Duration = Duration::from_secs(5);

/// Drop-log ids of outputs: task index | `OUTPUT`; futures use the index.
const OUTPUT: u64 = 1 << 32;
/// What a receive on a closed inbox contributes to the value.
const CLOSED: u64 = u64::MAX;
/// What a child's panic contributes to its joiner's value (xor its index).
const PANICKED: u64 = 0x5041_4e49_4300_0000;
const BLOCKED: u64 = 0xb10c;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    Unbuffered,
    Bounded(usize),
    Unbounded,
}

/// Slot arguments index the task's children in spawn order.
#[derive(Debug, Clone, Copy)]
enum Op {
    Yield,
    /// Spawns the task with this index; its slot is the number of spawns
    /// before it.
    Spawn(usize),
    Join(usize),
    Abort(usize),
    Detach(usize),
    Send(usize),
    Recv,
    BlockInPlace,
    Panic,
}

#[derive(Debug)]
struct Node {
    parent: Option<usize>,
    /// The flavor of the task's inbox (the root has none).
    inbox: Flavor,
    ops: Vec<Op>,
    /// Task indices, by slot.
    children: Vec<usize>,
}

#[derive(Debug, Clone, Copy)]
enum RootMode {
    BlockOn,
    SpawnAwait,
    SpawnJoin,
}

/// What the model derives about each task.
#[derive(Debug, Default, Clone, Copy)]
struct Facts {
    /// It panics (its last operation).
    panics: bool,
    /// Its parent aborts it (at some point before joining it).
    aborted: bool,
    /// Its `Recv` operations.
    recvs: usize,
    /// The messages its parent sends it.
    sends: usize,
    /// Its value, if its parent is not aborted.
    value: u64,
}

struct Program {
    procs: usize,
    policy: Policy,
    root: RootMode,
    /// In preorder: the root first, a child after its parent.
    nodes: Vec<Node>,
    facts: Vec<Facts>,
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "procs {}, {:?}, root {:?}, {} tasks:",
            self.procs,
            self.policy,
            self.root,
            self.nodes.len()
        )?;
        for (k, node) in self.nodes.iter().enumerate() {
            writeln!(
                f,
                "  t{k}: parent {:?}, inbox {:?}, children {:?}, ops {:?}; {:?}",
                node.parent, node.inbox, node.children, node.ops, self.facts[k]
            )?;
        }
        Ok(())
    }
}

/// Decoded by hand, a byte an operation: the kind in the low nibble, the
/// argument (a slot, or a spawn's inbox flavor) in the high one; a spawn's
/// child follows it at once (preorder). The first byte picks the runtime,
/// and each task starts with its number of operations.
impl<'a> Arbitrary<'a> for Program {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let head: u8 = u.arbitrary()?;
        let procs = 1 + usize::from(head & 3) % 3;
        let root = match ((head >> 2) & 3) % 3 {
            0 => RootMode::BlockOn,
            1 => RootMode::SpawnAwait,
            _ => RootMode::SpawnJoin,
        };
        let policy = if head & 0x10 == 0 {
            Policy::WorkStealing
        } else {
            Policy::GlobalFifo
        };
        let mut nodes = Vec::new();
        decode_node(u, &mut nodes, None, 0, Flavor::Unbounded)?;
        let facts = derive_facts(&nodes);
        Ok(Program {
            procs,
            policy,
            root,
            nodes,
            facts,
        })
    }
}

fn decode_node(
    u: &mut Unstructured<'_>,
    nodes: &mut Vec<Node>,
    parent: Option<usize>,
    depth: usize,
    inbox: Flavor,
) -> arbitrary::Result<usize> {
    let k = nodes.len();
    nodes.push(Node {
        parent,
        inbox,
        ops: Vec::new(),
        children: Vec::new(),
    });
    let n_ops = if u.is_empty() {
        0
    } else {
        1 + u.arbitrary::<u8>()? % MAX_OPS
    };
    let mut ops = Vec::new();
    let mut children = Vec::new();
    // Per slot: the handle is held; the inbox sender is held.
    let mut held: Vec<bool> = Vec::new();
    let mut open: Vec<bool> = Vec::new();
    for _ in 0..n_ops {
        if u.is_empty() {
            break;
        }
        let b: u8 = u.arbitrary()?;
        let arg = usize::from(b >> 4);
        let op = match (b & 0x0f) % 10 {
            1 | 2 if depth < MAX_DEPTH && nodes.len() < MAX_TASKS => {
                let flavor = match arg & 3 {
                    0 => Flavor::Unbuffered,
                    1 => Flavor::Bounded(1),
                    2 => Flavor::Bounded(1 + (arg >> 2)),
                    _ => Flavor::Unbounded,
                };
                let c = decode_node(u, nodes, Some(k), depth + 1, flavor)?;
                children.push(c);
                held.push(true);
                open.push(true);
                Some(Op::Spawn(c))
            }
            3 => pick(&held, arg).map(|s| {
                held[s] = false;
                open[s] = false;
                Op::Join(s)
            }),
            4 => pick(&held, arg).map(Op::Abort),
            5 => pick(&held, arg).map(|s| {
                held[s] = false;
                Op::Detach(s)
            }),
            6 => pick(&open, arg).map(Op::Send),
            7 if parent.is_some() => Some(Op::Recv),
            8 => Some(Op::BlockInPlace),
            9 if parent.is_some() => Some(Op::Panic),
            _ => None,
        };
        let op = op.unwrap_or(Op::Yield);
        ops.push(op);
        if matches!(op, Op::Panic) {
            break;
        }
    }
    nodes[k].ops = ops;
    nodes[k].children = children;
    Ok(k)
}

/// The `arg`-th (modulo) slot whose flag is set.
fn pick(flags: &[bool], arg: usize) -> Option<usize> {
    let set: Vec<usize> = (0..flags.len()).filter(|&s| flags[s]).collect();
    (!set.is_empty()).then(|| set[arg % set.len()])
}

fn derive_facts(nodes: &[Node]) -> Vec<Facts> {
    let mut facts = vec![Facts::default(); nodes.len()];
    for (k, node) in nodes.iter().enumerate() {
        for op in &node.ops {
            match *op {
                Op::Recv => facts[k].recvs += 1,
                Op::Panic => facts[k].panics = true,
                Op::Abort(s) => facts[node.children[s]].aborted = true,
                Op::Send(s) => facts[node.children[s]].sends += 1,
                _ => {}
            }
        }
    }
    // Children come after their parent: compute the values bottom-up.
    for k in (0..nodes.len()).rev() {
        facts[k].value = model_value(nodes, &facts, k);
    }
    facts
}

/// The model: task `k`'s value, its children's values known.
fn model_value(nodes: &[Node], facts: &[Facts], k: usize) -> u64 {
    let node = &nodes[k];
    let mut h = seed(k);
    let mut recvd = 0;
    let mut held = Vec::new();
    for op in &node.ops {
        match *op {
            Op::Spawn(_) => held.push(true),
            Op::Join(s) => {
                held[s] = false;
                if let Some(t) = certain_outcome(facts, node.children[s]) {
                    h = mix(h, t);
                }
            }
            Op::Detach(s) => held[s] = false,
            Op::Recv => {
                h = mix(h, expected_message(facts, k, recvd));
                recvd += 1;
            }
            Op::BlockInPlace => h = mix(h, BLOCKED),
            Op::Yield | Op::Abort(_) | Op::Send(_) | Op::Panic => {}
        }
    }
    for (s, &c) in node.children.iter().enumerate() {
        if held[s]
            && let Some(t) = certain_outcome(facts, c)
        {
            h = mix(h, t);
        }
    }
    h
}

/// What joining task `c` contributes to its parent's value: nothing if it
/// may be cancelled.
fn certain_outcome(facts: &[Facts], c: usize) -> Option<u64> {
    let f = &facts[c];
    if f.aborted {
        None
    } else if f.panics {
        Some(PANICKED ^ c as u64)
    } else {
        Some(f.value)
    }
}

/// What task `k`'s `i`-th receive returns (`CLOSED` for an error).
fn expected_message(facts: &[Facts], k: usize, i: usize) -> u64 {
    if i < facts[k].sends {
        message(k, i)
    } else {
        CLOSED
    }
}

/// The `j`-th message to task `c`.
fn message(c: usize, j: usize) -> u64 {
    1 << 40 | (c as u64) << 16 | j as u64
}

fn seed(k: usize) -> u64 {
    0xcbf2_9ce4_8422_2325 ^ k as u64
}

fn mix(h: u64, x: u64) -> u64 {
    (h ^ x).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29)
}

/// A task's output: its value, and a payload that counts its drops.
struct Out {
    value: u64,
    _tracked: Tracked,
}

struct Ctx {
    prog: Arc<Program>,
    log: Arc<DropLog>,
}

/// A child slot of a running task.
struct Slot {
    node: usize,
    handle: Option<JoinHandle<Out>>,
    inbox: Option<Sender<u64>>,
    sent: usize,
    aborted: bool,
}

type Task = Pin<Box<dyn Future<Output = Out> + Send>>;

/// Task `k`'s future, which holds its drop-counted payload (id `k`).
fn task(
    ctx: &Arc<Ctx>,
    k: usize,
    inbox: Option<Receiver<u64>>,
    up: Option<Sender<(usize, u64)>>,
) -> Task {
    let alive = ctx.log.value(k as u64);
    let run = run_task(ctx.clone(), k, inbox, up);
    Box::pin(async move {
        let _alive = alive;
        run.await
    })
}

fn run_task(
    ctx: Arc<Ctx>,
    k: usize,
    inbox: Option<Receiver<u64>>,
    up: Option<Sender<(usize, u64)>>,
) -> Task {
    Box::pin(async move {
        let prog = &*ctx.prog;
        let node = &prog.nodes[k];
        let facts = &prog.facts;
        // Whether this task's inbox is deterministic: its parent cannot be
        // cancelled half-way.
        let inbox_known = node.parent.is_some_and(|p| !facts[p].aborted);
        let (results_tx, results_rx) = unbounded::<(usize, u64)>();
        let mut slots: Vec<Slot> = Vec::new();
        let mut h = seed(k);
        let mut recvd = 0;
        for op in &node.ops {
            match *op {
                Op::Yield => yield_now().await,
                Op::Spawn(c) => {
                    let (tx, rx) = match prog.nodes[c].inbox {
                        Flavor::Unbuffered => bounded(0),
                        Flavor::Bounded(n) => bounded(n),
                        Flavor::Unbounded => unbounded(),
                    };
                    let fut = task(&ctx, c, Some(rx), Some(results_tx.clone()));
                    let handle = go_named(&format!("t{c}"), fut);
                    slots.push(Slot {
                        node: c,
                        handle: Some(handle),
                        inbox: Some(tx),
                        sent: 0,
                        aborted: false,
                    });
                }
                Op::Join(s) => {
                    let slot = &mut slots[s];
                    slot.inbox = None;
                    let handle = slot.handle.take().expect("joined while held");
                    if let Some(t) = join_child(prog, k, slot.node, handle).await {
                        h = mix(h, t);
                    }
                }
                Op::Abort(s) => {
                    let slot = &mut slots[s];
                    slot.handle.as_ref().expect("aborted while held").abort();
                    slot.aborted = true;
                }
                Op::Detach(s) => slots[s].handle = None,
                Op::Send(s) => {
                    let slot = &mut slots[s];
                    let (c, j) = (slot.node, slot.sent);
                    slot.sent += 1;
                    let aborted = slot.aborted;
                    let tx = slot.inbox.as_ref().expect("sent while open");
                    let ok = tx.send_async(message(c, j)).await.is_ok();
                    if !aborted {
                        let f = &facts[c];
                        if j < f.recvs {
                            assert!(
                                ok,
                                "t{k}: send {j} to t{c} failed, though t{c} receives {} times\n{prog:?}",
                                f.recvs
                            );
                        } else if prog.nodes[c].inbox == Flavor::Unbuffered {
                            assert!(
                                !ok,
                                "t{k}: unbuffered send {j} to t{c} succeeded, though t{c} receives only {} times\n{prog:?}",
                                f.recvs
                            );
                        }
                    }
                }
                Op::Recv => {
                    let rx = inbox.as_ref().expect("the root does not receive");
                    let got = rx.recv_async().await.unwrap_or(CLOSED);
                    if inbox_known {
                        let want = expected_message(facts, k, recvd);
                        assert_eq!(
                            got, want,
                            "t{k}: receive {recvd} returned {got:#x}, the model says {want:#x}\n{prog:?}"
                        );
                    }
                    recvd += 1;
                    h = mix(h, got);
                }
                Op::BlockInPlace => h = block_in_place(|| mix(h, BLOCKED)),
                Op::Panic => expected_panic(k as u64),
            }
        }

        // The end: let the children go, hear from every one of them, join
        // the rest.
        for slot in &mut slots {
            slot.inbox = None;
        }
        drop(results_tx);
        let mut heard = vec![false; slots.len()];
        while let Ok((c, v)) = results_rx.recv_async().await {
            let Some(s) = slots.iter().position(|slot| slot.node == c) else {
                panic!("t{k}: a result from t{c}, not a child it spawned\n{prog:?}");
            };
            assert!(!heard[s], "t{k}: two results from t{c}\n{prog:?}");
            heard[s] = true;
            assert!(
                !facts[c].panics,
                "t{k}: a result from t{c}, which panics\n{prog:?}"
            );
            assert_eq!(
                v, facts[c].value,
                "t{k}: t{c} sent the value {v:#x}, the model says {:#x}\n{prog:?}",
                facts[c].value
            );
        }
        for (s, slot) in slots.iter().enumerate() {
            let c = slot.node;
            assert!(
                heard[s] || facts[c].panics || facts[c].aborted,
                "t{k}: its results channel closed without a result from t{c}\n{prog:?}"
            );
        }
        for slot in &mut slots {
            if let Some(handle) = slot.handle.take()
                && let Some(t) = join_child(prog, k, slot.node, handle).await
            {
                h = mix(h, t);
            }
        }

        if let Some(up) = up {
            match up.try_send((k, h)) {
                Ok(()) => {}
                Err(TrySendError::Closed(_)) => {
                    let p = node
                        .parent
                        .expect("a task with a results sender has a parent");
                    assert!(
                        facts[p].panics || facts[p].aborted,
                        "t{k}: t{p}'s results channel is closed, though t{p} neither panics nor is aborted\n{prog:?}"
                    );
                }
                Err(TrySendError::Full(_)) => panic!("t{k}: an unbounded channel is full"),
            }
        }
        Out {
            value: h,
            _tracked: ctx.log.value(OUTPUT | k as u64),
        }
    })
}

/// Awaits child `c`'s handle and checks the outcome; what it contributes to
/// `k`'s value.
async fn join_child(
    prog: &Program,
    k: usize,
    c: usize,
    mut handle: JoinHandle<Out>,
) -> Option<u64> {
    let f = &prog.facts[c];
    let result = (&mut handle).await;
    assert!(
        handle.is_finished(),
        "t{k}: the handle of t{c} returned, but is_finished() is false\n{prog:?}"
    );
    let outcome = match result {
        Ok(out) => {
            assert!(
                !f.panics,
                "t{k}: t{c} panics, yet its join returned Ok\n{prog:?}"
            );
            assert_eq!(
                out.value, f.value,
                "t{k}: t{c} returned {:#x}, the model says {:#x}\n{prog:?}",
                out.value, f.value
            );
            out.value
        }
        Err(JoinError::Panicked(p)) => {
            assert!(
                f.panics,
                "t{k}: t{c} does not panic, yet its join returned Panicked\n{prog:?}"
            );
            let id = p.downcast_ref::<ExpectedPanic>().map(|e| e.0);
            assert_eq!(
                id,
                Some(c as u64),
                "t{k}: the panic payload of t{c}\n{prog:?}"
            );
            PANICKED ^ c as u64
        }
        Err(JoinError::Cancelled) => {
            assert!(
                f.aborted,
                "t{k}: t{c} was never aborted, yet its join returned Cancelled\n{prog:?}"
            );
            return None;
        }
    };
    (!f.aborted).then_some(outcome)
}

/// The input being run, for the watchdog.
struct Watched {
    since: Instant,
    prog: Arc<Program>,
    rt: Weak<Runtime>,
}

static WATCHED: Mutex<Option<Watched>> = Mutex::new(None);

fn watched() -> std::sync::MutexGuard<'static, Option<Watched>> {
    WATCHED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Watches the input from now on; starts the watchdog on the first call.
fn watch(prog: &Arc<Program>, rt: &Arc<Runtime>) {
    static WATCHDOG: Once = Once::new();
    WATCHDOG.call_once(|| {
        std::thread::spawn(|| {
            loop {
                std::thread::sleep(Duration::from_millis(100));
                let w = watched();
                if let Some(w) = &*w
                    && w.since.elapsed() >= HANG_AFTER
                {
                    eprintln!(
                        "sched_ops: the input has run for {:?}: a hang\n{:?}",
                        w.since.elapsed(),
                        w.prog
                    );
                    match w.rt.upgrade() {
                        Some(rt) => eprintln!("goroutines:\n{}", rt.dump()),
                        None => eprintln!("the runtime is being dropped (shutdown hangs)"),
                    }
                    std::process::abort();
                }
            }
        });
    });
    *watched() = Some(Watched {
        since: Instant::now(),
        prog: prog.clone(),
        rt: Arc::downgrade(rt),
    });
}

fuzz_target!(|prog: Program| {
    let prog = Arc::new(prog);
    let log = DropLog::new();
    let rt = Arc::new(
        Runtime::builder()
            .procs(prog.procs)
            .policy(prog.policy)
            .build(),
    );
    watch(&prog, &rt);
    let ctx = Arc::new(Ctx {
        prog: prog.clone(),
        log: log.clone(),
    });
    let root = task(&ctx, 0, None, None);
    let out = match prog.root {
        RootMode::BlockOn => rt.block_on(root),
        RootMode::SpawnAwait => {
            let handle = rt.spawn(root);
            match rt.block_on(handle) {
                Ok(out) => out,
                Err(e) => panic!("the root task failed: {e}\n{prog:?}"),
            }
        }
        RootMode::SpawnJoin => match rt.spawn(root).join() {
            Ok(out) => out,
            Err(e) => panic!("the root task failed: {e}\n{prog:?}"),
        },
    };
    assert_eq!(
        out.value, prog.facts[0].value,
        "the root's value {:#x}, the model says {:#x}\n{prog:?}",
        out.value, prog.facts[0].value
    );
    drop(out);
    drop(ctx);
    // Shutdown: cancels the detached tasks still running.
    drop(rt);
    *watched() = None;
    assert_eq!(
        log.undropped(),
        Vec::<u64>::new(),
        "futures (id) or outputs (id | 1 << 32) never dropped\n{prog:?}"
    );
    assert_eq!(
        log.total_drops(),
        log.made(),
        "futures or outputs dropped more than once\n{prog:?}"
    );
});
