//! loom models of disconnection by handle drops (`counter.rs`): the last
//! `Sender` closing the channel under a blocked receiver, the last
//! `Receiver` closing it under a blocked sender and dropping what is
//! buffered, and both last handles going at once (the channel is freed
//! once, by whichever side leaves second).
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p hoare-chan --release --target-dir target/loom --test loom_disconnect`.
//!
//! Payloads count their drops, so a value lost (never dropped) or dropped
//! twice fails the model; a blocked operation nobody wakes is a loom
//! deadlock. Spinning is off under loom.
#![cfg(loom)]

use hoare_chan::{Receiver, Sender, bounded, unbounded};
use loom::thread;

mod loom_util;
use loom_util::{Counted, Drops, model};

/// The receiver takes one value and blocks for the next; the main thread
/// sends the value and drops its only `Sender`. The receiver gets the
/// value, then `Err`: the drop closed the channel and woke it.
fn last_sender_drop_wakes_the_blocked_receiver((tx, rx): (Sender<usize>, Receiver<usize>)) {
    let receiver = thread::spawn(move || [rx.recv().ok(), rx.recv().ok()]);
    tx.send(1).unwrap();
    drop(tx);
    assert_eq!(receiver.join().unwrap(), [Some(1), None]);
}

#[test]
fn last_sender_drop_wakes_the_blocked_receiver_unbuffered() {
    model(|| last_sender_drop_wakes_the_blocked_receiver(bounded(0)));
}

#[test]
fn last_sender_drop_wakes_the_blocked_receiver_buffered() {
    model(|| last_sender_drop_wakes_the_blocked_receiver(bounded(1)));
}

#[test]
fn last_sender_drop_wakes_the_blocked_receiver_unbounded() {
    model(|| last_sender_drop_wakes_the_blocked_receiver(unbounded()));
}

/// A sender blocks on a full one-slot buffer; the only `Receiver` is
/// dropped. The sender is woken with its value back, and the buffered
/// value is dropped by the receiver's drop, exactly once.
#[test]
fn last_receiver_drop_wakes_the_sender_blocked_on_a_full_buffer() {
    model(|| {
        let drops = Drops::new(2);
        let (tx, rx) = bounded::<Counted>(1);
        tx.send(Counted::new(&drops, 0)).unwrap();
        let v = Counted::new(&drops, 1);
        let sender = thread::spawn(move || tx.send(v).map_err(|e| e.into_inner().id));
        drop(rx);
        assert_eq!(sender.join().unwrap(), Err(1), "the value comes back");
        drops.assert_each_dropped_once();
    });
}

/// An unbuffered sender blocks with its value in its packet; the only
/// `Receiver` is dropped. The close claims the sender, which finds its
/// value still in the packet and gets it back.
#[test]
fn last_receiver_drop_wakes_the_blocked_unbuffered_sender() {
    model(|| {
        let drops = Drops::new(1);
        let (tx, rx) = bounded::<Counted>(0);
        let v = Counted::new(&drops, 0);
        let sender = thread::spawn(move || tx.send(v).map_err(|e| e.into_inner().id));
        drop(rx);
        assert_eq!(sender.join().unwrap(), Err(0), "the value comes back");
        drops.assert_each_dropped_once();
    });
}

/// An unbounded sender sends two values while the only `Receiver` is
/// dropped. Each value is either returned in the send's error (sent after
/// the close) or dropped by the receiver's drain or by the channel's
/// memory being freed, exactly once; a send that failed stays failed.
#[test]
fn last_receiver_drop_drops_racing_unbounded_values_once() {
    model(|| {
        let drops = Drops::new(2);
        let (tx, rx) = unbounded::<Counted>();
        let vs = [Counted::new(&drops, 0), Counted::new(&drops, 1)];
        let sender = thread::spawn(move || {
            vs.map(|v| match tx.send(v) {
                Ok(()) => None,
                Err(e) => Some(e.into_inner().id),
            })
        });
        drop(rx);
        let back = sender.join().unwrap();
        assert!(
            !matches!(back, [Some(_), None]),
            "a send succeeded after one failed: {back:?}"
        );
        drops.assert_each_dropped_once();
    });
}

/// The last `Sender` and the last `Receiver` are dropped at once with a
/// value buffered: the channel closes from both sides, the buffered value
/// is dropped once, and the allocation is freed once, by the side that
/// leaves second (a double free or a leak of its loom objects fails).
fn both_last_handles_drop_at_once((tx, rx): (Sender<Counted>, Receiver<Counted>)) {
    let drops = Drops::new(1);
    tx.send(Counted::new(&drops, 0)).unwrap();
    let t = thread::spawn(move || drop(tx));
    drop(rx);
    t.join().unwrap();
    drops.assert_each_dropped_once();
}

#[test]
fn both_last_handles_drop_at_once_buffered() {
    model(|| both_last_handles_drop_at_once(bounded(1)));
}

#[test]
fn both_last_handles_drop_at_once_unbounded() {
    model(|| both_last_handles_drop_at_once(unbounded()));
}
