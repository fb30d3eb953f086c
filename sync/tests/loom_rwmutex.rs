//! loom models of `RwMutex`: exclusion, the hand-off from the last reader to
//! a waiting writer, writer preference with the held-back readers admitted
//! afterwards, and cancellation of an async writer that held readers back.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p hoare-sync --release --target-dir target/loom --test loom_rwmutex`.
//!
//! The protected value lives in a loom cell: a write guard alive together
//! with any other guard is reported as a data race, and a thread left asleep
//! by a missing hand-off is reported as a deadlock.
#![cfg(loom)]

use std::pin::pin;
use std::task::Poll;

use hoare_sync::RwMutex;
use loom::sync::Arc;
use loom::thread;

mod util;
use util::{model, poll_once};

/// Two writers and a reader. Each writer adds one; the reader sees a state
/// some prefix of the writes produced. Overlapping guards would be a data
/// race on the cell. This also covers the race between the last reader's
/// hand-off to a queued writer and a newcomer writer: the newcomer must not
/// take the lock lock-free while the hand-off is in flight.
#[test]
fn writers_exclude_each_other_and_readers() {
    model(3, || {
        let l = Arc::new(RwMutex::new(0usize));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let l = l.clone();
                thread::spawn(move || *l.write() += 1)
            })
            .collect();
        let seen = *l.read();
        assert!(seen <= 2, "reader saw {seen}");
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(*l.read(), 2);
    });
}

/// Two readers hold the lock at the same time without being reported as
/// racing (they only read), and a writer after them sees a consistent
/// value.
#[test]
fn readers_share_while_a_writer_waits_its_turn() {
    model(3, || {
        let l = Arc::new(RwMutex::new(1usize));
        let l1 = l.clone();
        let reader = thread::spawn(move || *l1.read());
        let l2 = l.clone();
        let writer = thread::spawn(move || *l2.write() *= 10);
        let mine = *l.read();
        let theirs = reader.join().unwrap();
        writer.join().unwrap();
        assert!(mine == 1 || mine == 10);
        assert!(theirs == 1 || theirs == 10);
        assert_eq!(*l.read(), 10);
    });
}

/// The main thread holds a read lock while a writer blocks; dropping the
/// last read guard must hand the lock to the writer (`hand_to_writer`).
/// Completing proves the writer was woken.
#[test]
fn last_reader_hands_the_lock_to_a_waiting_writer() {
    model(3, || {
        let l = Arc::new(RwMutex::new(0usize));
        let r = l.read();
        let l2 = l.clone();
        let writer = thread::spawn(move || *l2.write() += 1);
        drop(r);
        writer.join().unwrap();
        assert_eq!(*l.read(), 1);
    });
}

/// Writer preference, and no reader starvation. The main thread holds a
/// read lock and waits until a writer has queued (from then on `try_read`
/// fails). A reader that arrives now must queue behind the writer, so it
/// sees the writer's value; and it must be admitted once the writer is
/// done.
#[test]
fn reader_behind_a_waiting_writer_is_admitted_after_it() {
    model(2, || {
        let l = Arc::new(RwMutex::new(0usize));
        let r = l.read();
        let l1 = l.clone();
        let writer = thread::spawn(move || *l1.write() += 1);
        // A failing `try_read` while we hold a read lock means a writer
        // is queued.
        while let Some(g) = l.try_read() {
            drop(g);
            thread::yield_now();
        }
        let l2 = l.clone();
        let reader = thread::spawn(move || *l2.read());
        drop(r);
        writer.join().unwrap();
        assert_eq!(reader.join().unwrap(), 1, "the reader overtook the writer");
    });
}

/// A queued `write_async` future holds back a reader (writer preference)
/// and is then dropped. Both orders of the two releases are checked: the
/// future dropped while the main thread still reads (the cancel must admit
/// the held-back reader itself), and after the read lock is gone (the lock
/// was handed to the future, whose drop must pass it on). The reader
/// completes, and the lock is free at the end.
#[test]
fn dropped_write_future_admits_the_readers_it_held_back() {
    for cancel_first in [true, false] {
        model(3, move || {
            let l = Arc::new(RwMutex::new(0usize));
            let r = l.read();
            let mut f = Box::pin(l.write_async());
            assert!(
                poll_once(f.as_mut()).is_pending(),
                "a reader holds the lock"
            );
            let l2 = l.clone();
            let reader = thread::spawn(move || *l2.read());
            if cancel_first {
                drop(f);
                drop(r);
            } else {
                drop(r);
                drop(f);
            }
            assert_eq!(reader.join().unwrap(), 0, "the dropped writer wrote");
            assert!(l.try_write().is_some(), "the lock was left held");
        });
    }
}

/// The cancellation races with the last read unlock. One thread holds a
/// read lock briefly; the main thread polls a `write_async` future once
/// (queued if the read lock is held at that moment) and drops it; another
/// reader arrives meanwhile. However the hand-off to the writer, the
/// writer's removal and the readers' admission interleave, nobody is left
/// waiting and the lock ends free.
#[test]
fn dropped_write_future_racing_the_last_reader_strands_nobody() {
    model(3, || {
        let l = Arc::new(RwMutex::new(0usize));
        let l1 = l.clone();
        let first = thread::spawn(move || *l1.read());
        let l2 = l.clone();
        let second = thread::spawn(move || *l2.read());
        {
            let mut f = pin!(l.write_async());
            if let Poll::Ready(mut g) = poll_once(f.as_mut()) {
                *g += 1;
            }
        }
        let a = first.join().unwrap();
        let b = second.join().unwrap();
        assert!(a <= 1 && b <= 1);
        assert!(l.try_write().is_some(), "the lock was left held");
    });
}
