//! loom models of the unbounded flavor (`unbounded()`): slot reservation
//! against the receivers' waiter list, `close` against blocked receivers,
//! `try_recv` against in-flight sends, and the hand-over from one block to
//! the next (linking by the sender of a block's last slot, moving `head`
//! and freeing the old block by its last reader).
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p hoare-chan --release --target-dir target/loom --test loom_list`.
//!
//! A blocked receiver waits through loom, so a wake-up that is never sent
//! shows as a loom deadlock; slots are loom cells, so a read of a slot
//! whose write is not published is a reported data race, and a block freed
//! while a slot of it is still being read is a use after free that loom's
//! cell tracking reports. Spinning is off under loom.
#![cfg(loom)]

use hoare_chan::{TryRecvError, unbounded};
use loom::thread;

mod loom_util;
use loom_util::{Counted, Drops, model};

/// Slots per block of the unbounded flavor (`BLOCK_CAP` in
/// `flavors/list.rs`).
const BLOCK_CAP: usize = 31;

/// Two senders race for slots while the receiver blocks on the empty
/// channel: each send must wake it or be seen by its re-check after
/// registering. Both values arrive once, and each sender's value in order.
#[test]
fn two_senders_wake_the_blocked_receiver() {
    model(|| {
        let (tx, rx) = unbounded::<usize>();
        let hs: Vec<_> = [1, 2]
            .into_iter()
            .map(|v| {
                let tx = tx.clone();
                thread::spawn(move || tx.send(v).unwrap())
            })
            .collect();
        // `tx` stays alive: a sender thread's drop must not close the
        // channel and so wake a receiver that missed its wake-up.
        let mut got = [rx.recv().unwrap(), rx.recv().unwrap()];
        for h in hs {
            h.join().unwrap();
        }
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
        drop(tx);
        assert!(rx.recv().is_err(), "every sender is gone");
    });
}

/// Two receivers block on the empty channel; one value is sent, then the
/// channel is closed. One receiver gets the value, the other is woken by
/// the close with `Err`: nobody sleeps through either.
#[test]
fn send_then_close_wakes_both_blocked_receivers() {
    model(|| {
        let (tx, rx) = unbounded::<usize>();
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || rx.recv().ok())
            })
            .collect();
        drop(rx);
        tx.send(7).unwrap();
        tx.close();
        let mut got: Vec<_> = hs.into_iter().map(|h| h.join().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, [None, Some(7)]);
    });
}

/// `close` races a send and a blocked receive. A send that returned `Ok`
/// was before the close, so its value is received (by the blocked receiver
/// or the drain after); a send after the close gets its value back. Every
/// value is dropped exactly once.
#[test]
fn close_races_send_and_blocked_receive_and_loses_nothing() {
    model(|| {
        let drops = Drops::new(1);
        let (tx, rx) = unbounded::<Counted>();
        let tx2 = tx.clone();
        let v = Counted::new(&drops, 0);
        let sender = thread::spawn(move || tx2.send(v).map_err(|e| e.into_inner().id));
        let rx2 = rx.clone();
        let receiver = thread::spawn(move || rx2.recv().map(|v| v.id));
        tx.close();
        let sent = sender.join().unwrap();
        let got = receiver.join().unwrap();
        let rest: Vec<usize> = rx.try_iter().map(|v| v.id).collect();
        match sent {
            Ok(()) => {
                let mut seen: Vec<usize> = got.ok().into_iter().chain(rest).collect();
                seen.sort_unstable();
                assert_eq!(seen, [0], "a value sent before the close is received once");
            }
            Err(id) => {
                assert_eq!(id, 0);
                assert!(got.is_err() && rest.is_empty(), "nothing was sent");
            }
        }
        assert!(matches!(rx.try_recv(), Err(TryRecvError::Closed)));
        drop((tx, rx));
        drops.assert_each_dropped_once();
    });
}

/// `try_recv` races a send that may be between reserving its slot and
/// publishing the value: it returns the value (having waited for the
/// write) or `Empty`, never a torn or duplicated value; what it did not
/// take is there after the sender finishes.
#[test]
fn try_recv_sees_a_racing_send_whole_or_not_at_all() {
    model(|| {
        let (tx, rx) = unbounded::<usize>();
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            tx.send(2).unwrap();
        });
        let first = rx.try_recv().ok();
        sender.join().unwrap();
        let rest: Vec<usize> = rx.try_iter().collect();
        let seen: Vec<usize> = first.into_iter().chain(rest).collect();
        assert_eq!(seen, [1, 2], "each value once, in order");
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

/// The block boundary. The first `BLOCK_CAP - 1` slots are filled and all
/// but the last of them received before the race. Then a sender fills the
/// block's last slot (allocating and linking the next block) and the first
/// slot of the next block, while the receiver takes the three values: the
/// last slot of the old block (moving `head` to the new block and freeing
/// the old one once every read is counted) and the first of the new. Order
/// holds, every value is dropped once, and no block is touched after it is
/// freed (loom tracks the cells).
#[test]
fn send_and_receive_across_a_block_boundary() {
    model(|| {
        let drops = Drops::new(BLOCK_CAP + 1);
        let (tx, rx) = unbounded::<Counted>();
        // Kept alive so the sender thread's drop cannot close the channel
        // (a close would wake a receiver that missed its wake-up).
        let keep = tx.clone();
        for id in 0..BLOCK_CAP - 1 {
            tx.send(Counted::new(&drops, id)).unwrap();
        }
        for id in 0..BLOCK_CAP - 2 {
            assert_eq!(rx.try_recv().unwrap().id, id);
        }
        let vs = [
            Counted::new(&drops, BLOCK_CAP - 1),
            Counted::new(&drops, BLOCK_CAP),
        ];
        let sender = thread::spawn(move || {
            for v in vs {
                tx.send(v).unwrap();
            }
        });
        let got: Vec<usize> = (0..3).map(|_| rx.recv().unwrap().id).collect();
        sender.join().unwrap();
        assert_eq!(got, [BLOCK_CAP - 2, BLOCK_CAP - 1, BLOCK_CAP]);
        drop(keep);
        assert!(rx.recv().is_err(), "every sender is gone");
        drop(rx);
        drops.assert_each_dropped_once();
    });
}

/// Two receivers take the last two values of a full block at once: the
/// one that takes the block's last slot moves `head` to the next block,
/// and whichever read completes last frees the old block, after the other
/// has finished reading its slot (a free before that read is a loom
/// use-after-free report; no free at all leaks loom objects). The next
/// block's value is still received afterwards.
#[test]
fn two_receivers_finish_a_block_and_it_is_freed_once() {
    model(|| {
        let drops = Drops::new(BLOCK_CAP + 1);
        let (tx, rx) = unbounded::<Counted>();
        for id in 0..=BLOCK_CAP {
            tx.send(Counted::new(&drops, id)).unwrap();
        }
        drop(tx);
        for id in 0..BLOCK_CAP - 2 {
            assert_eq!(rx.try_recv().unwrap().id, id);
        }
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || rx.try_recv().map(|v| v.id).ok())
            })
            .collect();
        let mut got: Vec<usize> = hs.into_iter().filter_map(|h| h.join().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, [BLOCK_CAP - 2, BLOCK_CAP - 1]);
        assert_eq!(rx.recv().unwrap().id, BLOCK_CAP);
        assert!(rx.recv().is_err());
        drop(rx);
        drops.assert_each_dropped_once();
    });
}
