//! Behaviour of `hoare_chan::context`: Go's `context` cancellation.

use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use hoare_chan::context::{Cancel, Context, ContextError};
use hoare_chan::{RecvError, TryRecvError, select, unbounded};

mod util;
use util::alloc::{CountingAlloc, live_bytes};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const LONG: Duration = Duration::from_secs(3600);

#[test]
fn cancel_closes_done() {
    let (ctx, cancel) = Context::background().with_cancel();
    assert_eq!(ctx.done().try_recv(), Err(TryRecvError::Empty));
    cancel.cancel();
    assert_eq!(ctx.done().try_recv(), Err(TryRecvError::Closed));
    assert_eq!(ctx.done().recv(), Err(RecvError));
    assert!(ctx.done().is_closed());
}

#[test]
fn cancel_wakes_a_thread_blocked_on_done() {
    let (ctx, cancel) = Context::background().with_cancel();
    let waiter = thread::spawn(move || {
        let r = ctx.done().recv();
        (r, ctx.err())
    });
    thread::sleep(Duration::from_millis(10));
    cancel.cancel();
    assert_eq!(
        waiter.join().unwrap(),
        (Err(RecvError), Some(ContextError::Canceled))
    );
}

#[test]
fn cancel_wakes_a_task_awaiting_done() {
    let (ctx, cancel) = Context::background().with_cancel();
    let canceller = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        cancel.cancel();
    });
    let r = futures::executor::block_on(ctx.done().recv_async());
    assert_eq!(r, Err(RecvError));
    assert_eq!(ctx.err(), Some(ContextError::Canceled));
    canceller.join().unwrap();
}

#[test]
fn err_is_none_until_cancelled_then_says_why() {
    let (ctx, cancel) = Context::background().with_cancel();
    assert_eq!(ctx.err(), None);
    assert!(!ctx.is_done());
    cancel.cancel();
    assert_eq!(ctx.err(), Some(ContextError::Canceled));
    assert!(ctx.is_done());

    let (ctx, _cancel) = Context::background().with_timeout(Duration::ZERO);
    assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
}

#[test]
fn context_errors_read_as_go_and_are_std_errors() {
    assert_eq!(ContextError::Canceled.to_string(), "context canceled");
    assert_eq!(
        ContextError::DeadlineExceeded.to_string(),
        "context deadline exceeded"
    );
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(ContextError::Canceled);
    assert_eq!(boxed.to_string(), "context canceled");
}

#[test]
fn dropping_cancel_does_not_cancel() {
    let (ctx, cancel) = Context::background().with_cancel();
    drop(cancel);
    assert_eq!(ctx.err(), None);
    assert_eq!(
        ctx.done().recv_timeout(Duration::from_millis(20)),
        Err(hoare_chan::RecvTimeoutError::Timeout)
    );
}

#[test]
fn cancelling_twice_keeps_the_first_error() {
    let (ctx, cancel) = Context::background().with_timeout(Duration::from_millis(1));
    assert_eq!(ctx.done().recv(), Err(RecvError));
    cancel.cancel();
    cancel.cancel();
    assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));

    let (ctx, cancel) = Context::background().with_cancel();
    cancel.cancel();
    cancel.clone().cancel();
    assert_eq!(ctx.err(), Some(ContextError::Canceled));
}

#[test]
fn concurrent_cancels_agree_on_one_error() {
    for _ in 0..50 {
        let (ctx, cancel) = Context::background().with_timeout(Duration::from_micros(50));
        let (child, _c) = ctx.with_cancel();
        let barrier = Barrier::new(4);
        let errs: Vec<_> = thread::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        cancel.cancel();
                        child.done().recv().unwrap_err();
                        (ctx.err(), child.err())
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let first = errs[0];
        assert!(first.0.is_some());
        assert_eq!(first.0, first.1);
        assert!(errs.iter().all(|e| *e == first));
    }
}

#[test]
fn cancel_cascades_to_children_and_grandchildren() {
    let (root, cancel) = Context::background().with_cancel();
    let (a, _ca) = root.with_cancel();
    let (b, _cb) = root.with_timeout(LONG);
    let (a1, _ca1) = a.with_cancel();
    let (b1, _cb1) = b.with_deadline(Instant::now() + LONG);
    let all = [&root, &a, &b, &a1, &b1];
    assert!(all.iter().all(|c| c.err().is_none()));
    cancel.cancel();
    for c in all {
        assert_eq!(c.err(), Some(ContextError::Canceled));
        assert_eq!(c.done().try_recv(), Err(TryRecvError::Closed));
    }
}

#[test]
fn a_deadline_cascades_with_deadline_exceeded() {
    let (root, _cancel) = Context::background().with_timeout(Duration::from_millis(10));
    let (child, _c1) = root.with_cancel();
    let (grandchild, _c2) = child.with_timeout(LONG);
    assert_eq!(grandchild.done().recv(), Err(RecvError));
    assert_eq!(grandchild.err(), Some(ContextError::DeadlineExceeded));
    assert_eq!(child.err(), Some(ContextError::DeadlineExceeded));
}

#[test]
fn a_child_of_a_cancelled_parent_is_born_cancelled() {
    let (root, cancel) = Context::background().with_cancel();
    cancel.cancel();
    let (child, _c) = root.with_timeout(LONG);
    assert_eq!(child.err(), Some(ContextError::Canceled));
    assert_eq!(child.done().try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn cancelling_a_child_does_not_cancel_its_parent_or_siblings() {
    let (root, _cancel) = Context::background().with_cancel();
    let (a, cancel_a) = root.with_cancel();
    let (b, _cb) = root.with_cancel();
    let (a1, _ca1) = a.with_cancel();
    cancel_a.cancel();
    assert_eq!(a.err(), Some(ContextError::Canceled));
    assert_eq!(a1.err(), Some(ContextError::Canceled));
    assert_eq!(root.err(), None);
    assert_eq!(b.err(), None);
    assert_eq!(root.done().try_recv(), Err(TryRecvError::Empty));
    // A child's deadline does not reach the parent either.
    let (t, _ct) = root.with_timeout(Duration::from_millis(1));
    assert_eq!(t.done().recv(), Err(RecvError));
    assert_eq!(root.err(), None);
}

#[test]
fn with_timeout_fires_deadline_exceeded_within_generous_bounds() {
    let start = Instant::now();
    let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(50));
    assert_eq!(ctx.err(), None);
    assert_eq!(ctx.done().recv(), Err(RecvError));
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(50), "fired early: {took:?}");
    assert!(took < Duration::from_secs(5), "fired late: {took:?}");
    assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
}

#[test]
fn a_past_deadline_cancels_at_once() {
    let (ctx, _cancel) = Context::background().with_deadline(Instant::now());
    assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
    assert_eq!(ctx.done().try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn cancel_before_the_deadline_wins() {
    let (ctx, cancel) = Context::background().with_timeout(Duration::from_millis(20));
    cancel.cancel();
    thread::sleep(Duration::from_millis(40));
    assert_eq!(ctx.err(), Some(ContextError::Canceled));
}

#[test]
fn a_huge_timeout_means_no_deadline() {
    let (ctx, _cancel) = Context::background().with_timeout(Duration::MAX);
    assert_eq!(ctx.deadline(), None);
    assert_eq!(ctx.err(), None);
}

#[test]
fn deadline_is_the_earlier_of_own_and_parent() {
    let now = Instant::now();
    let near = now + Duration::from_secs(10);
    let far = now + Duration::from_secs(20);
    let (parent, _c) = Context::background().with_deadline(far);
    assert_eq!(parent.deadline(), Some(far));
    let (earlier, _c1) = parent.with_deadline(near);
    assert_eq!(earlier.deadline(), Some(near));
    let (later, _c2) = earlier.with_deadline(far + LONG);
    assert_eq!(later.deadline(), Some(near));
    let (plain, _c3) = earlier.with_cancel();
    assert_eq!(plain.deadline(), Some(near));
    let (timeout, _c4) = parent.with_timeout(LONG);
    assert_eq!(timeout.deadline(), Some(far));
    assert_eq!(Context::background().with_cancel().0.deadline(), None);
}

#[test]
fn done_is_usable_in_select_with_other_cases() {
    let (ctx, cancel) = Context::background().with_cancel();
    let (tx, rx) = unbounded::<u32>();
    let worker = thread::spawn(move || {
        let mut sum = 0;
        loop {
            select! {
                recv(rx) -> v => sum += v.unwrap(),
                recv(ctx.done()) -> r => {
                    assert_eq!(r, Err(RecvError));
                    return (sum, ctx.err());
                }
            }
        }
    });
    for i in 1..=3 {
        tx.send(i).unwrap();
    }
    while !tx.is_empty() {
        thread::sleep(Duration::from_millis(1));
    }
    cancel.cancel();
    assert_eq!(worker.join().unwrap(), (6, Some(ContextError::Canceled)));
}

#[test]
fn done_is_usable_in_select_async() {
    let (ctx, cancel) = Context::background().with_timeout(Duration::from_millis(10));
    let (_tx, rx) = unbounded::<u32>();
    let got = futures::executor::block_on(async {
        hoare_chan::select_async! {
            recv(rx) -> _ => None,
            recv(ctx.done()) -> _ => ctx.err(),
        }
    });
    assert_eq!(got, Some(ContextError::DeadlineExceeded));
    cancel.cancel();
}

#[test]
fn background_is_never_done() {
    let ctx = Context::background();
    assert_eq!(ctx.err(), None);
    assert_eq!(ctx.deadline(), None);
    assert!(!ctx.is_done());
    assert_eq!(ctx.done().try_recv(), Err(TryRecvError::Empty));
    select! {
        recv(ctx.done()) -> _ => panic!("background() was cancelled"),
        default(Duration::from_millis(10)) => {}
    }
    assert_eq!(Context::default().err(), None);
    // Its children are cancelled only by their own means.
    let (child, cancel) = ctx.with_cancel();
    assert_eq!(child.err(), None);
    cancel.cancel();
    assert_eq!(ctx.err(), None);
}

#[test]
fn clones_share_cancellation() {
    let (ctx, cancel) = Context::background().with_cancel();
    let clone = ctx.clone();
    let (child_of_clone, _c) = clone.with_cancel();
    let waiter = thread::spawn(move || (clone.done().recv(), clone.err()));
    cancel.cancel();
    assert_eq!(
        waiter.join().unwrap(),
        (Err(RecvError), Some(ContextError::Canceled))
    );
    assert_eq!(ctx.err(), Some(ContextError::Canceled));
    assert_eq!(child_of_clone.err(), Some(ContextError::Canceled));
}

#[test]
fn a_clone_of_done_fires_even_after_every_context_handle_is_dropped() {
    // Only the `Cancel` and a receiver are left.
    let (ctx, cancel) = Context::background().with_cancel();
    let done = ctx.done().clone();
    drop(ctx);
    assert_eq!(done.try_recv(), Err(TryRecvError::Empty));
    cancel.cancel();
    assert_eq!(done.try_recv(), Err(TryRecvError::Closed));

    // Only the parent can cancel it now.
    let (parent, cancel_parent) = Context::background().with_cancel();
    let (child, _) = parent.with_cancel();
    let (grandchild, _) = child.with_cancel();
    let done = grandchild.done().clone();
    drop((child, grandchild));
    for _ in 0..100 {
        parent.with_cancel(); // makes the parent prune its children
    }
    assert_eq!(done.try_recv(), Err(TryRecvError::Empty));
    cancel_parent.cancel();
    assert_eq!(done.try_recv(), Err(TryRecvError::Closed));

    // Only its timer can cancel it now.
    let done = Context::background()
        .with_timeout(Duration::from_millis(10))
        .0
        .done()
        .clone();
    assert_eq!(done.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(done.recv(), Err(RecvError));
}

#[test]
fn done_of_a_context_nobody_can_cancel_never_closes() {
    let done = Context::background().with_cancel().0.done().clone();
    assert_eq!(
        done.recv_timeout(Duration::from_millis(20)),
        Err(hoare_chan::RecvTimeoutError::Timeout)
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "memory accounting over 10,000s of contexts is far too slow under Miri; context.rs has no unsafe code"
)]
fn many_children_created_and_dropped_do_not_accumulate() {
    // A long-lived parent with a deadline, so `with_timeout` children
    // inherit it and need no timer of their own.
    let (parent, cancel) = Context::background().with_timeout(LONG);
    let churn = |n: usize| {
        for i in 0..n {
            let (child, c) = match i % 3 {
                0 => parent.with_cancel(),
                1 => parent.with_timeout(2 * LONG),
                _ => parent.with_deadline(Instant::now() + 3 * LONG),
            };
            let (grandchild, _) = child.with_cancel();
            if i % 2 == 0 {
                c.cancel();
            }
            drop((child, grandchild, c));
        }
    };
    churn(1_000); // the parent's list reaches its steady size
    let before = live_bytes();
    churn(100_000);
    let grown = live_bytes() - before;
    // 100,000 kept children would be tens of megabytes.
    assert!(grown < 4096, "{grown} bytes left behind");

    // Children whose `Cancel` is kept but whose contexts are dropped are
    // not kept by the parent either.
    let before = live_bytes();
    let cancels: Vec<Cancel> = (0..10_000).map(|_| parent.with_cancel().1).collect();
    let with_cancels = live_bytes() - before;
    drop(cancels);
    let after = live_bytes() - before;
    assert!(
        after < with_cancels / 10,
        "{after} of {with_cancels} bytes left behind"
    );
    cancel.cancel();
}

#[test]
fn contexts_are_clone_send_sync_debug() {
    fn check<T: Clone + Send + Sync + std::fmt::Debug + 'static>() {}
    check::<Context>();
    check::<Cancel>();
    check::<ContextError>();
    let (ctx, cancel) = Context::background().with_cancel();
    assert!(format!("{ctx:?}").contains("err: None"));
    cancel.cancel();
    assert!(format!("{ctx:?}").contains("Canceled"));
    assert!(format!("{cancel:?}").contains("Canceled"));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "memory accounting over 10,000s of contexts is far too slow under Miri; context.rs has no unsafe code"
)]
fn cancel_releases_a_timeout_context_before_its_deadline() {
    Context::background().with_timeout(LONG).1.cancel(); // timer thread up
    let before = live_bytes();
    for _ in 0..10_000 {
        let (_ctx, cancel) = Context::background().with_timeout(LONG);
        cancel.cancel();
    }
    // What stays until the deadline is the timer's empty entry (a heap
    // slot and an empty waker cell), not the context (over 300 bytes).
    let per_context = (live_bytes() - before) / 10_000;
    assert!(
        per_context < 200,
        "{per_context} bytes per cancelled context"
    );
}
