//! `send_async` and `recv_async`: on tokio's multi-thread runtime and on
//! `futures::executor`, mixed with blocking threads on the same channel at
//! the same time; pending futures are woken by their partner and by close;
//! and cancel-safety: dropping a pending `recv_async` loses no value and
//! passes its wake-up on, dropping a pending `send_async` delivers the
//! value completely or not at all.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::thread;
use std::time::Duration;

use futures::executor::block_on;
use hoare_chan::{RecvError, SendError, TryRecvError};

mod util;
use util::{
    BLOCKING_SEND, BUFFERED, CountingWaker, Drops, FLAVORS, Flavor, eventually, poll_once,
    poll_with, settle,
};

const N: usize = if cfg!(miri) { 10 } else { 2_000 };

/// Records each received id once; panics on a second receipt.
fn record(seen: &[AtomicBool], id: usize) {
    assert!(
        !seen[id].swap(true, Ordering::SeqCst),
        "value {id} received twice"
    );
}

fn all_seen(seen: &[AtomicBool]) -> bool {
    seen.iter().all(|s| s.load(Ordering::SeqCst))
}

#[test]
#[cfg_attr(miri, ignore = "tokio's runtime does not run under Miri")]
fn async_senders_and_receivers_on_tokio_deliver_each_value_once() {
    let rt = util::tokio_rt();
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<usize>();
        let seen: Arc<Vec<AtomicBool>> =
            Arc::new((0..2 * N).map(|_| AtomicBool::new(false)).collect());
        rt.block_on(async {
            let producers: Vec<_> = (0..2)
                .map(|p| {
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        for i in 0..N {
                            tx.send_async(p * N + i).await.unwrap();
                        }
                    })
                })
                .collect();
            let consumers: Vec<_> = (0..2)
                .map(|_| {
                    let (rx, seen) = (rx.clone(), seen.clone());
                    tokio::spawn(async move {
                        while let Ok(v) = rx.recv_async().await {
                            record(&seen, v);
                        }
                    })
                })
                .collect();
            for p in producers {
                p.await.unwrap();
            }
            drop(tx);
            for c in consumers {
                c.await.unwrap();
            }
        });
        assert!(all_seen(&seen), "{flavor:?}: a value was lost");
    }
}

#[test]
#[cfg_attr(miri, ignore = "tokio's runtime does not run under Miri")]
fn tokio_tasks_and_blocking_threads_share_a_channel_at_the_same_time() {
    let rt = util::tokio_rt();
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<usize>();
        let seen: Arc<Vec<AtomicBool>> =
            Arc::new((0..3 * N).map(|_| AtomicBool::new(false)).collect());
        // Producers: a blocking thread, a tokio task, a futures executor thread.
        let blocking_tx = tx.clone();
        let blocking_producer = thread::spawn(move || {
            for i in 0..N {
                blocking_tx.send(i).unwrap();
            }
        });
        let task_tx = tx.clone();
        let task_producer = rt.spawn(async move {
            for i in N..2 * N {
                task_tx.send_async(i).await.unwrap();
            }
        });
        let exec_tx = tx.clone();
        let exec_producer = thread::spawn(move || {
            block_on(async {
                for i in 2 * N..3 * N {
                    exec_tx.send_async(i).await.unwrap();
                }
            });
        });
        drop(tx);
        // Consumers: a blocking thread, a tokio task, a futures executor thread.
        let consumers: Vec<thread::JoinHandle<()>> = vec![
            {
                let (rx, seen) = (rx.clone(), seen.clone());
                thread::spawn(move || rx.iter().for_each(|v| record(&seen, v)))
            },
            {
                let (rx, seen) = (rx.clone(), seen.clone());
                thread::spawn(move || {
                    block_on(async {
                        while let Ok(v) = rx.recv_async().await {
                            record(&seen, v);
                        }
                    });
                })
            },
        ];
        let task_consumer = {
            let (rx, seen) = (rx.clone(), seen.clone());
            rt.spawn(async move {
                while let Ok(v) = rx.recv_async().await {
                    record(&seen, v);
                }
            })
        };
        drop(rx);
        blocking_producer.join().unwrap();
        exec_producer.join().unwrap();
        rt.block_on(task_producer).unwrap();
        rt.block_on(task_consumer).unwrap();
        for c in consumers {
            c.join().unwrap();
        }
        assert!(all_seen(&seen), "{flavor:?}: a value was lost");
    }
}

#[test]
fn futures_executor_threads_and_blocking_threads_share_a_channel() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<usize>();
        let seen: Arc<Vec<AtomicBool>> =
            Arc::new((0..2 * N).map(|_| AtomicBool::new(false)).collect());
        let async_tx = tx.clone();
        let async_producer = thread::spawn(move || {
            block_on(async {
                for i in 0..N {
                    async_tx.send_async(i).await.unwrap();
                }
            })
        });
        let blocking_producer = thread::spawn(move || {
            for i in N..2 * N {
                tx.send(i).unwrap();
            }
        });
        let (rx2, seen2) = (rx.clone(), seen.clone());
        let blocking_consumer = thread::spawn(move || rx2.iter().for_each(|v| record(&seen2, v)));
        block_on(async {
            while let Ok(v) = rx.recv_async().await {
                record(&seen, v);
            }
        });
        async_producer.join().unwrap();
        blocking_producer.join().unwrap();
        blocking_consumer.join().unwrap();
        assert!(all_seen(&seen), "{flavor:?}: a value was lost");
    }
}

#[test]
fn an_async_sender_and_receiver_in_one_task_meet() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<usize>();
        let n = if cfg!(miri) { 5 } else { 100 };
        block_on(async {
            let send_all = async {
                for i in 0..n {
                    tx.send_async(i).await.unwrap();
                }
            };
            let recv_all = async {
                let mut got = Vec::new();
                for _ in 0..n {
                    got.push(rx.recv_async().await.unwrap());
                }
                got
            };
            let ((), got) = futures::join!(send_all, recv_all);
            assert_eq!(got, (0..n).collect::<Vec<_>>(), "{flavor:?}");
        });
    }
}

#[test]
fn a_pending_recv_async_is_woken_by_a_blocking_send() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<u32>();
        let (waker, wakes) = CountingWaker::new();
        let mut fut = rx.recv_async();
        assert!(poll_with(std::pin::Pin::new(&mut fut), &waker).is_pending());
        let sender = thread::spawn(move || {
            tx.send(11).unwrap();
            tx // kept open: a close would wake the future too
        });
        eventually("the pending receive is woken", || wakes.count() > 0);
        assert_eq!(
            poll_with(std::pin::Pin::new(&mut fut), &waker),
            Poll::Ready(Ok(11)),
            "{flavor:?}"
        );
        drop(sender.join().unwrap());
    }
}

#[test]
fn a_pending_send_async_is_woken_by_a_blocking_recv() {
    for flavor in BLOCKING_SEND {
        let (tx, rx) = flavor.make::<usize>();
        flavor.fill(&tx, |i| i);
        let cap = flavor.capacity().unwrap();
        let (waker, wakes) = CountingWaker::new();
        let mut fut = tx.send_async(cap);
        assert!(poll_with(std::pin::Pin::new(&mut fut), &waker).is_pending());
        let receiver = thread::spawn(move || {
            let first = rx.recv();
            (first, rx)
        });
        eventually("the pending send is woken", || wakes.count() > 0);
        assert_eq!(
            poll_with(std::pin::Pin::new(&mut fut), &waker),
            Poll::Ready(Ok(())),
            "{flavor:?}"
        );
        drop(fut);
        let (first, rx) = receiver.join().unwrap();
        if cap == 0 {
            // The receive took the async send's value itself.
            assert_eq!(first, Ok(0));
        } else {
            assert_eq!(first, Ok(0));
            drop(tx);
            assert_eq!(rx.iter().collect::<Vec<_>>(), (1..=cap).collect::<Vec<_>>());
        }
    }
}

/// Polls `fut` once with one waker and once with a second (both pending),
/// then runs `partner` in a thread, which must complete it. Checks that
/// only the second waker is woken and returns the output with what
/// `partner` returned.
fn complete_after_moving_to_another_task<F, R>(
    mut fut: F,
    partner: impl FnOnce() -> R + Send + 'static,
) -> (F::Output, R)
where
    F: std::future::Future + Unpin,
    R: Send + 'static,
{
    let (first, first_wakes) = CountingWaker::new();
    let (second, second_wakes) = CountingWaker::new();
    assert!(poll_with(std::pin::Pin::new(&mut fut), &first).is_pending());
    assert!(poll_with(std::pin::Pin::new(&mut fut), &second).is_pending());
    let partner = thread::spawn(partner);
    eventually("the second task is woken", || second_wakes.count() > 0);
    assert_eq!(first_wakes.count(), 0, "the old task is not woken");
    let out = match poll_with(std::pin::Pin::new(&mut fut), &second) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("woken but not complete"),
    };
    (out, partner.join().unwrap())
}

/// A pending future moved to another task (polled with a new waker) is
/// woken through the new waker, not the old one: the last poll's task is
/// the one to wake, as the `Future` contract asks.
#[test]
fn a_pending_future_polled_by_another_task_wakes_that_task() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<u32>();
        // The sender is kept open: a close would wake the future too.
        let (got, _tx) = complete_after_moving_to_another_task(rx.recv_async(), move || {
            tx.send(5).unwrap();
            tx
        });
        assert_eq!(got, Ok(5), "{flavor:?}");
    }
    for flavor in BLOCKING_SEND {
        let (tx, rx) = flavor.make::<usize>();
        flavor.fill(&tx, |i| i);
        let (sent, (got, _rx)) =
            complete_after_moving_to_another_task(tx.send_async(99), move || (rx.recv(), rx));
        assert_eq!(sent, Ok(()), "{flavor:?}");
        // Unbuffered: the receive took the send's value itself.
        let first_value = if flavor.capacity() == Some(0) { 99 } else { 0 };
        assert_eq!(got, Ok(first_value), "{flavor:?}");
    }
}

#[test]
fn close_wakes_pending_async_receivers_and_senders() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<usize>();
        let (waker, wakes) = CountingWaker::new();
        let mut r1 = rx.recv_async();
        let mut r2 = rx.recv_async();
        assert!(poll_with(std::pin::Pin::new(&mut r1), &waker).is_pending());
        assert!(poll_with(std::pin::Pin::new(&mut r2), &waker).is_pending());
        assert!(tx.close());
        assert!(
            wakes.count() >= 2,
            "{flavor:?}: close did not wake both receivers"
        );
        assert_eq!(
            poll_with(std::pin::Pin::new(&mut r1), &waker),
            Poll::Ready(Err(RecvError))
        );
        assert_eq!(
            poll_with(std::pin::Pin::new(&mut r2), &waker),
            Poll::Ready(Err(RecvError))
        );
    }
    for flavor in BLOCKING_SEND {
        let (tx, _rx) = flavor.make::<usize>();
        flavor.fill(&tx, |i| i);
        let (waker, wakes) = CountingWaker::new();
        let mut s = tx.send_async(77);
        assert!(poll_with(std::pin::Pin::new(&mut s), &waker).is_pending());
        assert!(tx.close());
        assert!(
            wakes.count() >= 1,
            "{flavor:?}: close did not wake the sender"
        );
        assert_eq!(
            poll_with(std::pin::Pin::new(&mut s), &waker),
            Poll::Ready(Err(SendError(77))),
            "{flavor:?}: the value must come back"
        );
    }
}

#[test]
fn dropping_a_pending_recv_async_loses_no_value() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<u32>();
        let mut fut = Box::pin(rx.recv_async());
        assert!(poll_once(fut.as_mut()).is_pending());
        // The value arrives while the future is registered...
        let sender = thread::spawn(move || {
            tx.send(5).unwrap();
            tx
        });
        // A buffered send completes at once; an unbuffered one waits for a
        // receiver, so give it time to find the future instead.
        settle();
        // ...and the future goes away without being polled again.
        drop(fut);
        let other = rx.clone();
        assert_eq!(
            other.recv_timeout(util::HANG),
            Ok(5),
            "{flavor:?}: the value was lost"
        );
        drop(sender.join().unwrap());
    }
}

#[test]
fn a_dropped_woken_recv_async_passes_its_wakeup_to_another_pending_receiver() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<u32>();
        let (w1, wakes1) = CountingWaker::new();
        let (w2, wakes2) = CountingWaker::new();
        let mut f1 = Box::pin(rx.recv_async());
        let mut f2 = Box::pin(rx.recv_async());
        assert!(poll_with(f1.as_mut(), &w1).is_pending());
        assert!(poll_with(f2.as_mut(), &w2).is_pending());
        // The sender stays alive: a close would wake every future.
        let sender = thread::spawn(move || {
            tx.send(8).unwrap();
            tx
        });
        eventually("one receiver is woken", || {
            wakes1.count() + wakes2.count() > 0
        });
        // Drop whichever was woken, without polling it.
        let (mut other, other_wakes) = if wakes1.count() > 0 {
            drop(f1);
            (f2, wakes2)
        } else {
            drop(f2);
            (f1, wakes1)
        };
        eventually("the wake-up is passed on", || other_wakes.count() > 0);
        assert_eq!(poll_once(other.as_mut()), Poll::Ready(Ok(8)), "{flavor:?}");
        drop(sender.join().unwrap());
    }
}

#[test]
fn a_dropped_woken_recv_async_passes_its_wakeup_to_a_blocked_thread() {
    for flavor in BUFFERED {
        let (tx, rx) = flavor.make::<u32>();
        let (w1, wakes1) = CountingWaker::new();
        let mut f1 = Box::pin(rx.recv_async());
        assert!(poll_with(f1.as_mut(), &w1).is_pending());
        let rx2 = rx.clone();
        let blocked = thread::spawn(move || rx2.recv_timeout(util::HANG));
        settle();
        tx.send(4).unwrap();
        // Whoever was woken: if the future was, dropping it must not strand
        // the value while the thread sleeps.
        if wakes1.count() > 0 {
            drop(f1);
            assert_eq!(blocked.join().unwrap(), Ok(4), "{flavor:?}");
        } else {
            let got = blocked.join().unwrap();
            assert_eq!(got, Ok(4), "{flavor:?}");
            drop(f1);
        }
    }
}

#[test]
fn dropping_a_pending_unbuffered_send_async_delivers_nothing() {
    let drops = Drops::new();
    let (tx, rx) = Flavor::Zero.make();
    let mut fut = Box::pin(tx.send_async(drops.make(1)));
    assert!(poll_once(fut.as_mut()).is_pending());
    assert_eq!(drops.get(), 0);
    drop(fut);
    assert_eq!(
        drops.get(),
        1,
        "the unsent value is dropped with the future"
    );
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Empty)));
    assert!(rx.recv_timeout(Duration::from_millis(20)).is_err());
    assert_eq!(drops.get(), 1);
}

#[test]
fn dropping_a_pending_send_async_on_a_channel_that_stays_full_delivers_nothing() {
    for flavor in [Flavor::One, Flavor::Sixteen] {
        let drops = Drops::new();
        let (tx, rx) = flavor.make();
        flavor.fill(&tx, |i| drops.make(i));
        let cap = flavor.capacity().unwrap();
        let mut fut = Box::pin(tx.send_async(drops.make(999)));
        assert!(poll_once(fut.as_mut()).is_pending());
        drop(fut);
        assert_eq!(
            drops.get(),
            1,
            "{flavor:?}: only the pending value is dropped"
        );
        drop(tx);
        let ids: Vec<usize> = rx.iter().map(|c| c.id).collect();
        assert_eq!(
            ids,
            (0..cap).collect::<Vec<_>>(),
            "{flavor:?}: the dropped send was delivered"
        );
        drop(rx);
        assert_eq!(drops.get(), cap + 1);
    }
}

#[test]
fn a_receive_that_makes_room_completes_a_pending_send_async() {
    // As Go hands a blocked sender's value over when a receive frees a
    // slot, the receive moves the pending future's value into the channel:
    // the send is complete (the future returns `Ok` when polled), and
    // dropping the future instead of polling it loses nothing.
    for (flavor, poll_after) in [
        (Flavor::One, false),
        (Flavor::Sixteen, false),
        (Flavor::One, true),
        (Flavor::Sixteen, true),
    ] {
        let drops = Drops::new();
        let (tx, rx) = flavor.make();
        flavor.fill(&tx, |i| drops.make(i));
        let cap = flavor.capacity().unwrap();
        let mut fut = Box::pin(tx.send_async(drops.make(999)));
        assert!(poll_once(fut.as_mut()).is_pending());
        let first = rx.recv().unwrap();
        assert_eq!(first.id, 0);
        if poll_after {
            assert!(matches!(poll_once(fut.as_mut()), Poll::Ready(Ok(()))));
        }
        drop(fut);
        assert_eq!(drops.get(), 0, "{flavor:?}: the future dropped no value");
        assert_eq!(tx.len(), cap, "{flavor:?}: the value is in the channel");
        drop(tx);
        let ids: Vec<usize> = rx.iter().map(|c| c.id).collect();
        let mut expected: Vec<usize> = (1..cap).collect();
        expected.push(999);
        assert_eq!(ids, expected, "{flavor:?}: delivered once, in order");
        drop(first);
        drop(rx);
        assert_eq!(drops.get(), cap + 1);
    }
}

#[test]
fn a_dropped_send_async_racing_a_receiver_delivers_all_or_nothing() {
    // A pending unbuffered send is dropped while a receiver may be taking
    // its value. Either the receiver has it (and the future dropped
    // nothing), or the receiver got nothing and the future dropped it.
    let rounds = if cfg!(miri) { 6 } else { 300 };
    let mut rng = util::Rng::new(7);
    let (mut delivered, mut withdrawn) = (0, 0);
    for round in 0..rounds {
        let drops = Drops::new();
        let (tx, rx) = Flavor::Zero.make();
        let mut fut = Box::pin(tx.send_async(drops.make(round)));
        assert!(poll_once(fut.as_mut()).is_pending());
        let late = Duration::from_micros(rng.below(400));
        let wait = Duration::from_micros(rng.below(300));
        let receiver = thread::spawn(move || {
            thread::sleep(late);
            rx.recv_timeout(wait).ok()
        });
        thread::sleep(Duration::from_micros(rng.below(300)));
        let polled = if rng.below(2) == 0 {
            poll_once(fut.as_mut())
        } else {
            Poll::Pending
        };
        drop(fut);
        let got = receiver.join().unwrap();
        match got {
            Some(v) => {
                assert_eq!(v.id, round);
                assert_eq!(drops.get(), 0, "delivered and dropped by the future too");
                drop(v);
                delivered += 1;
            }
            None => {
                assert!(
                    !matches!(polled, Poll::Ready(Ok(()))),
                    "the send reported success but nobody received"
                );
                withdrawn += 1;
            }
        }
        // A second poll after the receiver timed out and dropped its end
        // finds the channel closed and hands the value back in its error:
        // the caller owns it then, and it is dropped here (holding on to
        // it past the count made this test fail now and then, with the
        // value alive in `polled`).
        drop(polled);
        assert_eq!(
            drops.get(),
            1,
            "round {round}: the value must be dropped exactly once"
        );
    }
    // Both outcomes are legal; the rounds above only prove consistency.
    let _ = (delivered, withdrawn);
}

#[test]
#[cfg_attr(miri, ignore = "tokio's runtime does not run under Miri")]
fn tokio_timeouts_cancelling_receives_and_sends_lose_and_duplicate_nothing() {
    let rt = util::tokio_rt();
    for flavor in FLAVORS {
        let drops = Drops::new();
        let (tx, rx) = flavor.make::<util::Counted>();
        let total = N;
        let seen: Arc<Vec<AtomicBool>> =
            Arc::new((0..total).map(|_| AtomicBool::new(false)).collect());
        let (sent, received) = rt.block_on(async {
            let producer = {
                let drops = drops.clone();
                tokio::spawn(async move {
                    let mut sent = 0;
                    for i in 0..total {
                        // Each value gets one short chance; a cancelled send
                        // drops it (counted) and is not delivered.
                        let r = tokio::time::timeout(
                            Duration::from_micros(50),
                            tx.send_async(drops.make(i)),
                        )
                        .await;
                        if matches!(r, Ok(Ok(()))) {
                            sent += 1;
                        }
                    }
                    sent
                })
            };
            let consumers: Vec<_> = (0..2)
                .map(|_| {
                    let (rx, seen) = (rx.clone(), seen.clone());
                    tokio::spawn(async move {
                        let mut n = 0;
                        loop {
                            match tokio::time::timeout(Duration::from_micros(70), rx.recv_async())
                                .await
                            {
                                Ok(Ok(v)) => {
                                    record(&seen, v.id);
                                    n += 1;
                                }
                                Ok(Err(RecvError)) => return n,
                                Err(_elapsed) => {}
                            }
                        }
                    })
                })
                .collect();
            drop(rx);
            let sent = producer.await.unwrap();
            let mut received = 0;
            for c in consumers {
                received += c.await.unwrap();
            }
            (sent, received)
        });
        // A send cancelled after its value was taken counts as delivered
        // without reporting Ok, so `received >= sent`; every received value
        // came from exactly one send.
        assert!(
            received >= sent,
            "{flavor:?}: {sent} sends succeeded, {received} received"
        );
        assert_eq!(
            drops.get(),
            total,
            "{flavor:?}: every value dropped exactly once"
        );
    }
}

/// A value too big for a signal's packet room, so that a waiting future's
/// packet goes on the heap (`OwnedPacket::in_room` falls back).
type Big = ([u64; 8], util::Counted);

#[test]
fn pending_futures_hand_over_values_too_big_for_the_signal_room() {
    for flavor in BLOCKING_SEND {
        let drops = Drops::new();
        let (tx, rx) = flavor.make::<Big>();
        // A pending receive, completed by a send.
        let mut recv = Box::pin(rx.recv_async());
        assert!(poll_once(recv.as_mut()).is_pending());
        if flavor == Flavor::Zero {
            let tx = tx.clone();
            let v = ([7; 8], drops.make(1));
            thread::spawn(move || tx.send(v).unwrap()).join().unwrap();
        } else {
            tx.send(([7; 8], drops.make(1))).unwrap();
        }
        match poll_once(recv.as_mut()) {
            Poll::Ready(Ok((a, c))) => assert_eq!((a, c.id), ([7; 8], 1), "{flavor:?}"),
            other => panic!("{flavor:?}: {:?}", other.map(|r| r.map(|(_, c)| c.id))),
        }
        drop(recv);
        // A pending send, dropped: its value is dropped once and never
        // delivered.
        if flavor != Flavor::Zero {
            flavor.fill(&tx, |i| ([0; 8], drops.make(100 + i)));
        }
        let before = drops.get();
        let mut send = Box::pin(tx.send_async(([9; 8], drops.make(2))));
        assert!(poll_once(send.as_mut()).is_pending(), "{flavor:?}");
        drop(send);
        assert_eq!(drops.get(), before + 1, "{flavor:?}: dropped once");
        drop(tx);
        assert!(
            rx.iter().all(|(_, c)| c.id != 2),
            "{flavor:?}: not delivered"
        );
    }
}

/// Polling a `send_async` future again after it completed is a caller's
/// bug; it panics with a clear message, whether the send completed at
/// once or after a wait (it must not wait forever on a spent case).
#[test]
fn a_send_future_polled_after_completion_panics_clearly() {
    for wait_first in [false, true] {
        let (tx, rx) = Flavor::One.make::<u32>();
        if wait_first {
            tx.send(0).unwrap();
        }
        let mut fut = Box::pin(tx.send_async(1));
        if wait_first {
            assert!(poll_once(fut.as_mut()).is_pending());
            assert_eq!(rx.recv(), Ok(0));
        }
        assert!(matches!(poll_once(fut.as_mut()), Poll::Ready(Ok(()))));
        let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = poll_once(fut.as_mut());
        }));
        let msg = again.expect_err("a second poll panics");
        let msg = msg
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| msg.downcast_ref::<String>().map(String::as_str))
            .unwrap_or_default()
            .to_owned();
        assert!(
            msg.contains("SendFuture polled after completion"),
            "wait_first {wait_first}: {msg}"
        );
        drop(fut);
        assert_eq!(rx.try_recv(), Ok(1), "wait_first {wait_first}");
    }
}
