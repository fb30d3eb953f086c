//! `hoare_sync::Semaphore` against a sequential model.
//!
//! The model is the semaphore's contract, written the simplest way: a count
//! of available permits and a FIFO queue of pending `acquire_async` requests.
//!
//! * A request is served at once iff nobody is queued and enough permits are
//!   available (`try_acquire`, a blocking `acquire`, the first poll of an
//!   `acquire_async` future); otherwise `try_acquire` fails and a future
//!   joins the back of the queue.
//! * Whenever permits come back (a permit dropped, a granted-but-unclaimed
//!   future dropped) or the queue's head leaves (a queued future dropped),
//!   requests are granted from the head while the head's request fits, and
//!   no further: a small request never overtakes a big one ahead of it. A
//!   granted future has been woken and its next poll returns the permit.
//! * Asking `acquire`/`acquire_async` for more permits than the total
//!   panics; `try_acquire` just fails.
//!
//! Everything runs on one thread; futures are polled by hand with a waker
//! that only counts its wake-ups. After every operation the real
//! `available_permits()` must equal the model's, and at the end, with every
//! future and permit dropped, all permits must be back.

#![no_main]

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use arbitrary::Arbitrary;
use hoare_fuzz::{WakeCounter, catch_expected_panic};
use hoare_sync::{Permit, Semaphore};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    permits: u8,
    ops: Vec<Op>,
}

/// Arguments are raw bytes; they are reduced to a request size (which can
/// exceed the total by one) or to an index into the held permits/futures.
#[derive(Arbitrary, Debug)]
enum Op {
    TryAcquire(u8),
    /// Blocking `acquire`, issued only when the model says it cannot block.
    Acquire(u8),
    DropPermit(u8),
    AcquireAsync(u8),
    Poll(u8),
    DropFuture(u8),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FutureState {
    /// Created, never polled: not in the queue yet.
    Fresh,
    /// Polled once, waiting in the queue.
    Queued,
    /// Permits handed over by a release; the next poll returns them.
    Granted,
}

struct PendingAcquire<'a> {
    id: u64,
    n: usize,
    state: FutureState,
    future: Pin<Box<dyn Future<Output = Permit<'a>> + 'a>>,
    wakes: Arc<WakeCounter>,
    waker: Waker,
    /// Wake-ups counted when it was last polled.
    wakes_at_poll: usize,
}

struct Model {
    total: usize,
    available: usize,
    /// Queued requests in arrival order: (future id, permits wanted).
    queue: VecDeque<(u64, usize)>,
}

impl Model {
    fn can_take_now(&self, n: usize) -> bool {
        self.queue.is_empty() && self.available >= n
    }

    /// Grants from the head while the head fits; returns the granted ids.
    fn grant(&mut self) -> Vec<u64> {
        let mut granted = Vec::new();
        while let Some(&(id, n)) = self.queue.front() {
            if n > self.available {
                break;
            }
            self.available -= n;
            self.queue.pop_front();
            granted.push(id);
        }
        granted
    }

    fn release(&mut self, n: usize) -> Vec<u64> {
        self.available += n;
        self.grant()
    }
}

fn mark_granted(futures: &mut [PendingAcquire<'_>], granted: Vec<u64>) {
    for id in granted {
        let f = futures
            .iter_mut()
            .find(|f| f.id == id)
            .expect("the model granted a future it does not know");
        assert_eq!(
            f.state,
            FutureState::Queued,
            "model granted a non-queued future"
        );
        f.state = FutureState::Granted;
    }
}

fn pick(len: usize, raw: u8) -> Option<usize> {
    (len > 0).then(|| raw as usize % len)
}

fuzz_target!(|input: Input| {
    let total = input.permits as usize % 17;
    let sem = Semaphore::new(total);
    let mut model = Model {
        total,
        available: total,
        queue: VecDeque::new(),
    };
    // Declared after `sem`: they borrow it and drop first.
    let mut held: Vec<(Permit<'_>, usize)> = Vec::new();
    let mut futures: Vec<PendingAcquire<'_>> = Vec::new();
    let mut next_id = 0u64;

    for op in input.ops {
        let size = |raw: u8| raw as usize % (total + 2);
        match op {
            Op::TryAcquire(raw) => {
                let n = size(raw);
                let expected = model.can_take_now(n);
                match sem.try_acquire(n) {
                    Some(permit) => {
                        assert!(
                            expected,
                            "try_acquire({n}) succeeded; model: available {}, queued {:?}",
                            model.available, model.queue
                        );
                        model.available -= n;
                        held.push((permit, n));
                    }
                    None => assert!(
                        !expected,
                        "try_acquire({n}) failed; model: available {}, queued {:?}",
                        model.available, model.queue
                    ),
                }
            }
            Op::Acquire(raw) => {
                let n = size(raw);
                if n > model.total {
                    let result = catch_expected_panic(|| sem.acquire(n));
                    assert!(
                        result.is_err(),
                        "acquire({n}) beyond the total {total} did not panic"
                    );
                } else if model.can_take_now(n) {
                    held.push((sem.acquire(n), n));
                    model.available -= n;
                }
                // Otherwise it would block this thread forever: not issued.
            }
            Op::DropPermit(raw) => {
                if let Some(i) = pick(held.len(), raw) {
                    let (permit, n) = held.swap_remove(i);
                    drop(permit);
                    let granted = model.release(n);
                    mark_granted(&mut futures, granted);
                }
            }
            Op::AcquireAsync(raw) => {
                let n = size(raw);
                if n > model.total {
                    let result = catch_expected_panic(|| drop(sem.acquire_async(n)));
                    assert!(
                        result.is_err(),
                        "acquire_async({n}) beyond the total {total} did not panic"
                    );
                } else {
                    let (wakes, waker) = WakeCounter::new_waker();
                    futures.push(PendingAcquire {
                        id: next_id,
                        n,
                        state: FutureState::Fresh,
                        future: Box::pin(sem.acquire_async(n)),
                        wakes,
                        waker,
                        wakes_at_poll: 0,
                    });
                    next_id += 1;
                }
            }
            Op::Poll(raw) => {
                if let Some(i) = pick(futures.len(), raw) {
                    let f = &mut futures[i];
                    let ready_expected = match f.state {
                        FutureState::Fresh if model.can_take_now(f.n) => {
                            model.available -= f.n;
                            true
                        }
                        FutureState::Fresh => {
                            model.queue.push_back((f.id, f.n));
                            f.state = FutureState::Queued;
                            false
                        }
                        FutureState::Queued => false,
                        FutureState::Granted => true,
                    };
                    f.wakes_at_poll = f.wakes.count();
                    let mut cx = Context::from_waker(&f.waker);
                    match f.future.as_mut().poll(&mut cx) {
                        Poll::Ready(permit) => {
                            assert!(
                                ready_expected,
                                "acquire_async({}) ready; model: state {:?}, available {}, queued {:?}",
                                f.n, f.state, model.available, model.queue
                            );
                            let n = f.n;
                            futures.swap_remove(i);
                            held.push((permit, n));
                        }
                        Poll::Pending => assert!(
                            !ready_expected,
                            "acquire_async({}) pending; model: state {:?}, available {}, queued {:?}",
                            f.n, f.state, model.available, model.queue
                        ),
                    }
                }
            }
            Op::DropFuture(raw) => {
                if let Some(i) = pick(futures.len(), raw) {
                    let f = futures.swap_remove(i);
                    let (id, n, state) = (f.id, f.n, f.state);
                    drop(f);
                    let granted = match state {
                        FutureState::Fresh => Vec::new(),
                        FutureState::Queued => {
                            model.queue.retain(|&(q, _)| q != id);
                            model.grant()
                        }
                        // Cancelled after the hand-over: the permits go on.
                        FutureState::Granted => model.release(n),
                    };
                    mark_granted(&mut futures, granted);
                }
            }
        }

        assert_eq!(
            sem.available_permits(),
            model.available,
            "available_permits disagrees with the model (queued {:?})",
            model.queue
        );
        for f in &futures {
            if f.state == FutureState::Granted {
                assert!(
                    f.wakes.count() > f.wakes_at_poll,
                    "acquire_async({}) was granted its permits but its waker was not woken",
                    f.n
                );
            }
        }
    }

    // Everything goes back: queued futures leave, granted ones return their
    // permits, held permits are released.
    drop(futures);
    drop(held);
    assert_eq!(
        sem.available_permits(),
        total,
        "permits lost after every future and permit was dropped"
    );
    assert!(sem.try_acquire(total).is_some(), "the queue did not empty");
});
