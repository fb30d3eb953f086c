//! loom models of the unbounded flavor (`unbounded()`): slot reservation
//! against the receivers' waiter list, `close` against blocked receivers,
//! `try_recv` against in-flight sends, the hand-over from one block to the
//! next (linking by the sender of a block's last slot, moving `head`), and
//! block reclamation: the receiver of a block's last slot (its *closer*)
//! retiring it, recycling it as the spare at once when every `read` flag
//! is set or parking it in `garbage` while another receiver is still
//! reading; a later closer sweeping `garbage` (with its own block free or
//! busy) and the swept or recycled block carrying later values; and a
//! sender taking the spare while a closer recycles into it.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p hoare-chan --release --target-dir target/loom --test loom_list`.
//!
//! A blocked receiver waits through loom, so a wake-up that is never sent
//! shows as a loom deadlock; slots are loom cells, so a read of a slot
//! whose write is not published is a reported data race, and so is a write
//! to a slot of a recycled block that is not ordered after the read of the
//! same slot in the block's previous life. loom does not track plain
//! frees: a block freed too early is caught only indirectly (a block reset
//! under a reader that has yet to see its slot's `written` flag leaves
//! that reader waiting forever, which loom reports as exceeding its branch
//! limit; a block freed twice aborts in the allocator), and the Miri runs
//! of the behaviour tests check frees directly. Spinning is off under loom.
#![cfg(loom)]

use hoare_chan::{TryRecvError, unbounded};
use loom::thread;

mod loom_util;
use loom_util::{Counted, Drops, model, two_senders_one_receiver};

/// Slots per block of the unbounded flavor under loom (`BLOCK_CAP` in
/// `flavors/list.rs`: 63 natively, 14 under Miri, 7 under loom).
const BLOCK_CAP: usize = 7;

/// Two senders race for slots while the receiver blocks on the empty
/// channel: each send must wake it or be seen by its re-check after
/// registering. Both values arrive once, and each sender's value in order.
#[test]
fn two_senders_wake_the_blocked_receiver() {
    model(|| {
        let (tx, rx) = unbounded::<usize>();
        assert_eq!(two_senders_one_receiver(&tx, &rx), [1, 2]);
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

/// Two receivers take the last two values of a full block at once. The
/// one that takes the block's last slot (the closer) moves `head` to the
/// next block, reads its value and retires the old block: if the other
/// receiver has set its slot's `read` flag, the block is reset and becomes
/// the spare; if it is still reading, the block goes to `garbage`, which
/// `Drop` frees here (there is no later closer). Either way the block is
/// not reset before the other read is done (a reset that cleared the
/// other slot's `written` flag first would leave that receiver waiting
/// for ever), and it is freed once. The next block's value is still
/// received afterwards.
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

/// Two receivers race for the last two slots of a full block B0, so that
/// its closer may retire it while the other receiver is still between
/// reserving its slot and setting its `read` flag: then B0 goes to
/// `garbage` (otherwise it becomes the spare at once). With both threads
/// joined, the next block B1 (filled before the race) is drained: its
/// closer finds B1 fully read, makes it the spare, and sweeps `garbage`,
/// where B0 is free by now: B0 is reset and, the spare being taken,
/// freed. Then two more blocks' worth of values go through; the first
/// block linked after the sweep is the spare (B1, or B0 if it was
/// recycled at once). Every value is received once, in order, and dropped
/// once; a B0 reset under the busy reader could leave it waiting for ever
/// for its slot's `written` flag, and a B0 both swept and freed by `Drop`
/// would be a double free.
#[test]
fn a_block_retired_under_a_busy_reader_is_swept_by_the_next_closer() {
    model(|| {
        let n = 4 * BLOCK_CAP;
        let drops = Drops::new(n);
        let (tx, rx) = unbounded::<Counted>();
        // B0 and B1 full (B2 linked); all of B0 but its last two values
        // received.
        for id in 0..2 * BLOCK_CAP {
            tx.send(Counted::new(&drops, id)).unwrap();
        }
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
        // B1's closer (here) recycles B1 and sweeps B0.
        for id in BLOCK_CAP..2 * BLOCK_CAP {
            assert_eq!(rx.try_recv().unwrap().id, id);
        }
        // B2 full (linking the spare as B3), B3 full.
        for id in 2 * BLOCK_CAP..n {
            tx.send(Counted::new(&drops, id)).unwrap();
        }
        for id in 2 * BLOCK_CAP..n {
            assert_eq!(rx.try_recv().unwrap().id, id);
        }
        drop(tx);
        assert!(matches!(rx.try_recv(), Err(TryRecvError::Closed)));
        drop(rx);
        drops.assert_each_dropped_once();
    });
}

/// As the model above, but the later closer's own block is busy too. Two
/// receivers race for the last two slots of B0, then (joined, B1 drained
/// but for its last two values) two more race for the last two slots of
/// B1. When both closers find the other receiver still reading, B0 goes
/// to `garbage` and B1's closer, pushing B1 there as well, sweeps B0
/// (free by now): with the spare empty, B0 becomes the spare, and the
/// next block linked (B3) is the swept B0, which carries a block of
/// values (B1 is swept later by B2's closer). In the other outcomes a
/// block is recycled at once or swept by a later closer. Every value is
/// received once, in order, and dropped once; a block swept twice or both
/// swept and freed by `Drop` would be a double free.
#[test]
fn a_closer_with_a_busy_block_still_sweeps_and_the_swept_block_is_reused() {
    model(|| {
        let n = 4 * BLOCK_CAP;
        let drops = Drops::new(n);
        let (tx, rx) = unbounded::<Counted>();
        // B0 and B1 full (B2 linked, the spare empty).
        for id in 0..2 * BLOCK_CAP {
            tx.send(Counted::new(&drops, id)).unwrap();
        }
        for id in 0..BLOCK_CAP - 2 {
            assert_eq!(rx.try_recv().unwrap().id, id);
        }
        let race = |rx: &hoare_chan::Receiver<Counted>| {
            let hs: Vec<_> = (0..2)
                .map(|_| {
                    let rx = rx.clone();
                    thread::spawn(move || rx.try_recv().map(|v| v.id).ok())
                })
                .collect();
            let mut got: Vec<usize> = hs.into_iter().filter_map(|h| h.join().unwrap()).collect();
            got.sort_unstable();
            got
        };
        assert_eq!(race(&rx), [BLOCK_CAP - 2, BLOCK_CAP - 1]);
        for id in BLOCK_CAP..2 * BLOCK_CAP - 2 {
            assert_eq!(rx.try_recv().unwrap().id, id);
        }
        assert_eq!(race(&rx), [2 * BLOCK_CAP - 2, 2 * BLOCK_CAP - 1]);
        // B2 full (linking the spare as B3), B3 full.
        for id in 2 * BLOCK_CAP..n {
            tx.send(Counted::new(&drops, id)).unwrap();
        }
        for id in 2 * BLOCK_CAP..n {
            assert_eq!(rx.try_recv().unwrap().id, id);
        }
        drop(tx);
        assert!(matches!(rx.try_recv(), Err(TryRecvError::Closed)));
        drop(rx);
        drops.assert_each_dropped_once();
    });
}

/// A sender takes the spare while a closer recycles into it. Before the
/// race the spare is empty, `head` is two slots before the end of block
/// B1 and `tail` at the last slot of B2. A receiver takes B1's last two
/// values, the second as its closer: B1 is fully read, so it is reset and
/// published as the spare (Release CAS). At the same time a sender fills
/// B2's last slot, which takes the spare (Acquire swap) for the block it
/// links (B3), then fills B3 and puts one value in the block B3's last
/// slot links (B4). If the CAS comes first, B3 is B1, and the sender's
/// writes to its slots 29 and 30 must happen after the receiver's reads
/// of the same cells in B1's previous life (else loom reports the race):
/// the CAS/swap pair carries that order. If the swap comes first, B3 is a
/// new block and B1 becomes the spare, which B4 may then be. Every value
/// is received once, in order, and dropped once.
#[test]
fn a_sender_takes_the_spare_while_a_closer_recycles_a_block() {
    model(|| {
        // Four blocks of values (B0 to B3) and one in B4, linked by B3's
        // last sender.
        let n = 4 * BLOCK_CAP + 1;
        let drops = Drops::new(n);
        let (tx, rx) = unbounded::<Counted>();
        // B0 through (recycled as the spare), B1 full (linking the spare
        // as B2: the spare is empty again), B2 full but its last slot.
        for id in 0..BLOCK_CAP {
            tx.send(Counted::new(&drops, id)).unwrap();
        }
        for id in 0..BLOCK_CAP {
            assert_eq!(rx.try_recv().unwrap().id, id);
        }
        for id in BLOCK_CAP..3 * BLOCK_CAP - 1 {
            tx.send(Counted::new(&drops, id)).unwrap();
        }
        for id in BLOCK_CAP..2 * BLOCK_CAP - 2 {
            assert_eq!(rx.try_recv().unwrap().id, id);
        }
        let rx2 = rx.clone();
        let receiver =
            thread::spawn(move || [rx2.try_recv().unwrap().id, rx2.try_recv().unwrap().id]);
        let vs: Vec<Counted> = (3 * BLOCK_CAP - 1..n)
            .map(|id| Counted::new(&drops, id))
            .collect();
        let tx2 = tx.clone();
        let sender = thread::spawn(move || {
            for v in vs {
                tx2.send(v).unwrap();
            }
        });
        assert_eq!(
            receiver.join().unwrap(),
            [2 * BLOCK_CAP - 2, 2 * BLOCK_CAP - 1]
        );
        sender.join().unwrap();
        for id in 2 * BLOCK_CAP..n {
            assert_eq!(rx.try_recv().unwrap().id, id);
        }
        drop(tx);
        assert!(matches!(rx.try_recv(), Err(TryRecvError::Closed)));
        drop(rx);
        drops.assert_each_dropped_once();
    });
}
