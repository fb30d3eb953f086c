//! The timeout and deadline forms on every flavor: they give up after
//! roughly the requested time with the value returned, they succeed when a
//! partner arrives in time, a ready value beats an expired deadline, and a
//! timed out rendezvous send never delivers later.

use std::thread;
use std::time::{Duration, Instant};

use hoare_chan::{RecvTimeoutError, SendTimeoutError, TryRecvError, bounded};

mod util;
use util::{BLOCKING_SEND, FLAVORS, Flavor, settle};

const SHORT: Duration = Duration::from_millis(30);

/// Wall-clock checks are skipped under Miri, whose clock is virtual.
fn assert_waited(start: Instant, at_least: Duration) {
    if !cfg!(miri) {
        let waited = start.elapsed();
        // A timer may fire a little early by a clock tick; never by half.
        assert!(
            waited >= at_least / 2,
            "gave up after {waited:?}, asked {at_least:?}"
        );
        assert!(
            waited < at_least + Duration::from_secs(20),
            "waited {waited:?}"
        );
    }
}

#[test]
fn recv_timeout_on_an_empty_channel_times_out() {
    for flavor in FLAVORS {
        let (_tx, rx) = flavor.make::<u8>();
        let start = Instant::now();
        assert_eq!(
            rx.recv_timeout(SHORT),
            Err(RecvTimeoutError::Timeout),
            "{flavor:?}"
        );
        assert_waited(start, SHORT);
    }
}

#[test]
fn recv_deadline_on_an_empty_channel_times_out() {
    for flavor in FLAVORS {
        let (_tx, rx) = flavor.make::<u8>();
        let start = Instant::now();
        assert_eq!(
            rx.recv_deadline(start + SHORT),
            Err(RecvTimeoutError::Timeout),
            "{flavor:?}"
        );
        assert!(
            Instant::now() >= start + SHORT,
            "{flavor:?}: woke before the deadline"
        );
    }
}

#[test]
fn send_timeout_on_a_channel_without_room_times_out_with_the_value() {
    for flavor in BLOCKING_SEND {
        let (tx, rx) = flavor.make::<String>();
        flavor.fill(&tx, |i| format!("buffered {i}"));
        let start = Instant::now();
        let err = tx.send_timeout("late".into(), SHORT).unwrap_err();
        assert_waited(start, SHORT);
        assert!(err.is_timeout(), "{flavor:?}");
        assert_eq!(err.into_inner(), "late", "{flavor:?}");
        // Only the buffered values are there.
        drop(tx);
        assert!(rx.iter().all(|v| v.starts_with("buffered")), "{flavor:?}");
    }
}

#[test]
fn send_deadline_on_a_channel_without_room_times_out_with_the_value() {
    for flavor in BLOCKING_SEND {
        let (tx, _rx) = flavor.make::<usize>();
        flavor.fill(&tx, |i| i);
        let start = Instant::now();
        assert_eq!(
            tx.send_deadline(99, start + SHORT),
            Err(SendTimeoutError::Timeout(99)),
            "{flavor:?}"
        );
        assert!(
            Instant::now() >= start + SHORT,
            "{flavor:?}: woke before the deadline"
        );
    }
}

#[test]
fn send_timeout_on_an_unbounded_channel_always_succeeds() {
    let (tx, rx) = Flavor::Unbounded.make();
    for i in 0..100 {
        tx.send_timeout(i, Duration::ZERO).unwrap();
    }
    assert_eq!(rx.len(), 100);
}

#[test]
fn a_timed_out_rendezvous_send_is_never_delivered_later() {
    let (tx, rx) = bounded(0);
    assert_eq!(tx.send_timeout(1, SHORT), Err(SendTimeoutError::Timeout(1)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(rx.recv_timeout(SHORT), Err(RecvTimeoutError::Timeout));
    // A receiver that is already waiting gets the next value, not the old.
    let receiver = thread::spawn(move || rx.recv_timeout(util::HANG));
    settle();
    tx.send(2).unwrap();
    assert_eq!(receiver.join().unwrap(), Ok(2));
}

#[test]
fn a_timed_out_recv_does_not_take_a_later_value() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make();
        assert_eq!(rx.recv_timeout(SHORT), Err(RecvTimeoutError::Timeout));
        // The next value goes to the next receive, not to the gone one.
        let other = rx.clone();
        let receiver = thread::spawn(move || other.recv_timeout(util::HANG));
        settle();
        tx.send(5).unwrap();
        assert_eq!(receiver.join().unwrap(), Ok(5), "{flavor:?}");
    }
}

#[test]
fn recv_timeout_returns_a_value_that_arrives_in_time() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make();
        let sender = util::send_later(tx, 3);
        assert_eq!(rx.recv_timeout(util::HANG), Ok(3), "{flavor:?}");
        drop(sender.join().unwrap());
    }
}

#[test]
fn send_timeout_succeeds_when_room_appears_in_time() {
    for flavor in BLOCKING_SEND {
        let (tx, rx) = flavor.make();
        flavor.fill(&tx, |i| i);
        let receiver = thread::spawn(move || {
            settle();
            rx.iter().collect::<Vec<_>>()
        });
        tx.send_timeout(100, util::HANG).unwrap();
        drop(tx);
        let got = receiver.join().unwrap();
        assert_eq!(got.last(), Some(&100), "{flavor:?}");
    }
}

#[test]
fn a_ready_value_is_returned_even_when_the_deadline_has_passed() {
    let past = Instant::now();
    thread::sleep(Duration::from_millis(1));
    for flavor in util::BUFFERED {
        let (tx, rx) = flavor.make();
        tx.send(1).unwrap();
        assert_eq!(rx.recv_deadline(past), Ok(1), "{flavor:?}");
        assert_eq!(
            rx.recv_deadline(past),
            Err(RecvTimeoutError::Timeout),
            "{flavor:?}"
        );
        assert_eq!(tx.send_deadline(2, past), Ok(()), "{flavor:?}");
        assert_eq!(rx.recv_timeout(Duration::ZERO), Ok(2), "{flavor:?}");
    }
    // Unbuffered: a waiting sender is ready for an expired receive.
    let (tx, rx) = bounded(0);
    let sender = thread::spawn(move || tx.send(7));
    let mut got = Err(RecvTimeoutError::Timeout);
    for _ in 0..10_000 {
        got = rx.recv_deadline(past);
        if got.is_ok() {
            break;
        }
        thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(got, Ok(7));
    sender.join().unwrap().unwrap();
}

#[test]
fn an_overflowing_timeout_waits_without_panicking() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make();
        let sender = thread::spawn(move || {
            settle();
            tx.send_timeout(1, Duration::MAX).unwrap();
            tx
        });
        assert_eq!(rx.recv_timeout(Duration::MAX), Ok(1), "{flavor:?}");
        drop(sender.join().unwrap());
    }
}

#[test]
fn timeouts_report_closed_rather_than_timeout_on_a_closed_channel() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<u8>();
        tx.close();
        let start = Instant::now();
        assert_eq!(rx.recv_timeout(util::HANG), Err(RecvTimeoutError::Closed));
        assert_eq!(
            tx.send_timeout(1, util::HANG),
            Err(SendTimeoutError::Closed(1))
        );
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{flavor:?}: waited on a closed channel"
        );
    }
}

#[test]
fn repeated_short_timeouts_leave_the_channel_usable() {
    // Many withdrawn waits must not leave stale waiters behind that swallow
    // a later wake-up.
    let rounds = if cfg!(miri) { 3 } else { 50 };
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make();
        for _ in 0..rounds {
            assert!(rx.recv_timeout(Duration::from_micros(200)).is_err());
        }
        if flavor != Flavor::Unbounded {
            if let Some(cap) = flavor.capacity() {
                let (tx2, _rx2) = flavor.make::<usize>();
                flavor.fill(&tx2, |i| i);
                for _ in 0..rounds.min(5) {
                    assert!(tx2.send_timeout(0, Duration::from_micros(200)).is_err());
                }
                assert_eq!(tx2.len(), cap);
            }
        }
        let receiver = thread::spawn(move || rx.recv_timeout(util::HANG));
        settle();
        tx.send(1).unwrap();
        assert_eq!(receiver.join().unwrap(), Ok(1), "{flavor:?}");
    }
}
