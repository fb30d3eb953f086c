//! The buffered channel, `bounded(n)` with n > 0: it holds exactly n
//! values, a send blocks only while it is full, values come out in the
//! order they went in, and `len`/`is_full`/`capacity` say so.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::thread;
use std::time::Duration;

use hoare_chan::{TryRecvError, TrySendError, bounded};

mod util;
use util::{poll_once, settle};

const CAPS: &[usize] = if cfg!(miri) {
    &[1, 3]
} else {
    &[1, 2, 3, 7, 16, 100]
};

#[test]
fn bounded_n_buffers_exactly_n_values() {
    for &cap in CAPS {
        let (tx, rx) = bounded(cap);
        for i in 0..cap {
            assert_eq!(tx.try_send(i), Ok(()), "cap {cap}: value {i} should fit");
            assert_eq!(tx.len(), i + 1);
        }
        assert!(tx.is_full() && rx.is_full());
        assert_eq!(
            tx.try_send(cap),
            Err(TrySendError::Full(cap)),
            "cap {cap}: one more than the capacity fit"
        );
        assert_eq!(rx.len(), cap);
        // One out makes room for exactly one in.
        assert_eq!(rx.recv(), Ok(0));
        assert!(!tx.is_full());
        assert_eq!(tx.try_send(cap), Ok(()));
        assert_eq!(tx.try_send(cap + 1), Err(TrySendError::Full(cap + 1)));
        let got: Vec<usize> = rx.try_iter().collect();
        assert_eq!(got, (1..=cap).collect::<Vec<_>>());
        assert!(rx.is_empty());
    }
}

#[test]
fn capacity_is_the_requested_size() {
    for &cap in CAPS {
        let (tx, rx) = bounded::<u8>(cap);
        assert_eq!(tx.capacity(), Some(cap));
        assert_eq!(rx.capacity(), Some(cap));
        assert!(tx.is_empty() && rx.is_empty());
        assert!(!tx.is_full());
    }
}

#[test]
fn send_on_a_full_channel_blocks_until_a_receive_makes_room() {
    let (tx, rx) = bounded(2);
    tx.send(0).unwrap();
    tx.send(1).unwrap();
    let received = Arc::new(AtomicBool::new(false));
    let r = received.clone();
    let receiver = thread::spawn(move || {
        settle();
        r.store(true, Ordering::SeqCst);
        let first = rx.recv().unwrap();
        (first, rx)
    });
    tx.send(2).unwrap();
    assert!(
        received.load(Ordering::SeqCst),
        "send on a full channel returned before any receive"
    );
    let (first, rx) = receiver.join().unwrap();
    assert_eq!(first, 0);
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [1, 2]);
}

#[test]
fn recv_on_an_empty_channel_blocks_until_a_send() {
    let (tx, rx) = bounded(4);
    let sent = Arc::new(AtomicBool::new(false));
    let s = sent.clone();
    let sender = thread::spawn(move || {
        settle();
        s.store(true, Ordering::SeqCst);
        tx.send(42).unwrap();
        tx // kept open: a close must not stand in for the wake-up
    });
    assert_eq!(rx.recv(), Ok(42));
    assert!(sent.load(Ordering::SeqCst));
    drop(sender.join().unwrap());
}

#[test]
fn values_come_out_in_order_across_many_laps_of_the_ring() {
    // Cycles the ring's positions through many laps with the buffer at
    // every fill level.
    let laps = if cfg!(miri) { 3 } else { 50 };
    for &cap in CAPS {
        let (tx, rx) = bounded(cap);
        let mut next_in = 0usize;
        let mut next_out = 0usize;
        for lap in 0..laps {
            let fill = 1 + (lap % cap);
            for _ in 0..fill {
                tx.try_send(next_in).unwrap();
                next_in += 1;
            }
            assert_eq!(rx.len(), fill);
            for _ in 0..fill {
                assert_eq!(rx.try_recv(), Ok(next_out));
                next_out += 1;
            }
            assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        }
    }
}

#[test]
fn a_producer_thread_and_a_consumer_thread_keep_fifo_order() {
    let n = if cfg!(miri) { 30 } else { 10_000 };
    for cap in [1, 3, 64] {
        let (tx, rx) = bounded(cap);
        let producer = thread::spawn(move || {
            for i in 0..n {
                tx.send(i).unwrap();
            }
        });
        for i in 0..n {
            assert_eq!(rx.recv(), Ok(i), "cap {cap}");
        }
        assert!(rx.recv().is_err());
        producer.join().unwrap();
    }
}

#[test]
fn send_timeout_on_a_full_channel_gives_the_value_back() {
    let (tx, rx) = bounded(1);
    tx.send(1).unwrap();
    let err = tx.send_timeout(2, Duration::from_millis(10)).unwrap_err();
    assert!(err.is_timeout());
    assert_eq!(err.into_inner(), 2);
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [1]);
}

#[test]
fn len_is_seen_the_same_from_both_handles() {
    let (tx, rx) = bounded(5);
    for i in 0..5 {
        assert_eq!(tx.len(), i);
        assert_eq!(rx.len(), i);
        tx.send(i).unwrap();
    }
    for i in (0..5).rev() {
        rx.recv().unwrap();
        assert_eq!(tx.len(), i);
        assert_eq!(rx.len(), i);
    }
}

#[test]
fn a_send_hands_its_value_to_a_pending_recv_async_on_an_empty_buffer() {
    let (tx, rx) = bounded::<u32>(2);
    let mut fut = Box::pin(rx.recv_async());
    assert!(poll_once(fut.as_mut()).is_pending());
    assert_eq!(tx.try_send(1), Ok(()));
    assert_eq!(rx.len(), 0, "handed over, not buffered");
    assert_eq!(poll_once(fut.as_mut()), Poll::Ready(Ok(1)));
}

#[test]
fn a_dropped_recv_async_gives_its_value_back_ahead_of_the_buffer() {
    let (tx, rx) = bounded::<u32>(1);
    let mut fut = Box::pin(rx.recv_async());
    assert!(poll_once(fut.as_mut()).is_pending());
    assert_eq!(tx.try_send(1), Ok(()));
    drop(fut);
    // The value is back, ahead of what is sent after it; the channel
    // holds one value more than its capacity until it is received.
    assert_eq!(tx.try_send(2), Ok(()));
    assert_eq!(rx.len(), 2);
    assert!(tx.is_full());
    assert_eq!(tx.try_send(3), Err(TrySendError::Full(3)));
    assert_eq!(rx.recv(), Ok(1));
    assert_eq!(rx.recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    // After a close a value given back is still received first.
    let mut fut = Box::pin(rx.recv_async());
    assert!(poll_once(fut.as_mut()).is_pending());
    assert_eq!(tx.try_send(4), Ok(()));
    drop(fut);
    tx.close();
    assert_eq!(rx.try_recv(), Ok(4));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn a_value_given_back_wakes_a_waiting_receiver() {
    let (tx, rx) = bounded::<u32>(1);
    let mut fut = Box::pin(rx.recv_async());
    assert!(poll_once(fut.as_mut()).is_pending());
    assert_eq!(tx.try_send(7), Ok(()));
    std::thread::scope(|s| {
        let h = s.spawn(|| rx.recv());
        settle();
        drop(fut);
        assert_eq!(h.join().unwrap(), Ok(7));
    });
}
