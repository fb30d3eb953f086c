//! The unbounded channel: a send never blocks and never fails while the
//! channel is open, however many values wait; they come out in order,
//! across the internal blocks, and `len` counts them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use hoare_chan::{TryRecvError, unbounded};

mod util;
use util::settle;

// Enough to cross many of the list's blocks (63 values each; 14 under
// Miri).
const N: usize = if cfg!(miri) { 70 } else { 100_000 };

#[test]
fn send_never_blocks_without_a_receiver() {
    let (tx, rx) = unbounded();
    let start = Instant::now();
    for i in 0..N {
        assert_eq!(tx.try_send(i), Ok(()));
    }
    assert_eq!(tx.len(), N);
    assert_eq!(rx.len(), N);
    assert!(!tx.is_full() && !rx.is_full());
    // A zero timeout never expires for a send that has room.
    assert!(tx.send_timeout(N, Duration::ZERO).is_ok());
    if !cfg!(miri) {
        assert!(start.elapsed() < Duration::from_secs(20));
    }
    assert_eq!(rx.len(), N + 1);
}

#[test]
fn blocking_send_returns_while_nobody_receives() {
    // Run in a thread: if `send` ever blocked, the flag would stay unset.
    let (tx, rx) = unbounded();
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    let sender = thread::spawn(move || {
        for i in 0..N {
            tx.send(i).unwrap();
        }
        d.store(true, Ordering::SeqCst);
        tx
    });
    let tx = sender.join().unwrap();
    assert!(done.load(Ordering::SeqCst));
    assert_eq!(rx.len(), N);
    drop(tx);
    assert_eq!(rx.iter().count(), N);
}

#[test]
fn values_come_out_in_order_across_blocks() {
    let (tx, rx) = unbounded();
    for i in 0..N {
        tx.send(i).unwrap();
    }
    for i in 0..N {
        assert_eq!(rx.try_recv(), Ok(i));
        assert_eq!(rx.len(), N - i - 1);
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn interleaved_sends_and_receives_keep_order_and_length() {
    let (tx, rx) = unbounded();
    let (mut next_in, mut next_out) = (0usize, 0usize);
    let rounds = if cfg!(miri) { 10 } else { 500 };
    for round in 0..rounds {
        for _ in 0..(round % 45) {
            tx.send(next_in).unwrap();
            next_in += 1;
        }
        assert_eq!(rx.len(), next_in - next_out);
        for _ in 0..(round % 37) {
            match rx.try_recv() {
                Ok(v) => {
                    assert_eq!(v, next_out);
                    next_out += 1;
                }
                Err(TryRecvError::Empty) => assert_eq!(next_in, next_out),
                Err(TryRecvError::Closed) => panic!("closed"),
            }
        }
    }
    drop(tx);
    let rest: Vec<usize> = rx.iter().collect();
    assert_eq!(rest, (next_out..next_in).collect::<Vec<_>>());
}

#[test]
fn capacity_is_none_and_the_channel_is_never_full() {
    let (tx, rx) = unbounded::<u8>();
    assert_eq!(tx.capacity(), None);
    assert_eq!(rx.capacity(), None);
    assert!(!tx.is_full());
    assert!(tx.is_empty() && rx.is_empty());
}

#[test]
fn a_blocked_receiver_is_woken_by_a_send() {
    let (tx, rx) = unbounded();
    let receiver = thread::spawn(move || rx.recv());
    settle();
    tx.send("wake").unwrap();
    assert_eq!(receiver.join().unwrap(), Ok("wake"));
}

#[test]
fn a_producer_thread_and_a_consumer_thread_keep_fifo_order() {
    let n = if cfg!(miri) { 40 } else { 20_000 };
    let (tx, rx) = unbounded();
    let producer = thread::spawn(move || {
        for i in 0..n {
            tx.send(i).unwrap();
        }
    });
    for i in 0..n {
        assert_eq!(rx.recv(), Ok(i));
    }
    assert!(rx.recv().is_err());
    producer.join().unwrap();
}
