//! `hoare_sync::WaitGroup` against a sequential model.
//!
//! The model is Go's `sync.WaitGroup` contract: one counter.
//!
//! * `add(d)`, `done()` (= `add(-1)`), `token()` (+1), cloning a token (+1)
//!   and dropping one (-1) change it. A change that would take it below
//!   zero panics and leaves it as it was.
//! * A `wait_async` future polled for the first time is ready iff the
//!   counter is zero; otherwise it waits. When the counter reaches zero,
//!   every waiting future is released: it has been woken, and its next poll
//!   is ready even if the counter has gone up again since (Go's waiters are
//!   released by the zero they waited for, not by a later one). A dropped
//!   future simply leaves.
//! * A blocking `wait()` returns at once when the counter is zero (it is
//!   only issued then: otherwise it would block the only thread forever).
//!
//! Everything runs on one thread; futures are polled by hand with a waker
//! that only counts its wake-ups.

#![no_main]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use arbitrary::Arbitrary;
use hoare_fuzz::{WakeCounter, catch_expected_panic};
use hoare_sync::{WaitGroup, WaitGroupToken};
use libfuzzer_sys::fuzz_target;

/// Index arguments are raw bytes, reduced modulo the number of live tokens
/// or futures.
#[derive(Arbitrary, Debug)]
enum Op {
    /// `add(raw % 6 - 2)`: mostly up, sometimes down.
    Add(u8),
    Done,
    Token,
    CloneToken(u8),
    DropToken(u8),
    WaitAsync,
    Poll(u8),
    DropFuture(u8),
    /// Blocking `wait()`, issued only when the counter is zero.
    Wait,
    /// A fresh `wait_async` future, polled once and dropped.
    Probe,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FutureState {
    /// Created, never polled.
    Fresh,
    /// Waiting for the counter to reach zero.
    Waiting,
    /// The counter reached zero while it waited; the next poll is ready.
    Released,
}

struct PendingWait<'a> {
    state: FutureState,
    future: Pin<Box<dyn Future<Output = ()> + 'a>>,
    wakes: Arc<WakeCounter>,
    waker: Waker,
    /// Wake-ups counted when it was last polled.
    wakes_at_poll: usize,
}

impl PendingWait<'_> {
    fn poll(&mut self) -> Poll<()> {
        self.wakes_at_poll = self.wakes.count();
        self.future
            .as_mut()
            .poll(&mut Context::from_waker(&self.waker))
    }
}

fn new_wait(wg: &WaitGroup) -> PendingWait<'_> {
    let (wakes, waker) = WakeCounter::new_waker();
    PendingWait {
        state: FutureState::Fresh,
        future: Box::pin(wg.wait_async()),
        wakes,
        waker,
        wakes_at_poll: 0,
    }
}

/// The model's counter.
struct Model {
    counter: i64,
}

impl Model {
    /// Applies `delta` as the wait group must, checking the real `op` panics
    /// exactly when the counter would go negative.
    fn apply(
        &mut self,
        delta: i64,
        futures: &mut [PendingWait<'_>],
        what: &str,
        op: impl FnOnce(),
    ) {
        let result = catch_expected_panic(op);
        let after = self.counter + delta;
        if after < 0 {
            assert!(
                result.is_err(),
                "{what}: counter {} + {delta} went negative without a panic",
                self.counter
            );
            return;
        }
        if let Err(message) = result {
            panic!(
                "{what}: counter {} + {delta} panicked: {message}",
                self.counter
            );
        }
        self.counter = after;
        if after == 0 {
            for f in futures.iter_mut() {
                if f.state == FutureState::Waiting {
                    f.state = FutureState::Released;
                }
            }
        }
    }
}

fn pick(len: usize, raw: u8) -> Option<usize> {
    (len > 0).then(|| raw as usize % len)
}

fuzz_target!(|ops: Vec<Op>| {
    let wg = WaitGroup::new();
    let mut model = Model { counter: 0 };
    // Declared after `wg`: they borrow it and drop first.
    let mut tokens: Vec<WaitGroupToken<'_>> = Vec::new();
    let mut futures: Vec<PendingWait<'_>> = Vec::new();

    for op in ops {
        match op {
            Op::Add(raw) => {
                let delta = (raw % 6) as i64 - 2;
                model.apply(delta, &mut futures, "add", || wg.add(delta as isize));
            }
            Op::Done => model.apply(-1, &mut futures, "done", || wg.done()),
            Op::Token => {
                let token = wg.token();
                model.apply(1, &mut futures, "token", || {});
                tokens.push(token);
            }
            Op::CloneToken(raw) => {
                if let Some(i) = pick(tokens.len(), raw) {
                    let token = tokens[i].clone();
                    model.apply(1, &mut futures, "token clone", || {});
                    tokens.push(token);
                }
            }
            Op::DropToken(raw) => {
                if let Some(i) = pick(tokens.len(), raw) {
                    let token = tokens.swap_remove(i);
                    model.apply(-1, &mut futures, "token drop", move || drop(token));
                }
            }
            Op::WaitAsync => futures.push(new_wait(&wg)),
            Op::Poll(raw) => {
                if let Some(i) = pick(futures.len(), raw) {
                    let f = &mut futures[i];
                    let ready_expected = match f.state {
                        FutureState::Fresh => model.counter == 0,
                        FutureState::Waiting => false,
                        FutureState::Released => true,
                    };
                    let state = f.state;
                    match f.poll() {
                        Poll::Ready(()) => {
                            assert!(
                                ready_expected,
                                "wait_async ready; model: state {state:?}, counter {}",
                                model.counter
                            );
                            futures.swap_remove(i);
                        }
                        Poll::Pending => {
                            assert!(
                                !ready_expected,
                                "wait_async pending; model: state {state:?}, counter {}",
                                model.counter
                            );
                            f.state = FutureState::Waiting;
                        }
                    }
                }
            }
            Op::DropFuture(raw) => {
                if let Some(i) = pick(futures.len(), raw) {
                    drop(futures.swap_remove(i));
                }
            }
            Op::Wait => {
                if model.counter == 0 {
                    wg.wait();
                }
            }
            Op::Probe => {
                let ready = new_wait(&wg).poll().is_ready();
                assert_eq!(
                    ready,
                    model.counter == 0,
                    "a fresh wait_async disagrees with the model's counter {}",
                    model.counter
                );
            }
        }

        for f in &futures {
            if f.state == FutureState::Released {
                assert!(
                    f.wakes.count() > f.wakes_at_poll,
                    "the counter reached zero but a waiting future was not woken"
                );
            }
        }
    }

    // Tear down one by one: a token drop may be the one that would go
    // negative (more `done()` than `add()`), and it must panic alone.
    drop(futures);
    let mut no_futures: Vec<PendingWait<'_>> = Vec::new();
    while let Some(token) = tokens.pop() {
        model.apply(-1, &mut no_futures, "token drop", move || drop(token));
    }
    let ready = new_wait(&wg).poll().is_ready();
    assert_eq!(ready, model.counter == 0, "final counter {}", model.counter);
});
