//! loom models of `select!`: a two-channel select racing a sender on each
//! channel. Exactly one case fires, and the other value is never taken by
//! the select: it stays in its channel (or, unbuffered, with its blocked
//! sender) and is received afterwards.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p hoare-chan --release --target-dir target/loom --test loom_select`.
//!
//! The select registers one entry per case, all sharing one signal, and
//! the senders' notifications race to claim it; a select that sleeps
//! through both sends shows as a loom deadlock. Spinning is off under
//! loom.
#![cfg(loom)]

use hoare_chan::{Receiver, Sender, bounded, select, unbounded};
use loom::thread;

mod loom_util;
use loom_util::{model, model_with_preemptions};

/// Runs one select over `rx1` and `rx2` while one thread sends 1 on `tx1`
/// and another 2 on `tx2`; returns the fired case's channel and value,
/// having checked that the other value is still there to receive.
fn select_races_two_senders(
    (tx1, rx1): (Sender<usize>, Receiver<usize>),
    (tx2, rx2): (Sender<usize>, Receiver<usize>),
) {
    // Clones kept alive so a sender thread's drop cannot close its channel:
    // a closed channel is ready, which would wake a select that missed its
    // wake-up.
    let keep = (tx1.clone(), tx2.clone());
    let s1 = thread::spawn(move || tx1.send(1).unwrap());
    let s2 = thread::spawn(move || tx2.send(2).unwrap());
    let (fired, v) = select! {
        recv(rx1) -> v => (1, v),
        recv(rx2) -> v => (2, v),
    };
    assert_eq!(
        v,
        Ok(fired),
        "case {fired} fired with the other channel's value"
    );
    // The other value was not taken: a blocking receive finds it (for an
    // unbuffered channel this is what lets its sender finish).
    let other = if fired == 1 { &rx2 } else { &rx1 };
    assert_eq!(other.recv(), Ok(3 - fired));
    s1.join().unwrap();
    s2.join().unwrap();
    assert!(rx1.try_recv().is_err() && rx2.try_recv().is_err());
    drop(keep);
}

/// Buffered channels: the select takes one value; the other stays
/// buffered.
#[test]
fn select_over_buffered_channels_takes_exactly_one_value() {
    model(|| select_races_two_senders(bounded(1), bounded(1)));
}

/// Unbounded channels: as for buffered ones.
#[test]
fn select_over_unbounded_channels_takes_exactly_one_value() {
    model(|| select_races_two_senders(unbounded(), unbounded()));
}

/// An unbuffered and a buffered channel: the unbuffered sender hands its
/// value to the select's committed entry if it finds one (writing it into
/// the entry's packet and then claiming the select, taking it back if the
/// claim fails), or else blocks with its value in a packet; the buffered
/// sender buffers its value and claims the select's other entry. If the
/// select takes the unbuffered value it either was handed it or takes it
/// from the blocked sender's packet; otherwise that sender stays blocked
/// with its value until the receive after the select.
#[test]
fn select_over_unbuffered_and_buffered_takes_exactly_one_value() {
    model(|| select_races_two_senders(bounded(0), bounded(1)));
}

/// Two unbuffered channels: both senders race to hand their value to the
/// select's committed entries (one claim wins, the other sender takes its
/// value back and blocks with it), or block with their values in packets
/// and race to wake the select.
///
/// One preemption: at two this model has some 120,000 executions (17 s
/// here), more than the CI budget allows for one model; the unbuffered
/// hand-off to a select is checked at two preemptions by the mixed model
/// above.
#[test]
fn select_over_two_unbuffered_channels_takes_exactly_one_value() {
    model_with_preemptions(1, || select_races_two_senders(bounded(0), bounded(0)));
}
