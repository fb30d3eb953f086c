//! loom models of the unbuffered flavor (`bounded(0)`): the rendezvous under
//! its lock, `close` claiming every waiter, and `try_send`/`try_recv`
//! against blocked counterparts.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p hoare-chan --release --target-dir target/loom --test loom_zero`.
//!
//! A blocked thread parks through loom, so a wake-up that is never sent
//! shows as a loom deadlock: a model that completes proves every waiter
//! was woken. Spinning is off under loom.
#![cfg(loom)]

use hoare_chan::{TryRecvError, TrySendError, bounded};
use loom::thread;

mod loom_util;
use loom_util::{Counted, Drops, model, two_senders_one_receiver};

/// Two senders block until the receiver comes; the receiver takes both
/// values, each once, and both sends return only after their value was
/// taken.
#[test]
fn two_senders_rendezvous_with_one_receiver() {
    model(|| {
        let (tx, rx) = bounded::<usize>(0);
        assert_eq!(two_senders_one_receiver(&tx, &rx), [1, 2]);
    });
}

/// A sender and a receiver race a `close`. Either they met first (send
/// `Ok`, receive `Ok(v)`) or the close claimed whoever was waiting: the
/// sender gets its value back, the receiver `Err`. A sender `Ok` with a
/// receiver `Err` would be a lost value; the value is dropped exactly once.
#[test]
fn close_wakes_blocked_sender_and_receiver_and_loses_nothing() {
    model(|| {
        let drops = Drops::new(1);
        let (tx, rx) = bounded::<Counted>(0);
        let tx2 = tx.clone();
        let v = Counted::new(&drops, 0);
        let sender = thread::spawn(move || tx2.send(v).map_err(|e| e.into_inner().id));
        let receiver = thread::spawn(move || rx.recv().map(|v| v.id));
        tx.close();
        let sent = sender.join().unwrap();
        let got = receiver.join().unwrap();
        match (sent, got) {
            (Ok(()), Ok(0)) | (Err(0), Err(_)) => {}
            other => panic!("inconsistent outcome {other:?}"),
        }
        drop(tx);
        drops.assert_each_dropped_once();
    });
}

/// `try_send` succeeds only by handing the value to a blocked receiver, so
/// `Ok` means the receiver got it; `Full` gives the value back intact, and
/// the blocking `send` that follows then delivers it.
#[test]
fn try_send_delivers_to_a_blocked_receiver_or_gives_the_value_back() {
    model(|| {
        let (tx, rx) = bounded::<usize>(0);
        let receiver = thread::spawn(move || rx.recv().unwrap());
        match tx.try_send(7) {
            Ok(()) => {}
            Err(TrySendError::Full(v)) => tx.send(v).unwrap(),
            Err(TrySendError::Closed(_)) => panic!("the channel is open"),
        }
        assert_eq!(receiver.join().unwrap(), 7);
    });
}

/// `try_recv` takes the value of a blocked sender (which then returns
/// `Ok`) or finds none (`Empty`); then a blocking `recv` gets it. The value
/// arrives exactly once either way.
#[test]
fn try_recv_takes_from_a_blocked_sender_or_finds_nothing() {
    model(|| {
        let (tx, rx) = bounded::<usize>(0);
        let sender = thread::spawn(move || tx.send(7).unwrap());
        let v = match rx.try_recv() {
            Ok(v) => v,
            Err(TryRecvError::Empty) => rx.recv().unwrap(),
            Err(TryRecvError::Closed) => panic!("the channel is open"),
        };
        assert_eq!(v, 7);
        sender.join().unwrap();
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed), "sender dropped");
    });
}
