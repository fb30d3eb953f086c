//! loom models of `Map`: stores, deletes and promotions racing with
//! lock-free reads, the expunge/unexpunge hand-over, and the reclamation of
//! replaced values and tables.
//!
//! Built with crossbeam-epoch's own loom mode, so the epoch's atomics and
//! its deferred frees are part of what loom explores:
//! `RUSTFLAGS="--cfg loom --cfg crossbeam_loom" cargo test -p hoare-sync --release --target-dir target/loom-epoch --test loom_map`.
//!
//! Every value records its own drop in a shared list of flags, and every
//! reader checks, while it still borrows a value, that the value has not
//! been dropped: a value freed while a pinned reader can still see it
//! fails that check. A key lost between the two tables fails the final
//! loads; a value never freed is a leak of a loom `Arc`, which loom
//! reports at the end of each execution.
#![cfg(all(loom, crossbeam_loom))]

use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasherDefault;

use hoare_sync::Map;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::thread;

mod util;
use util::model;

/// A map with a fixed hasher: std's `RandomState` seeds each map
/// differently, which would change the tables' iteration order, and so the
/// order of the atomic operations, from one loom execution to the next.
type FixedMap = Map<u8, Val, BuildHasherDefault<DefaultHasher>>;

fn new_map() -> Arc<FixedMap> {
    Arc::new(Map::with_hasher(BuildHasherDefault::default()))
}

/// Which values have been dropped; value `i` sets flag `i`.
#[derive(Clone)]
struct Drops(Arc<[AtomicBool; 8]>);

impl Drops {
    fn new() -> Self {
        Drops(Arc::new(std::array::from_fn(|_| AtomicBool::new(false))))
    }

    fn value(&self, id: usize) -> Val {
        Val {
            id,
            drops: self.clone(),
        }
    }

    fn dropped(&self, id: usize) -> bool {
        self.0[id].load(Ordering::SeqCst)
    }
}

/// A value that reports its drop; equal when ids are.
struct Val {
    id: usize,
    drops: Drops,
}

impl Val {
    /// Reads the value as a reader would: it must not have been freed.
    fn check(&self) -> usize {
        assert!(
            !self.drops.dropped(self.id),
            "value {} read after it was freed",
            self.id
        );
        self.id
    }
}

impl Clone for Val {
    fn clone(&self) -> Self {
        // A clone shares the id but not the drop flag: clones are dropped
        // freely; only the map's own copy is tracked.
        Val {
            id: self.id,
            drops: Drops::new(),
        }
    }
}

impl PartialEq for Val {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Drop for Val {
    fn drop(&mut self) {
        let was = self.drops.0[self.id].swap(true, Ordering::SeqCst);
        assert!(!was, "value {} dropped twice", self.id);
    }
}

/// Makes `key` a read-table key: stored, then missed once (one entry in
/// the dirty table, so one miss promotes it).
fn promoted(m: &FixedMap, key: u8, value: Val) {
    m.store(key, value);
    assert!(m.load_with(&key, Val::check).is_some());
}

/// A swap on a read-table key (lock-free) races with a reader borrowing
/// the old value: the old value is freed only after the reader is done.
#[test]
fn swapped_value_outlives_its_readers() {
    model(2, || {
        let drops = Drops::new();
        let m = new_map();
        promoted(&m, 1, drops.value(0));
        let writer = {
            let (m, drops) = (m.clone(), drops.clone());
            thread::spawn(move || {
                let old = m.swap(1, drops.value(1)).expect("key 1 is present");
                assert_eq!(old.id, 0);
            })
        };
        let seen = m.load_with(&1, Val::check).expect("key 1 is present");
        assert!(seen <= 1);
        writer.join().unwrap();
        assert_eq!(m.load_with(&1, Val::check), Some(1));
    });
}

/// `load_and_delete` races with a reader; the deleted value is freed only
/// after the reader is done, and exactly once.
#[test]
fn deleted_value_outlives_its_readers() {
    model(2, || {
        let drops = Drops::new();
        let m = new_map();
        promoted(&m, 1, drops.value(0));
        let deleter = {
            let m = m.clone();
            thread::spawn(move || m.load_and_delete(&1).map(|v| v.id))
        };
        let seen = m.load_with(&1, Val::check);
        assert!(seen.is_none() || seen == Some(0));
        assert_eq!(deleter.join().unwrap(), Some(0));
        assert_eq!(m.load_with(&1, Val::check), None);
    });
}

/// A new key (lock, dirty table, amended flag) races with a reader of that
/// key and of a read-table key; the reader's misses may promote the dirty
/// table under the writer.
#[test]
fn new_key_is_seen_once_stored() {
    model(2, || {
        let drops = Drops::new();
        let m = new_map();
        promoted(&m, 1, drops.value(0));
        let writer = {
            let (m, drops) = (m.clone(), drops.clone());
            thread::spawn(move || m.store(2, drops.value(1)))
        };
        let two = m.load_with(&2, Val::check);
        assert!(two.is_none() || two == Some(1));
        assert_eq!(m.load_with(&1, Val::check), Some(0));
        writer.join().unwrap();
        assert_eq!(m.load_with(&2, Val::check), Some(1));
        assert_eq!(m.load_with(&1, Val::check), Some(0));
    });
}

/// The expunge hand-over: key 1 is deleted in the read table; one thread
/// adds a new key (building a dirty table, which expunges key 1) while the
/// other stores key 1 again (lock-free before the expunge, through the
/// lock and an unexpunge after). Key 1 must survive the next promotion.
#[test]
fn store_racing_an_expunge_is_not_lost() {
    model(2, || {
        let drops = Drops::new();
        let m = new_map();
        promoted(&m, 1, drops.value(0));
        m.delete(&1);
        let adder = {
            let (m, drops) = (m.clone(), drops.clone());
            thread::spawn(move || m.store(2, drops.value(1)))
        };
        m.store(1, drops.value(2));
        adder.join().unwrap();
        // Promote whatever the dirty table holds, then look again.
        for _ in 0..2 {
            assert_eq!(m.load_with(&2, Val::check), Some(1));
        }
        assert_eq!(m.load_with(&1, Val::check), Some(2));
        let mut keys = 0;
        m.range(|_, v| {
            v.check();
            keys += 1;
            true
        });
        assert_eq!(keys, 2);
    });
}

/// Two threads `load_or_store` the same new key: one stores, the other
/// loads what it stored.
#[test]
fn load_or_store_stores_once() {
    model(2, || {
        let drops = Drops::new();
        let m = new_map();
        let other = {
            let (m, drops) = (m.clone(), drops.clone());
            thread::spawn(move || {
                let (v, loaded) = m.load_or_store(1, drops.value(0));
                (v.id, loaded)
            })
        };
        let (v, loaded) = m.load_or_store(1, drops.value(1));
        let (w, other_loaded) = other.join().unwrap();
        assert_eq!(v.id, w);
        assert!(loaded != other_loaded, "exactly one stores");
        assert_eq!(m.load_with(&1, Val::check), Some(v.id));
    });
}

/// A promotion (by a reader's miss) races with `clear` and a lock-free
/// read of the old read table, which is freed only after that read.
#[test]
fn replaced_table_outlives_its_readers() {
    model(2, || {
        let drops = Drops::new();
        let m = new_map();
        promoted(&m, 1, drops.value(0));
        let clearer = {
            let m = m.clone();
            thread::spawn(move || m.clear())
        };
        let seen = m.load_with(&1, Val::check);
        assert!(seen.is_none() || seen == Some(0));
        clearer.join().unwrap();
        assert_eq!(m.load_with(&1, Val::check), None);
    });
}
