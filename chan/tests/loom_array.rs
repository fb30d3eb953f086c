//! loom models of the buffered flavor (`bounded(n)`, n > 0): the stamped
//! ring's send/receive hand-off, the waiter lists' no-lost-wake-up
//! argument on a full and on an empty buffer, `close` against blocked
//! senders and receivers, `try_send`/`try_recv`, and wrap-around.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p hoare-chan --release --target-dir target/loom --test loom_array`.
//!
//! A blocked thread waits through loom, so a wake-up that is never sent
//! shows as a loom deadlock; the slots are loom cells, so a receiver
//! reading a slot the sender has not finished writing is a reported data
//! race. Spinning is off under loom.
#![cfg(loom)]

use hoare_chan::{TryRecvError, TrySendError, bounded};
use loom::thread;

mod loom_util;
use loom_util::{Counted, Drops, model, model_with_preemptions};

/// The buffer is full, so the sender blocks (on the senders' waiter list)
/// until the receiver frees the slot; the receive must wake it, whichever
/// side of its registration the receive lands on.
#[test]
fn receive_wakes_the_sender_blocked_on_a_full_buffer() {
    model(|| {
        let (tx, rx) = bounded::<usize>(1);
        tx.send(1).unwrap();
        let sender = thread::spawn(move || tx.send(2).unwrap());
        assert_eq!(rx.recv(), Ok(1));
        assert_eq!(rx.recv(), Ok(2));
        sender.join().unwrap();
    });
}

/// Two senders block on a one-slot buffer while the receiver takes both
/// values: a receive claims one waiting sender, which may lose the freed
/// slot to the other and must then wait again. Both values arrive, each
/// once.
///
/// One preemption: with three threads each blocking and re-registering,
/// two preemptions take some 160,000 executions (20 s here) or, while the
/// flavors yield before registering under loom, over 400 s; the
/// single-waiter hand-offs are checked at two preemptions by the other
/// models.
#[test]
fn two_senders_blocked_on_one_slot_both_get_through() {
    model_with_preemptions(1, || {
        let (tx, rx) = bounded::<usize>(1);
        let hs: Vec<_> = [1, 2]
            .into_iter()
            .map(|v| {
                let tx = tx.clone();
                thread::spawn(move || tx.send(v).unwrap())
            })
            .collect();
        // `tx` stays alive: a sender thread's drop must not close the
        // channel and so wake a receiver that missed its wake-up.
        let mut got = [rx.recv().unwrap(), rx.recv().unwrap()];
        for h in hs {
            h.join().unwrap();
        }
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
    });
}

/// Two receivers block on an empty buffer and the channel is closed: the
/// close must wake both (it claims every entry of the receivers' list).
#[test]
fn close_wakes_every_blocked_receiver() {
    model(|| {
        let (tx, rx) = bounded::<usize>(1);
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || rx.recv())
            })
            .collect();
        tx.close();
        for h in hs {
            assert!(h.join().unwrap().is_err());
        }
    });
}

/// A sender blocks on a full buffer and the channel is closed (nobody
/// receives): the close must wake it (it claims every entry of the
/// senders' list), and the send fails with its value back; the buffered
/// value is still received.
#[test]
fn close_wakes_the_sender_blocked_on_a_full_buffer() {
    model(|| {
        let (tx, rx) = bounded::<usize>(1);
        tx.send(1).unwrap();
        let tx2 = tx.clone();
        let sender = thread::spawn(move || tx2.send(2).map_err(|e| e.into_inner()));
        tx.close();
        assert_eq!(sender.join().unwrap(), Err(2), "the value comes back");
        assert_eq!(rx.recv(), Ok(1));
        assert!(rx.recv().is_err());
    });
}

/// A value sent to a receiver blocked on an empty buffer, then a close:
/// the receiver gets the value first and `Err` on its next receive, never
/// `Err` before the value (the close comes after the send).
#[test]
fn blocked_receiver_gets_the_value_sent_before_the_close() {
    model(|| {
        let (tx, rx) = bounded::<usize>(1);
        let receiver = thread::spawn(move || [rx.recv().ok(), rx.recv().ok()]);
        tx.send(7).unwrap();
        tx.close();
        assert_eq!(receiver.join().unwrap(), [Some(7), None]);
    });
}

/// The buffer is full; a sender blocks on it, a receiver takes one value
/// and the channel is closed, all at once. Whatever the order, no value is
/// lost or duplicated: the blocked sender either got into the freed slot
/// (then its value is drained after the close) or was woken by the close
/// with its value back; every value is dropped exactly once.
#[test]
fn close_races_blocked_sender_and_receiver_and_loses_nothing() {
    model(|| {
        let drops = Drops::new(2);
        let (tx, rx) = bounded::<Counted>(1);
        tx.send(Counted::new(&drops, 0)).unwrap();
        let tx2 = tx.clone();
        let v1 = Counted::new(&drops, 1);
        let sender = thread::spawn(move || tx2.send(v1).map_err(|e| e.into_inner().id));
        let rx2 = rx.clone();
        let receiver = thread::spawn(move || rx2.recv().map(|v| v.id));
        tx.close();
        let sent = sender.join().unwrap();
        let first = receiver.join().unwrap();
        let mut rest = Vec::new();
        while let Ok(v) = rx.recv() {
            rest.push(v.id);
        }
        assert_eq!(first, Ok(0), "the buffered value comes first");
        match sent {
            Ok(()) => assert_eq!(rest, [1], "a value sent before the close is drained"),
            Err(id) => {
                assert_eq!(id, 1);
                assert!(rest.is_empty());
            }
        }
        drop((tx, rx));
        drops.assert_each_dropped_once();
    });
}

/// `try_send` and `try_recv` race on a one-slot buffer: two `try_send`s
/// and one `try_recv`. A `Full` gives the value back; a `try_recv` that
/// gets a value gets one that was sent; what was sent and not received is
/// still in the buffer afterwards. The buffer never holds two values.
#[test]
fn try_send_and_try_recv_agree_on_one_slot() {
    model(|| {
        let (tx, rx) = bounded::<usize>(1);
        let hs: Vec<_> = [1, 2]
            .into_iter()
            .map(|v| {
                let tx = tx.clone();
                thread::spawn(move || match tx.try_send(v) {
                    Ok(()) => Some(v),
                    Err(TrySendError::Full(back)) => {
                        assert_eq!(back, v, "Full gives the same value back");
                        None
                    }
                    Err(TrySendError::Closed(_)) => panic!("the channel is open"),
                })
            })
            .collect();
        let taken = match rx.try_recv() {
            Ok(v) => Some(v),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Closed) => panic!("the channel is open"),
        };
        let mut sent: Vec<usize> = hs.into_iter().filter_map(|h| h.join().unwrap()).collect();
        sent.sort_unstable();
        let left: Vec<usize> = rx.try_iter().collect();
        assert!(left.len() <= 1, "one slot holds one value");
        let mut seen: Vec<usize> = taken.into_iter().chain(left).collect();
        seen.sort_unstable();
        assert_eq!(seen, sent, "every accepted value is received once");
        assert!(!sent.is_empty(), "an empty one-slot buffer accepts a value");
    });
}

/// Three values through a one-slot ring: each send after the first waits
/// for the slot to come back one lap later (stamp `p + one_lap`), each
/// receive for the next lap's value. Order is kept across the laps.
#[test]
fn one_slot_ring_wraps_around_three_times() {
    model(|| {
        let (tx, rx) = bounded::<usize>(1);
        // Kept alive so the sender thread's drop cannot close the channel
        // (a close would wake a receiver that missed its wake-up).
        let keep = tx.clone();
        let sender = thread::spawn(move || {
            for v in 1..=3 {
                tx.send(v).unwrap();
            }
        });
        let got = [rx.recv().unwrap(), rx.recv().unwrap(), rx.recv().unwrap()];
        sender.join().unwrap();
        assert_eq!(got, [1, 2, 3]);
        drop(keep);
        assert_eq!(rx.recv().ok(), None, "every sender is gone: closed");
    });
}

/// Two slots, three values, received while sent: the third send reuses
/// slot 0 on the second lap, racing the receiver that frees it. FIFO order
/// holds across the wrap.
#[test]
fn two_slot_ring_wraps_around_while_receiving() {
    model(|| {
        let (tx, rx) = bounded::<usize>(2);
        let _keep = tx.clone(); // as in the one-slot ring
        let sender = thread::spawn(move || {
            for v in 1..=3 {
                tx.send(v).unwrap();
            }
        });
        let got = [rx.recv().unwrap(), rx.recv().unwrap(), rx.recv().unwrap()];
        sender.join().unwrap();
        assert_eq!(got, [1, 2, 3]);
    });
}
