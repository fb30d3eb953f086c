//! Closing (Go's `close`), explicit and by dropping the last handle of a
//! side: `close` reports whether it closed, sends fail and give the value
//! back, receivers drain what is buffered before they see the close, and
//! every thread blocked on the channel wakes up.

use std::thread;
use std::time::Duration;

use hoare_chan::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};

mod util;
use util::{BLOCKING_SEND, BUFFERED, FLAVORS, Flavor, settle};

const BLOCKED: usize = if cfg!(miri) { 2 } else { 4 };

#[test]
fn close_returns_true_then_false() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<u8>();
        let tx2 = tx.clone();
        assert!(!tx.is_closed() && !rx.is_closed());
        assert!(tx.close(), "{flavor:?}: the first close closes");
        assert!(!tx.close(), "{flavor:?}: a second close reports false");
        assert!(!tx2.close(), "{flavor:?}: a close through a clone too");
        assert!(tx.is_closed() && tx2.is_closed() && rx.is_closed());
    }
}

#[test]
fn close_after_the_receiver_is_gone_returns_false() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<u8>();
        drop(rx);
        assert!(tx.is_closed(), "{flavor:?}");
        assert!(!tx.close(), "{flavor:?}");
    }
}

#[test]
fn every_send_form_gives_the_value_back_after_close() {
    for flavor in FLAVORS {
        let (tx, _rx) = flavor.make::<String>();
        tx.close();
        assert_eq!(
            tx.send("a".into()),
            Err(SendError("a".into())),
            "{flavor:?}"
        );
        assert_eq!(
            tx.try_send("b".into()),
            Err(TrySendError::Closed("b".into())),
            "{flavor:?}"
        );
        assert_eq!(
            tx.send_timeout("c".into(), Duration::from_secs(10)),
            Err(SendTimeoutError::Closed("c".into())),
            "{flavor:?}"
        );
        assert_eq!(
            tx.send_deadline(
                "d".into(),
                std::time::Instant::now() + Duration::from_secs(10)
            ),
            Err(SendTimeoutError::Closed("d".into())),
            "{flavor:?}"
        );
        assert_eq!(
            futures::executor::block_on(tx.send_async("e".into())),
            Err(SendError("e".into())),
            "{flavor:?}"
        );
    }
}

#[test]
fn receivers_drain_every_buffered_value_then_see_the_close() {
    for flavor in BUFFERED {
        let (tx, rx) = flavor.make();
        let n = flavor.capacity().unwrap_or(40);
        for i in 0..n {
            tx.send(i).unwrap();
        }
        assert!(tx.close());
        assert!(rx.is_closed());
        assert_eq!(rx.len(), n, "{flavor:?}: close dropped buffered values");
        // Alternate the receive forms; all drain first.
        for i in 0..n {
            let got = match i % 3 {
                0 => rx.recv().ok(),
                1 => rx.try_recv().ok(),
                _ => rx.recv_timeout(Duration::from_secs(1)).ok(),
            };
            assert_eq!(got, Some(i), "{flavor:?}");
        }
        assert_eq!(rx.recv(), Err(RecvError), "{flavor:?}");
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed), "{flavor:?}");
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(10)),
            Err(RecvTimeoutError::Closed),
            "{flavor:?}"
        );
        assert_eq!(
            futures::executor::block_on(rx.recv_async()),
            Err(RecvError),
            "{flavor:?}"
        );
    }
}

#[test]
fn recv_on_a_closed_empty_channel_fails_at_once() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<u8>();
        tx.close();
        assert_eq!(rx.recv(), Err(RecvError), "{flavor:?}");
        assert!(rx.iter().next().is_none());
    }
}

#[test]
fn close_wakes_every_receiver_blocked_in_recv() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<u8>();
        let receivers: Vec<_> = (0..BLOCKED)
            .map(|i| {
                let rx = rx.clone();
                thread::spawn(move || {
                    if i % 2 == 0 {
                        rx.recv().map_err(|_| ())
                    } else {
                        rx.recv_timeout(util::HANG)
                            .map_err(|e| assert!(e.is_closed()))
                    }
                })
            })
            .collect();
        settle();
        assert!(tx.close());
        for r in receivers {
            assert_eq!(r.join().unwrap(), Err(()), "{flavor:?}");
        }
    }
}

#[test]
fn close_wakes_every_sender_blocked_in_send_and_returns_their_values() {
    for flavor in BLOCKING_SEND {
        let (tx, rx) = flavor.make::<usize>();
        flavor.fill(&tx, |i| 1000 + i);
        let senders: Vec<_> = (0..BLOCKED)
            .map(|i| {
                let tx = tx.clone();
                thread::spawn(move || {
                    if i % 2 == 0 {
                        tx.send(i).map_err(SendError::into_inner)
                    } else {
                        tx.send_timeout(i, util::HANG).map_err(|e| {
                            assert!(e.is_closed());
                            e.into_inner()
                        })
                    }
                })
            })
            .collect();
        settle();
        assert!(tx.close());
        for (i, s) in senders.into_iter().enumerate() {
            assert_eq!(s.join().unwrap(), Err(i), "{flavor:?}");
        }
        // What was buffered before the close is still there.
        let cap = flavor.capacity().unwrap();
        assert_eq!(
            rx.iter().collect::<Vec<_>>(),
            (1000..1000 + cap).collect::<Vec<_>>()
        );
    }
}

#[test]
fn dropping_the_last_sender_closes_the_channel() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<u8>();
        let tx2 = tx.clone();
        let receiver = thread::spawn(move || rx.recv());
        settle();
        drop(tx);
        // One sender remains: still open. Prove it by delivering through it.
        if flavor == Flavor::Zero {
            tx2.send(1).unwrap();
        } else {
            tx2.try_send(1).unwrap();
        }
        assert_eq!(receiver.join().unwrap(), Ok(1), "{flavor:?}");
        let rx = {
            let (tx3, rx3) = flavor.make::<u8>();
            drop(tx3);
            rx3
        };
        assert!(rx.is_closed(), "{flavor:?}");
        assert_eq!(rx.recv(), Err(RecvError), "{flavor:?}");
    }
}

#[test]
fn dropping_the_last_sender_wakes_blocked_receivers() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<u8>();
        let receivers: Vec<_> = (0..BLOCKED)
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || rx.recv())
            })
            .collect();
        settle();
        let tx2 = tx.clone();
        drop(tx);
        settle();
        assert!(!rx.is_closed(), "{flavor:?}: closed with a sender left");
        drop(tx2);
        for r in receivers {
            assert_eq!(r.join().unwrap(), Err(RecvError), "{flavor:?}");
        }
    }
}

#[test]
fn after_the_last_receiver_drops_sends_fail_with_their_value() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<String>();
        let rx2 = rx.clone();
        drop(rx);
        assert!(!tx.is_closed(), "{flavor:?}: closed with a receiver left");
        drop(rx2);
        assert!(tx.is_closed(), "{flavor:?}");
        assert_eq!(
            tx.send("x".into()),
            Err(SendError("x".into())),
            "{flavor:?}"
        );
        assert_eq!(
            tx.try_send("y".into()),
            Err(TrySendError::Closed("y".into())),
            "{flavor:?}"
        );
    }
}

#[test]
fn dropping_the_last_receiver_wakes_blocked_senders() {
    for flavor in BLOCKING_SEND {
        let (tx, rx) = flavor.make::<usize>();
        flavor.fill(&tx, |i| 100 + i);
        let senders: Vec<_> = (0..BLOCKED)
            .map(|i| {
                let tx = tx.clone();
                thread::spawn(move || tx.send(i))
            })
            .collect();
        settle();
        drop(rx);
        for (i, s) in senders.into_iter().enumerate() {
            assert_eq!(s.join().unwrap(), Err(SendError(i)), "{flavor:?}");
        }
    }
}

#[test]
fn close_while_a_rendezvous_sender_waits_returns_its_value() {
    let (tx, rx) = Flavor::Zero.make::<&str>();
    let tx2 = tx.clone();
    let sender = thread::spawn(move || tx2.send("pending"));
    settle();
    tx.close();
    assert_eq!(sender.join().unwrap(), Err(SendError("pending")));
    // Nothing was left behind for a receiver.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn values_sent_before_close_by_other_threads_are_all_received() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<usize>();
        let n = if cfg!(miri) { 10 } else { 500 };
        let producers: Vec<_> = (0..2)
            .map(|p| {
                let tx = tx.clone();
                thread::spawn(move || {
                    let mut sent = 0;
                    for i in 0..n {
                        if tx.send(p * n + i).is_err() {
                            break;
                        }
                        sent += 1;
                    }
                    sent
                })
            })
            .collect();
        let consumer = thread::spawn(move || rx.iter().count());
        thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 5 }));
        tx.close();
        let sent: usize = producers.into_iter().map(|p| p.join().unwrap()).sum();
        assert_eq!(consumer.join().unwrap(), sent, "{flavor:?}");
    }
}
