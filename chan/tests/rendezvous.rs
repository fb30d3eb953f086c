//! The unbuffered channel, `bounded(0)`: a send completes only when a
//! receiver has taken the value, and the non-blocking operations succeed
//! only against a partner that is already waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::Poll;
use std::thread;
use std::time::Duration;

use hoare_chan::{TryRecvError, TrySendError, bounded};

mod util;
use util::{poll_once, settle};

const N: usize = if cfg!(miri) { 5 } else { 200 };

#[test]
fn send_returns_only_after_a_receiver_took_the_value() {
    let (tx, rx) = bounded(0);
    let receiving = Arc::new(AtomicBool::new(false));
    let r = receiving.clone();
    let receiver = thread::spawn(move || {
        // The sender is blocked by now (unless the channel buffers).
        settle();
        settle();
        r.store(true, Ordering::SeqCst);
        rx.recv().unwrap()
    });
    tx.send(7).unwrap();
    // A send that returned without a receiver would see `false` here.
    assert!(
        receiving.load(Ordering::SeqCst),
        "send returned before any receiver called recv"
    );
    assert_eq!(receiver.join().unwrap(), 7);
}

#[test]
fn every_send_waits_for_its_own_receive() {
    // The receiver announces each receive before making it and pauses
    // between receives; each send must have been matched by a receive that
    // had started, so the sender can never run ahead by even one value.
    let (tx, rx) = bounded(0);
    let started = Arc::new(AtomicUsize::new(0));
    let s = started.clone();
    let rounds = if cfg!(miri) { 3 } else { 20 };
    let receiver = thread::spawn(move || {
        for i in 0..rounds {
            thread::sleep(Duration::from_millis(2));
            s.fetch_add(1, Ordering::SeqCst);
            assert_eq!(rx.recv(), Ok(i));
        }
    });
    for i in 0..rounds {
        tx.send(i).unwrap();
        assert!(
            started.load(Ordering::SeqCst) > i,
            "send {i} returned before receive {i} began"
        );
    }
    receiver.join().unwrap();
}

#[test]
fn send_without_a_receiver_times_out_and_keeps_the_value() {
    let (tx, rx) = bounded(0);
    let err = tx
        .send_timeout(String::from("kept"), Duration::from_millis(20))
        .unwrap_err();
    assert!(err.is_timeout());
    assert_eq!(err.into_inner(), "kept");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn try_send_without_a_waiting_receiver_is_full() {
    let (tx, rx) = bounded(0);
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn try_send_succeeds_when_a_thread_is_blocked_in_recv() {
    let (tx, rx) = bounded(0);
    let receiver = thread::spawn(move || rx.recv());
    // Retry until the receiver is blocked; each failure gives the value back.
    let mut v = 5;
    let mut tries = 0;
    loop {
        match tx.try_send(v) {
            Ok(()) => break,
            Err(TrySendError::Full(back)) => v = back,
            Err(TrySendError::Closed(_)) => panic!("closed"),
        }
        tries += 1;
        assert!(tries < 10_000, "the blocked receiver was never found");
        thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(receiver.join().unwrap(), Ok(5));
}

#[test]
fn try_recv_takes_the_value_of_a_blocked_sender() {
    let (tx, rx) = bounded(0);
    let sender = thread::spawn(move || tx.send(9));
    let mut tries = 0;
    let v = loop {
        match rx.try_recv() {
            Ok(v) => break v,
            Err(TryRecvError::Empty) => {}
            Err(TryRecvError::Closed) => panic!("closed before the send"),
        }
        tries += 1;
        assert!(tries < 10_000, "the blocked sender was never found");
        thread::sleep(Duration::from_millis(1));
    };
    assert_eq!(v, 9);
    assert_eq!(sender.join().unwrap(), Ok(()));
}

#[test]
fn try_send_hands_the_value_to_a_pending_async_receiver() {
    // A pending `recv_async` waits as a committed receiver, as a blocked
    // thread does: the send completes at once and the future has the value.
    let (tx, rx) = bounded(0);
    let mut fut = Box::pin(rx.recv_async());
    assert!(poll_once(fut.as_mut()).is_pending());
    assert_eq!(tx.try_send(3), Ok(()));
    assert_eq!(poll_once(fut.as_mut()), Poll::Ready(Ok(3)));
    assert_eq!(
        tx.try_send(4),
        Err(TrySendError::Full(4)),
        "nobody waits now"
    );
}

#[test]
fn a_dropped_async_receiver_gives_its_value_back_first_in_line() {
    let (tx, rx) = bounded(0);
    let mut fut = Box::pin(rx.recv_async());
    assert!(poll_once(fut.as_mut()).is_pending());
    assert_eq!(tx.try_send(1), Ok(()));
    // Dropped before it returned the value: the value is back in the
    // channel, counted by `len`, ahead of a sender that waits now.
    drop(fut);
    assert_eq!((rx.len(), tx.len()), (1, 1));
    thread::scope(|s| {
        let h = s.spawn(|| tx.send(2));
        settle();
        assert_eq!(rx.recv(), Ok(1));
        assert_eq!(rx.recv(), Ok(2));
        assert_eq!(h.join().unwrap(), Ok(()));
    });
    assert_eq!(rx.len(), 0);
    // After a close the value given back is still received first.
    let mut fut = Box::pin(rx.recv_async());
    assert!(poll_once(fut.as_mut()).is_pending());
    assert_eq!(tx.try_send(3), Ok(()));
    drop(fut);
    tx.close();
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn a_value_given_back_goes_to_a_waiting_receiver() {
    // A receiver already blocked when the value comes back gets it.
    let (tx, rx) = bounded(0);
    let mut fut = Box::pin(rx.recv_async());
    assert!(poll_once(fut.as_mut()).is_pending());
    assert_eq!(tx.try_send(7), Ok(()));
    thread::scope(|s| {
        let h = s.spawn(|| rx.recv());
        settle();
        drop(fut);
        assert_eq!(h.join().unwrap(), Ok(7));
    });
    assert_eq!(rx.len(), 0);
}

#[test]
fn unbuffered_channel_reports_no_room_and_no_values() {
    let (tx, rx) = bounded::<u8>(0);
    assert_eq!(tx.capacity(), Some(0));
    assert_eq!(rx.capacity(), Some(0));
    assert!(tx.is_full() && rx.is_full());
    assert!(tx.is_empty() && rx.is_empty());
    assert_eq!(tx.len(), 0);
    assert_eq!(rx.len(), 0);
    // Also while a sender waits: nothing is buffered.
    let t = thread::scope(|s| {
        let h = s.spawn(|| tx.send(1));
        settle();
        assert_eq!(rx.len(), 0);
        assert_eq!(rx.recv(), Ok(1));
        h.join().unwrap()
    });
    assert_eq!(t, Ok(()));
}

#[test]
fn many_rendezvous_deliver_in_order() {
    let (tx, rx) = bounded(0);
    let sender = thread::spawn(move || {
        for i in 0..N {
            tx.send(i).unwrap();
        }
    });
    let got: Vec<usize> = rx.iter().collect();
    assert_eq!(got, (0..N).collect::<Vec<_>>());
    sender.join().unwrap();
}

#[test]
fn receiver_waiting_first_gets_the_value_of_a_later_sender() {
    let (tx, rx) = bounded(0);
    let receiver = thread::spawn(move || rx.recv());
    settle();
    tx.send("late").unwrap();
    assert_eq!(receiver.join().unwrap(), Ok("late"));
}

#[test]
fn several_blocked_senders_are_each_received_once() {
    let (tx, rx) = bounded(0);
    let senders: Vec<_> = (0..4)
        .map(|i| {
            let tx = tx.clone();
            thread::spawn(move || tx.send(i).unwrap())
        })
        .collect();
    drop(tx);
    let mut got: Vec<i32> = rx.iter().collect();
    got.sort_unstable();
    assert_eq!(got, [0, 1, 2, 3]);
    for s in senders {
        s.join().unwrap();
    }
}

#[test]
fn try_send_hands_the_value_to_a_receiver_blocked_in_select() {
    // A select's receive case waits as a committed receiver, as Go's
    // does: `try_send` completes at once and the select fires that case
    // with the value; the other case was handed nothing, and once the
    // select is over nobody waits on its channel.
    let (tx, rx) = bounded::<u32>(0);
    let (other_tx, other_rx) = bounded::<u32>(0);
    thread::scope(|s| {
        let receiver = s.spawn(|| {
            hoare_chan::select! {
                recv(rx) -> v => v,
                recv(other_rx) -> _ => panic!("wrong case"),
            }
        });
        // Once the select waits, `try_send` succeeds (a wake-only case
        // would leave it `Full` for good).
        let mut tries = 0;
        while tx.try_send(1) == Err(TrySendError::Full(1)) {
            tries += 1;
            assert!(tries < 10_000, "try_send never found the select");
            thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(receiver.join().unwrap(), Ok(1));
    });
    assert_eq!(other_tx.try_send(2), Err(TrySendError::Full(2)));
    assert_eq!(tx.try_send(3), Err(TrySendError::Full(3)));
}

#[test]
fn of_two_sends_racing_to_one_select_exactly_one_is_taken() {
    for _ in 0..50 {
        let (a_tx, a_rx) = bounded::<u32>(0);
        let (b_tx, b_rx) = bounded::<u32>(0);
        let (got, a, b) = thread::scope(|s| {
            let receiver = s.spawn(|| {
                hoare_chan::select! {
                    recv(a_rx) -> v => v.unwrap(),
                    recv(b_rx) -> v => v.unwrap(),
                }
            });
            thread::sleep(Duration::from_millis(2));
            let a = s.spawn(|| a_tx.try_send(1));
            let b = s.spawn(|| b_tx.try_send(2));
            let (a, b) = (a.join().unwrap(), b.join().unwrap());
            if a.is_err() && b.is_err() {
                // Neither found the select registered yet: let it finish.
                a_tx.send(1).unwrap();
                return (receiver.join().unwrap(), Ok(()), Err(TrySendError::Full(2)));
            }
            (receiver.join().unwrap(), a, b)
        });
        match (a, b) {
            (Ok(()), Err(TrySendError::Full(2))) => assert_eq!(got, 1),
            (Err(TrySendError::Full(1)), Ok(())) => assert_eq!(got, 2),
            other => panic!("one send and only one must be taken: {other:?}"),
        }
        assert!(a_rx.try_recv().is_err() && b_rx.try_recv().is_err());
    }
}
