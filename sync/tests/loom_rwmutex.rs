//! loom models of `RwMutex`: exclusion, the hand-off from the last reader to
//! a waiting writer, writer preference with the held-back readers admitted
//! afterwards, and cancellation of an async writer that held readers back.
//!
//! The transitions of the one-add read lock (see `src/rwmutex.rs`) each have
//! a model: a writer claiming the slot while readers hold the lock; a reader
//! arriving while the writer drains, backing out and being the departure that
//! empties the count; the last of several readers handing the lock to the
//! queued writer; a writer unlocking to queued readers and a queued writer at
//! once (the slot passed on, the writer then draining the admitted readers);
//! async readers and writers, pending and cancelled, among blocking ones.
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
use loom::sync::atomic::AtomicBool;
use loom::sync::atomic::Ordering::SeqCst;
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
/// read lock and waits until a writer owns the slot (from then on
/// `try_read` fails). A reader that arrives now must queue behind the
/// writer, so it sees the writer's value; and it must be admitted once the
/// writer is done. Its add finds `WRITER`, so it backs out, and that
/// back-out may be the very departure that empties the count (when the main
/// thread's read lock is gone by then): the reader itself must then hand
/// the lock to the draining writer before it queues behind it. Three
/// preemptions reach that interleaving.
#[test]
fn reader_behind_a_waiting_writer_is_admitted_after_it() {
    model(3, || {
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

/// A writer claims the slot while two readers hold the lock: it must wait
/// for both, and whichever leaves last hands it the lock (`hand_to_drainer`)
/// or the writer, still spinning/queueing, sees the count at 0 itself.
/// Completing proves no hand-off is lost; the cell proves the writer never
/// overlapped a reader.
#[test]
fn last_of_two_readers_hands_the_lock_to_the_writer() {
    model(3, || {
        let l = Arc::new(RwMutex::new(0usize));
        let r = l.read();
        let l1 = l.clone();
        let reader = thread::spawn(move || *l1.read());
        let l2 = l.clone();
        let writer = thread::spawn(move || *l2.write() += 1);
        drop(r);
        let seen = reader.join().unwrap();
        writer.join().unwrap();
        assert!(seen <= 1);
        assert_eq!(*l.read(), 1);
    });
}

/// A writer holds the lock while a reader and a second writer arrive. Its
/// unlock admits the reader and passes the slot to the second writer, which
/// (if the reader was queued) sleeps on until the reader leaves. The reader
/// sees the first write at least, the second writer never overlaps it, and
/// both writes land.
#[test]
fn unlock_admits_queued_readers_and_passes_the_slot_to_the_next_writer() {
    model(3, || {
        let l = Arc::new(RwMutex::new(0usize));
        let mut w = l.write();
        let l1 = l.clone();
        let reader = thread::spawn(move || *l1.read());
        let l2 = l.clone();
        let writer = thread::spawn(move || *l2.write() += 10);
        *w += 1;
        drop(w);
        let seen = reader.join().unwrap();
        writer.join().unwrap();
        assert!(seen == 1 || seen == 11, "reader saw {seen}");
        assert_eq!(*l.read(), 11);
    });
}

/// An async reader waits behind a blocking writer (driven by `block_on`, so
/// a missing wake shows as a deadlock), while a blocking reader comes and
/// goes. The writer's unlock must wake the future's task.
#[test]
fn writer_unlock_wakes_a_pending_read_async() {
    model(3, || {
        let l = Arc::new(RwMutex::new(0usize));
        let mut w = l.write();
        let l1 = l.clone();
        let task = thread::spawn(move || loom::future::block_on(async { *l1.read_async().await }));
        let l2 = l.clone();
        let reader = thread::spawn(move || *l2.read());
        *w = 7;
        drop(w);
        assert_eq!(task.join().unwrap(), 7);
        assert_eq!(reader.join().unwrap(), 7);
    });
}

/// An async writer drains two blocking readers: the departure that empties
/// the count must wake the writer's task.
#[test]
fn last_reader_wakes_a_draining_write_async() {
    model(3, || {
        let l = Arc::new(RwMutex::new(0usize));
        let r = l.read();
        let l1 = l.clone();
        let task =
            thread::spawn(move || loom::future::block_on(async { *l1.write_async().await += 1 }));
        let l2 = l.clone();
        let reader = thread::spawn(move || *l2.read());
        drop(r);
        task.join().unwrap();
        assert!(reader.join().unwrap() <= 1);
        assert_eq!(*l.read(), 1);
    });
}

/// Pending futures of both kinds, polled once while another thread takes
/// and releases the write lock, are dropped: a queued reader or writer
/// leaves the queue and clears its waiting bit, one already handed the lock
/// gives it back, one that claimed the slot gives it up. Nobody is stranded
/// and the lock ends free.
#[test]
fn dropped_futures_racing_a_writer_strand_nobody() {
    model(3, || {
        let l = Arc::new(RwMutex::new(0usize));
        let l1 = l.clone();
        let writer = thread::spawn(move || *l1.write() += 1);
        {
            let mut r = pin!(l.read_async());
            let mut f = pin!(l.write_async());
            let _ = poll_once(r.as_mut());
            let _ = poll_once(f.as_mut());
        }
        writer.join().unwrap();
        assert!(l.try_write().is_some(), "the lock was left held");
    });
}

/// Starts a thread that takes a read lock on `l` and holds it until
/// `release` is set, and returns once it holds the lock; the thread
/// returns the value it read.
fn hold_read_until(
    l: &Arc<RwMutex<usize>>,
    release: &Arc<AtomicBool>,
) -> thread::JoinHandle<usize> {
    let holding = Arc::new(AtomicBool::new(false));
    let (l1, h1, r1) = (l.clone(), holding.clone(), release.clone());
    let reader = thread::spawn(move || {
        let g = l1.read();
        h1.store(true, SeqCst);
        while !r1.load(SeqCst) {
            thread::yield_now();
        }
        *g
    });
    while !holding.load(SeqCst) {
        thread::yield_now();
    }
    reader
}

/// A draining `write_async` is dropped while a second writer waits for the
/// slot and the reader it drains leaves. When the reader's `fetch_sub`
/// empties the count before the cancellation, the cancelled drainer passes
/// the slot with a count of 0 and hands the second writer the lock itself
/// (the reader's own hand-off then finds nothing to do): the second writer
/// must still see the reader's access as finished (the cell reports a race
/// otherwise; `release_slot` needs its Acquire for this). Otherwise the
/// second writer becomes the drainer and the reader hands it the lock.
#[test]
fn cancelled_drainer_passes_the_slot_to_a_waiting_writer() {
    model(3, || {
        let l = Arc::new(RwMutex::new(0usize));
        let queued = Arc::new(AtomicBool::new(false));
        let reader = hold_read_until(&l, &queued);
        let mut second = Box::pin(l.write_async());
        {
            let mut first = pin!(l.write_async());
            assert!(
                poll_once(first.as_mut()).is_pending(),
                "a reader holds the lock"
            );
            assert!(poll_once(second.as_mut()).is_pending(), "the slot is owned");
            queued.store(true, SeqCst);
        }
        *loom::future::block_on(second) += 1;
        assert_eq!(reader.join().unwrap(), 0);
        assert_eq!(*l.read(), 1);
    });
}

/// A draining `write_async` is dropped while a reader is queued behind it,
/// a second writer waits for the slot, and the reader it drains leaves. The
/// cancellation admits the queued reader and passes the slot to the second
/// writer, which must now drain that reader; a departure that emptied the
/// count just before (its hand-off still pending) must not hand the second
/// writer the lock while the admitted reader holds it.
#[test]
fn cancelled_drainer_admits_queued_readers_before_the_next_writer() {
    model(2, || {
        let l = Arc::new(RwMutex::new(0usize));
        let queued = Arc::new(AtomicBool::new(false));
        let first_reader = hold_read_until(&l, &queued);
        let mut reader = Box::pin(l.read_async());
        let mut writer = Box::pin(l.write_async());
        {
            let mut drainer = pin!(l.write_async());
            assert!(
                poll_once(drainer.as_mut()).is_pending(),
                "a reader holds the lock"
            );
            assert!(
                poll_once(reader.as_mut()).is_pending(),
                "a writer owns the slot"
            );
            assert!(poll_once(writer.as_mut()).is_pending(), "the slot is owned");
            queued.store(true, SeqCst);
        }
        let g = loom::future::block_on(reader);
        assert!(
            poll_once(writer.as_mut()).is_pending(),
            "the writer got the lock while a reader held it"
        );
        assert_eq!(*g, 0);
        drop(g);
        *loom::future::block_on(writer) += 1;
        assert_eq!(first_reader.join().unwrap(), 0);
        assert_eq!(*l.read(), 1);
    });
}
