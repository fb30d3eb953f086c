//! loom models of cancellation: a pending `recv_async` dropped while a
//! sender hands it a value, and a pending `send_async` dropped while a
//! receiver takes its value. Dropping a pending future loses no value and
//! never half-delivers one; a wake-up it received and did not use is
//! passed on to the next waiter.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p hoare-chan --release --target-dir target/loom --test loom_async`.
//!
//! Futures are polled by hand with a no-op waker (`poll_once`): the
//! models need the future pending and registered, not woken. Every model
//! ends with blocking operations that can only finish if no value was lost
//! and no wake-up swallowed; otherwise loom reports a deadlock. Spinning
//! is off under loom.
#![cfg(loom)]

use hoare_chan::{Receiver, Sender, bounded, unbounded};
use loom::thread;

mod loom_util;
use loom_util::{Counted, Drops, model, poll_once};

/// A `recv_async` is polled once (it registers), then a sender sends while
/// the future is dropped. The value must still be in the channel (or, for
/// an unbuffered channel, with its blocked sender): the blocking `recv`
/// after the drop gets it.
fn dropped_recv_async_leaves_the_value((tx, rx): (Sender<Counted>, Receiver<Counted>)) {
    let drops = Drops::new(1);
    let mut f = rx.recv_async();
    assert!(poll_once(&mut f).is_pending(), "nothing was sent yet");
    let v = Counted::new(&drops, 0);
    // Kept alive so the sender thread's drop cannot close the channel,
    // which would wake a receiver that missed its wake-up.
    let keep = tx.clone();
    let sender = thread::spawn(move || tx.send(v).map_err(|_| "closed"));
    drop(f);
    assert_eq!(rx.recv().map(|v| v.id), Ok(0));
    sender.join().unwrap().unwrap();
    drop((keep, rx));
    drops.assert_each_dropped_once();
}

#[test]
fn dropped_recv_async_leaves_the_value_unbuffered() {
    model(|| dropped_recv_async_leaves_the_value(bounded(0)));
}

#[test]
fn dropped_recv_async_leaves_the_value_buffered() {
    model(|| dropped_recv_async_leaves_the_value(bounded(1)));
}

#[test]
fn dropped_recv_async_leaves_the_value_unbounded() {
    model(|| dropped_recv_async_leaves_the_value(unbounded()));
}

/// As above, but a second receiver is blocked in `recv` in its own
/// thread. The send may claim the future's entry instead of the blocked
/// thread's; the dropped future must then pass the wake-up on, or the
/// blocked receiver sleeps next to a value (a loom deadlock).
fn dropped_recv_async_passes_on_its_wake_up((tx, rx): (Sender<usize>, Receiver<usize>)) {
    let mut f = rx.recv_async();
    assert!(poll_once(&mut f).is_pending(), "nothing was sent yet");
    let rx2 = rx.clone();
    let receiver = thread::spawn(move || rx2.recv());
    // Kept alive so the sender thread's drop cannot close the channel:
    // the close would wake the receiver and hide a swallowed wake-up.
    let keep = tx.clone();
    let sender = thread::spawn(move || tx.send(7).unwrap());
    drop(f);
    assert_eq!(receiver.join().unwrap(), Ok(7));
    sender.join().unwrap();
    drop(keep);
}

#[test]
fn dropped_recv_async_passes_on_its_wake_up_unbuffered() {
    model(|| dropped_recv_async_passes_on_its_wake_up(bounded(0)));
}

#[test]
fn dropped_recv_async_passes_on_its_wake_up_buffered() {
    model(|| dropped_recv_async_passes_on_its_wake_up(bounded(1)));
}

#[test]
fn dropped_recv_async_passes_on_its_wake_up_unbounded() {
    model(|| dropped_recv_async_passes_on_its_wake_up(unbounded()));
}

/// The same hand-off with the main thread as the sender: the future is
/// registered first, so the send claims it (the first entry) whenever the
/// receiver thread is already waiting behind it, and the drop right after
/// must pass that wake-up on. (The three-thread form above needs one
/// preemption more to reach that state; this form reaches it within two.)
fn recv_async_dropped_after_a_send_claimed_it((tx, rx): (Sender<usize>, Receiver<usize>)) {
    let mut f = rx.recv_async();
    assert!(poll_once(&mut f).is_pending(), "nothing was sent yet");
    let rx2 = rx.clone();
    let receiver = thread::spawn(move || rx2.recv());
    let sent = tx.try_send(7);
    drop(f);
    match sent {
        Ok(()) => assert_eq!(receiver.join().unwrap(), Ok(7)),
        // Not reached while the future waits committed (unbuffered: the
        // send hands it the value, which the drop gives back to the
        // channel for the receiver thread); kept so the model stays
        // complete if a flavor declines.
        Err(e) => {
            tx.send(e.into_inner()).unwrap();
            assert_eq!(receiver.join().unwrap(), Ok(7));
        }
    }
}

#[test]
fn recv_async_dropped_after_a_send_claimed_it_unbuffered() {
    model(|| recv_async_dropped_after_a_send_claimed_it(bounded(0)));
}

#[test]
fn recv_async_dropped_after_a_send_claimed_it_buffered() {
    model(|| recv_async_dropped_after_a_send_claimed_it(bounded(1)));
}

#[test]
fn recv_async_dropped_after_a_send_claimed_it_unbounded() {
    model(|| recv_async_dropped_after_a_send_claimed_it(unbounded()));
}

/// A `recv_async` on an empty channel is handed a value by a sender
/// thread, which then sends a second one, while the future is dropped.
/// Whether the first value reached the future (and was given back) or not
/// (it waits with its sender, or in the buffer), the receiver gets both,
/// in the order sent.
fn a_value_given_back_comes_before_later_sends((tx, rx): (Sender<usize>, Receiver<usize>)) {
    let mut f = rx.recv_async();
    assert!(poll_once(&mut f).is_pending(), "nothing was sent yet");
    let sender = thread::spawn(move || {
        tx.send(0).unwrap();
        tx.send(1).unwrap();
    });
    drop(f);
    assert_eq!(rx.recv(), Ok(0));
    assert_eq!(rx.recv(), Ok(1));
    sender.join().unwrap();
}

#[test]
fn a_value_given_back_comes_before_later_sends_unbuffered() {
    model(|| a_value_given_back_comes_before_later_sends(bounded(0)));
}

#[test]
fn a_value_given_back_comes_before_later_sends_buffered() {
    model(|| a_value_given_back_comes_before_later_sends(bounded(1)));
}

/// A `select_async!` over two unbuffered channels is polled once (its
/// receive cases wait committed), then dropped while a sender thread
/// sends on one of them. Whether the value was handed to the select (and
/// given back by the drop) or still waits with its sender, the receive
/// after the drop gets it, and the other channel has nothing.
#[test]
fn a_dropped_select_async_loses_no_value_handed_to_it() {
    model(|| {
        let (tx, rx) = bounded::<usize>(0);
        let (_tx2, rx2) = bounded::<usize>(0);
        let mut f = Box::pin(async {
            hoare_chan::select_async! {
                recv(rx) -> v => v,
                recv(rx2) -> v => v,
            }
        });
        assert!(poll_once(&mut f).is_pending(), "nothing was sent yet");
        let keep = tx.clone();
        let sender = thread::spawn(move || tx.send(4).unwrap());
        drop(f);
        assert_eq!(rx.recv(), Ok(4));
        sender.join().unwrap();
        assert!(rx2.try_recv().is_err());
        drop(keep);
    });
}

/// An unbuffered `send_async` is polled once (its value waits in a packet)
/// and dropped while a receiver blocks in `recv`. Either the receiver took
/// the value from the packet before the drop withdrew it (the send is
/// complete) or the value went back into the future and was dropped with
/// it (nothing was sent); never both, never neither. In the second case a
/// second send lets the receiver finish.
#[test]
fn dropped_send_async_delivers_completely_or_not_at_all() {
    model(|| {
        let drops = Drops::new(2);
        let (tx, rx) = bounded::<Counted>(0);
        let receiver = thread::spawn(move || rx.recv().unwrap());
        let mut f = tx.send_async(Counted::new(&drops, 0));
        let _ = poll_once(&mut f);
        drop(f);
        // Only the future can have dropped value 0 by now: a receiver that
        // took it still holds it.
        let delivered = drops.count(0) == 0;
        if !delivered {
            tx.send(Counted::new(&drops, 1)).unwrap();
        }
        let got = receiver.join().unwrap();
        assert_eq!(got.id, if delivered { 0 } else { 1 });
        drop((got, tx));
        if delivered {
            assert_eq!(drops.count(1), 0);
            assert_eq!(drops.count(0), 1);
        } else {
            drops.assert_each_dropped_once();
        }
    });
}

/// A pending `recv_async` (registered with one waker) is then polled to
/// completion by another task (`block_on`'s waker) while a sender sends.
/// The second poll must withdraw the registration that would wake the
/// first waker and register with the new one; otherwise the send wakes
/// nobody who polls (a loom deadlock). It also drives `prepare_task`'s
/// reuse of the signal against the sender's late `wake`.
fn a_pending_recv_async_polled_by_another_task((tx, rx): (Sender<usize>, Receiver<usize>)) {
    let mut f = rx.recv_async();
    assert!(poll_once(&mut f).is_pending(), "nothing was sent yet");
    // Kept alive so a close cannot stand in for the missing wake-up.
    let keep = tx.clone();
    let sender = thread::spawn(move || tx.send(3).unwrap());
    assert_eq!(loom::future::block_on(f), Ok(3));
    sender.join().unwrap();
    drop(keep);
}

#[test]
fn a_pending_recv_async_polled_by_another_task_unbuffered() {
    model(|| a_pending_recv_async_polled_by_another_task(bounded(0)));
}

#[test]
fn a_pending_recv_async_polled_by_another_task_buffered() {
    model(|| a_pending_recv_async_polled_by_another_task(bounded(1)));
}
