//! Ownership of values, counted with a drop-counting payload: buffered
//! values are dropped exactly once when the channel goes (whichever side
//! leaves last), received values belong to the receiver, and every failed
//! send hands its value back instead of dropping it.

use std::thread;
use std::time::Duration;

use hoare_chan::{SendTimeoutError, TrySendError, select};

mod util;
use util::{BLOCKING_SEND, BUFFERED, Drops, Flavor, settle};

/// How many values to buffer: a full bounded channel, or enough to span
/// several blocks of the unbounded one.
fn load(flavor: Flavor) -> usize {
    flavor
        .capacity()
        .unwrap_or(if cfg!(miri) { 70 } else { 1_000 })
}

#[test]
fn dropping_the_last_receiver_drops_buffered_values_exactly_once() {
    for flavor in BUFFERED {
        let drops = Drops::new();
        let (tx, rx) = flavor.make();
        let n = load(flavor);
        for i in 0..n {
            tx.send(drops.make(i)).unwrap();
        }
        let rx2 = rx.clone();
        drop(rx);
        assert_eq!(drops.get(), 0, "{flavor:?}: a receiver is left");
        drop(rx2);
        assert_eq!(drops.get(), n, "{flavor:?}: dropped at the last receiver");
        drop(tx);
        assert_eq!(drops.get(), n, "{flavor:?}: and not again with the sender");
    }
}

#[test]
fn dropping_the_last_sender_first_keeps_values_until_the_receiver_goes() {
    for flavor in BUFFERED {
        let drops = Drops::new();
        let (tx, rx) = flavor.make();
        let n = load(flavor);
        for i in 0..n {
            tx.send(drops.make(i)).unwrap();
        }
        drop(tx);
        assert_eq!(drops.get(), 0, "{flavor:?}: closing drops nothing");
        assert_eq!(rx.len(), n);
        drop(rx);
        assert_eq!(drops.get(), n, "{flavor:?}");
    }
}

#[test]
fn received_values_belong_to_the_receiver() {
    for flavor in BUFFERED {
        let drops = Drops::new();
        let (tx, rx) = flavor.make();
        let n = load(flavor);
        for i in 0..n {
            tx.send(drops.make(i)).unwrap();
        }
        let kept: Vec<_> = (0..n / 2).map(|_| rx.recv().unwrap()).collect();
        drop((tx, rx));
        assert_eq!(
            drops.get(),
            n - n / 2,
            "{flavor:?}: only the unreceived ones"
        );
        drop(kept);
        assert_eq!(drops.get(), n, "{flavor:?}");
    }
}

#[test]
fn a_partly_consumed_owned_iterator_drops_the_rest_once() {
    let drops = Drops::new();
    let (tx, rx) = Flavor::Unbounded.make();
    for i in 0..50 {
        tx.send(drops.make(i)).unwrap();
    }
    drop(tx);
    let mut it = rx.into_iter();
    let first: Vec<_> = it.by_ref().take(20).collect();
    drop(it);
    assert_eq!(drops.get(), 30);
    drop(first);
    assert_eq!(drops.get(), 50);
}

#[test]
fn failed_sends_hand_the_value_back_undropped() {
    for flavor in BLOCKING_SEND {
        let drops = Drops::new();
        let (tx, rx) = flavor.make();
        flavor.fill(&tx, |i| drops.make(i));
        let cap = flavor.capacity().unwrap();
        // Full.
        let TrySendError::Full(v) = tx.try_send(drops.make(100)).unwrap_err() else {
            panic!("{flavor:?}: expected Full");
        };
        assert_eq!((v.id, drops.get()), (100, 0), "{flavor:?}");
        // Timed out.
        let SendTimeoutError::Timeout(v2) =
            tx.send_timeout(v, Duration::from_millis(5)).unwrap_err()
        else {
            panic!("{flavor:?}: expected Timeout");
        };
        assert_eq!((v2.id, drops.get()), (100, 0), "{flavor:?}");
        // Closed (the receiver is gone, dropping what was buffered).
        drop(rx);
        assert_eq!(drops.get(), cap, "{flavor:?}");
        let back = tx.send(v2).unwrap_err().into_inner();
        let TrySendError::Closed(back2) = tx.try_send(back).unwrap_err() else {
            panic!("{flavor:?}: expected Closed");
        };
        assert_eq!((back2.id, drops.get()), (100, cap), "{flavor:?}");
        drop(back2);
        assert_eq!(drops.get(), cap + 1);
    }
}

#[test]
fn senders_blocked_when_the_last_receiver_drops_get_their_values_back() {
    for flavor in BLOCKING_SEND {
        let drops = Drops::new();
        let (tx, rx) = flavor.make();
        flavor.fill(&tx, |i| drops.make(i));
        let cap = flavor.capacity().unwrap();
        let senders: Vec<_> = (0..2)
            .map(|i| {
                let (tx, drops) = (tx.clone(), drops.clone());
                thread::spawn(move || tx.send(drops.make(1000 + i)).unwrap_err().into_inner())
            })
            .collect();
        settle();
        drop(rx);
        let back: Vec<_> = senders.into_iter().map(|s| s.join().unwrap()).collect();
        let mut ids: Vec<usize> = back.iter().map(|v| v.id).collect();
        ids.sort_unstable();
        assert_eq!(ids, [1000, 1001], "{flavor:?}");
        assert_eq!(drops.get(), cap, "{flavor:?}: only the buffered values");
        drop(back);
        assert_eq!(drops.get(), cap + 2, "{flavor:?}");
    }
}

#[test]
fn a_send_case_that_does_not_fire_drops_its_value_once() {
    let drops = Drops::new();
    let (tx, rx) = Flavor::Zero.make();
    let fired = select! {
        send(tx, drops.make(1)) -> _ => "sent",
        default => "default",
    };
    assert_eq!(fired, "default");
    assert_eq!(drops.get(), 1);
    drop((tx, rx));
    assert_eq!(drops.get(), 1);
}

#[test]
fn a_fired_send_case_moves_its_value_into_the_channel() {
    let drops = Drops::new();
    let (tx, rx) = Flavor::One.make();
    select! {
        send(tx, drops.make(1)) -> r => r.unwrap(),
    }
    assert_eq!(drops.get(), 0);
    let v = rx.recv().unwrap();
    assert_eq!((v.id, drops.get()), (1, 0));
    drop(v);
    assert_eq!(drops.get(), 1);
}

#[test]
fn racing_the_last_receiver_drop_every_value_is_received_returned_or_dropped_once() {
    let rounds = if cfg!(miri) { 2 } else { 20 };
    let per_sender = if cfg!(miri) { 10 } else { 200 };
    for flavor in util::FLAVORS {
        for _ in 0..rounds {
            let drops = Drops::new();
            let (tx, rx) = flavor.make();
            let senders: Vec<_> = (0..2)
                .map(|s| {
                    let (tx, drops) = (tx.clone(), drops.clone());
                    thread::spawn(move || {
                        let mut returned = Vec::new();
                        for i in 0..per_sender {
                            if let Err(e) = tx.send(drops.make(s * per_sender + i)) {
                                returned.push(e.into_inner());
                            }
                        }
                        returned
                    })
                })
                .collect();
            drop(tx);
            let receiver = thread::spawn(move || {
                let mut got = Vec::new();
                for _ in 0..per_sender / 2 {
                    match rx.recv() {
                        Ok(v) => got.push(v),
                        Err(_) => break,
                    }
                }
                got // `rx` goes here, with values possibly still buffered
            });
            let got = receiver.join().unwrap();
            let returned: Vec<_> = senders
                .into_iter()
                .flat_map(|s| s.join().unwrap())
                .collect();
            let total = 2 * per_sender;
            assert_eq!(
                drops.get() + got.len() + returned.len(),
                total,
                "{flavor:?}: a value was lost or duplicated"
            );
            drop((got, returned));
            assert_eq!(drops.get(), total, "{flavor:?}");
        }
    }
}
