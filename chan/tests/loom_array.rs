//! loom models of the buffered flavor (`bounded(n)`, n > 0): the stamped
//! ring's send/receive hand-off, the waiter lists' no-lost-wake-up
//! argument on a full and on an empty buffer, `close` against blocked
//! senders and receivers, `try_send`/`try_recv`, and wrap-around; and the
//! senders' hand-off (`notify_senders`): a receive that frees a slot moves
//! the first blocked sender's value from its packet into the ring, racing
//! other senders, `close`, the last receiver's drop and a sender that
//! withdraws.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p hoare-chan --release --target-dir target/loom --test loom_array`.
//!
//! A blocked thread waits through loom, so a wake-up that is never sent
//! shows as a loom deadlock; the slots are loom cells, so a receiver
//! reading a slot the sender has not finished writing is a reported data
//! race. Spinning is off under loom.
#![cfg(loom)]

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use hoare_chan::{Receiver, TryRecvError, TrySendError, bounded};
use loom::thread;

mod loom_util;
use loom_util::{
    Counted, Drops, model, model_with_preemptions, poll_once, two_senders_one_receiver,
};

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
        assert_eq!(two_senders_one_receiver(&tx, &rx), [1, 2]);
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

/// Two senders wait on the full one-slot buffer, each with its value in a
/// packet on the senders' list: a pending `send_async` of 3 (registered
/// first) and a thread that sends 1 and then 2 (its second send waits
/// behind its first). The receiver takes the buffered value and then the
/// three sent ones. A receive that frees the slot moves the first waiting
/// sender's value into it before it returns; that races the thread's own
/// `try_send` taking the slot first (the hand-off then finds no room, puts
/// the value back and leaves its sender waiting, still registered) and
/// the thread's registrations. Every value arrives exactly once, the
/// thread's in the order it sent them, and the future is complete without
/// having been woken to retry; a hand-off or wake-up lost leaves a thread
/// asleep: a loom deadlock. (Counted once with a probe, in the 376,000
/// executions: some 431,000 hand-offs delivered, 5,000 found no room and
/// 1,000 passed over a sender already decided.)
///
/// The second sender is a future polled on the main thread rather than a
/// thread: with three threads (two sending, one receiving) even one
/// preemption takes some 800,000 executions (over 100 s here).
#[test]
fn blocked_senders_are_handed_off_in_turn() {
    model(|| {
        let (tx, rx) = bounded::<usize>(1);
        tx.send(0).unwrap();
        let mut f = tx.send_async(3);
        assert!(poll_once(&mut f).is_pending(), "the buffer is full");
        let tx_a = tx.clone();
        let a = thread::spawn(move || {
            tx_a.send(1).unwrap();
            tx_a.send(2).unwrap();
        });
        let got = [
            rx.recv().unwrap(),
            rx.recv().unwrap(),
            rx.recv().unwrap(),
            rx.recv().unwrap(),
        ];
        a.join().unwrap();
        assert_eq!(got[0], 0, "the buffered value first");
        let at = |v| got.iter().position(|&g| g == v);
        assert!(at(1) < at(2), "the thread's values in order: {got:?}");
        let mut sorted = got;
        sorted.sort_unstable();
        assert_eq!(sorted, [0, 1, 2, 3], "each value once");
        assert!(
            matches!(poll_once(&mut f), Poll::Ready(Ok(()))),
            "the receive that moved 3 in completed the future"
        );
        assert!(rx.try_recv().is_err(), "nothing more");
    });
}

/// A sender is blocked on the full one-slot buffer (or about to block)
/// while the receiver takes the buffered value, whose hand-off moves the
/// sender's value in, and another thread closes the channel. The close
/// and the hand-off race: the hand-off's `try_send` may find the channel
/// closed (the value goes back into the packet and the close's wake-up
/// returns it to the sender), or the value is in before the close (the
/// send succeeded and the receiver drains it after the close). The value
/// is received or returned, never both, never neither: every value is
/// dropped exactly once.
#[test]
fn close_races_the_hand_off_to_a_blocked_sender() {
    model(|| {
        let drops = Drops::new(2);
        let (tx, rx) = bounded::<Counted>(1);
        tx.send(Counted::new(&drops, 0)).unwrap();
        let tx2 = tx.clone();
        let v1 = Counted::new(&drops, 1);
        let sender = thread::spawn(move || tx2.send(v1).map_err(|e| e.into_inner()));
        let closer = thread::spawn(move || assert!(tx.close(), "closed once"));
        let mut got = Vec::new();
        while let Ok(v) = rx.recv() {
            got.push(v);
        }
        closer.join().unwrap();
        let sent = sender.join().unwrap();
        let ids: Vec<usize> = got.iter().map(|v| v.id).collect();
        match &sent {
            Ok(()) => assert_eq!(ids, [0, 1], "a sent value is received"),
            Err(back) => {
                assert_eq!(back.id, 1, "the value comes back");
                assert_eq!(ids, [0], "and is not received too");
            }
        }
        drop((got, sent, rx));
        drops.assert_each_dropped_once();
    });
}

/// A sender is blocked on the full one-slot buffer (or about to block);
/// one receiver takes the buffered value, its hand-off moving the sender's
/// value in, and is then dropped, while the main thread drops the other
/// receiver. Whichever drop is last closes the channel and drops what is
/// buffered (`Drop for Receiver`: close, then discard). The close cannot
/// overlap that receiver's hand-off (the receiver is alive while it hands
/// off), but it races the sender: either its value got in (handed off, or
/// sent by the sender itself after the slot was freed) and the send
/// succeeded, and then the last drop discards it, or the close came first
/// and the send fails with the value back. Every value is dropped exactly
/// once.
#[test]
fn last_receiver_drop_races_the_hand_off_to_a_blocked_sender() {
    model(|| {
        let drops = Drops::new(2);
        let (tx, rx) = bounded::<Counted>(1);
        tx.send(Counted::new(&drops, 0)).unwrap();
        let v1 = Counted::new(&drops, 1);
        let sender = thread::spawn(move || tx.send(v1).map_err(|e| e.into_inner().id));
        let rx2 = rx.clone();
        let receiver = thread::spawn(move || rx2.recv().map(|v| v.id));
        drop(rx);
        assert_eq!(receiver.join().unwrap(), Ok(0), "the buffered value");
        match sender.join().unwrap() {
            Ok(()) => assert_eq!(drops.count(1), 1, "discarded by the last drop"),
            Err(id) => assert_eq!(id, 1, "the value comes back"),
        }
        drops.assert_each_dropped_once();
    });
}

/// A pending `send_async` (its value in a packet on the senders' list,
/// first) is dropped while a receive frees the slot, with a sender thread
/// blocked behind it. The drop aborts the future's wait and then removes
/// its entry; a hand-off in between finds the entry decided and must pass
/// on to the blocked thread, or that thread sleeps next to a free slot (a
/// loom deadlock: nobody else will receive or send). Otherwise the
/// hand-off completed the future before the drop (its value is in the
/// ring, and the blocked thread follows it). Every value is dropped
/// exactly once.
///
/// (A blocking `send_timeout` withdraws the same way on its deadline, but
/// loom has no clock: `Instant` is the real one and `park_until` parks
/// like `park`, so a deadline cannot be made to fall inside the window.)
#[test]
fn withdrawn_sender_passes_the_hand_off_on() {
    model(|| {
        let drops = Drops::new(3);
        let (tx, rx) = bounded::<Counted>(1);
        tx.send(Counted::new(&drops, 0)).unwrap();
        let mut f = tx.send_async(Counted::new(&drops, 1));
        assert!(poll_once(&mut f).is_pending(), "the buffer is full");
        let tx2 = tx.clone();
        let v2 = Counted::new(&drops, 2);
        let sender = thread::spawn(move || tx2.send(v2).map_err(|_| "closed"));
        let rx2 = rx.clone();
        let receiver = thread::spawn(move || rx2.recv().map(|v| v.id));
        drop(f);
        assert_eq!(receiver.join().unwrap(), Ok(0), "the buffered value");
        let mut ids = vec![rx.recv().unwrap().id];
        if ids[0] == 1 {
            // The future was completed before its drop; 2 follows it.
            ids.push(rx.recv().unwrap().id);
        }
        sender.join().unwrap().unwrap();
        assert_eq!(ids.last(), Some(&2), "the blocked sender got through");
        assert!(rx.try_recv().is_err(), "nothing more");
        drop((tx, rx));
        drops.assert_each_dropped_once();
    });
}

/// A waker that receives from the channel when woken, as a task run
/// inline by its waker would.
struct ReceivingWaker {
    rx: Receiver<usize>,
    got: Mutex<Vec<usize>>,
}

impl Wake for ReceivingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Ok(v) = self.rx.try_recv() {
            self.got.lock().unwrap().push(v);
        }
    }
}

/// A `send_async` waits on the full one-slot buffer (its value in a
/// packet); a receiver thread takes the buffered value and hands the
/// future's value in, and meanwhile a `recv_async` finds the buffer empty
/// and registers. The value handed in wakes that future, and its waker
/// (user code) receives from the same channel. The wake must come after
/// the hand-off has released the senders' lock (`signal.rs`, invariant
/// 3): the waker's receive frees the slot and notifies the senders, which
/// takes that lock; taken already by the same thread, that is a loom
/// deadlock. Both values arrive once. (Futures on the main thread rather
/// than more threads keep the model small.)
#[test]
fn hand_off_wakes_a_receiving_task_outside_the_lock() {
    model(|| {
        let (tx, rx) = bounded::<usize>(1);
        tx.send(0).unwrap();
        let mut send = tx.send_async(1);
        assert!(poll_once(&mut send).is_pending(), "the buffer is full");
        let rx2 = rx.clone();
        let receiver = thread::spawn(move || rx2.recv().unwrap());
        let w = Arc::new(ReceivingWaker {
            rx: rx.clone(),
            got: Mutex::new(Vec::new()),
        });
        let waker = Waker::from(w.clone());
        let mut recv = rx.recv_async();
        let polled = match core::pin::Pin::new(&mut recv).poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(v) => Some(v.unwrap()),
            Poll::Pending => None,
        };
        // Still registered while the receiver runs (a drop would withdraw
        // it): the join blocks us, so the receiver's hand-off needs no
        // preemption to find it.
        let mut got = vec![receiver.join().unwrap()];
        drop((recv, send));
        got.extend(polled);
        got.extend(w.got.lock().unwrap().drain(..));
        got.extend(rx.try_iter());
        got.sort_unstable();
        assert_eq!(got, [0, 1], "each value once");
        drop(waker);
    });
}

/// A receive frees the one slot while two senders wait with their values
/// in packets (two pending `send_async` futures) and a second receiver may
/// be blocked on the then-empty buffer. The first sender's value can go
/// straight to that receiver (`give`), which leaves the freed slot free:
/// the second sender must then get its turn (its value moved into the
/// ring), not sleep next to an empty ring. (Without the pass-on, the
/// fuzz target `chan_threads` found that sender asleep.)
#[test]
fn a_value_given_to_a_receiver_passes_the_freed_slot_on() {
    model(|| {
        let (tx, rx) = bounded::<usize>(1);
        tx.send(0).unwrap();
        let mut f1 = tx.send_async(1);
        let mut f2 = tx.send_async(2);
        assert!(poll_once(&mut f1).is_pending(), "the buffer is full");
        assert!(poll_once(&mut f2).is_pending(), "the buffer is full");
        let rx_b = rx.clone();
        let b = thread::spawn(move || rx_b.recv().unwrap());
        let mine = rx.recv().unwrap();
        let theirs = b.join().unwrap();
        let mut got = [mine, theirs];
        got.sort_unstable();
        assert_eq!(got, [0, 1], "the buffered value and the first sender's");
        assert!(matches!(poll_once(&mut f1), Poll::Ready(Ok(()))));
        assert!(
            matches!(poll_once(&mut f2), Poll::Ready(Ok(()))),
            "the slot freed for the first sender went to the second"
        );
        assert_eq!(rx.try_recv(), Ok(2));
    });
}

/// The same for a sender woken to retry (a `select_async!` send case,
/// registered without a packet): it finds a receiver thread waiting on
/// the empty buffer and gives its value to it directly, so the slot whose
/// freeing woke it stays free, and the next waiting sender must be told.
#[test]
fn a_woken_sender_that_gives_directly_passes_the_freed_slot_on() {
    model(|| {
        let (tx, rx) = bounded::<usize>(1);
        tx.send(0).unwrap();
        let tx1 = tx.clone();
        let mut f1 = Box::pin(async move {
            hoare_chan::select_async! {
                send(tx1, 1) -> r => r.unwrap(),
            }
        });
        let mut f2 = tx.send_async(2);
        assert!(poll_once(&mut f1).is_pending(), "the buffer is full");
        assert!(poll_once(&mut f2).is_pending(), "the buffer is full");
        // Frees the slot and wakes the first waiting sender, `f1`.
        assert_eq!(rx.recv(), Ok(0));
        let rx_b = rx.clone();
        let b = thread::spawn(move || rx_b.recv().unwrap());
        assert!(poll_once(&mut f1).is_ready(), "woken: the slot is free");
        assert_eq!(b.join().unwrap(), 1);
        assert!(
            matches!(poll_once(&mut f2), Poll::Ready(Ok(()))),
            "the slot freed for the first sender went to the second"
        );
        assert_eq!(rx.try_recv(), Ok(2));
    });
}
