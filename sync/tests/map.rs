//! Behaviour of `Map` (Go's `sync.Map`): each method's result as Go
//! defines it, the paths through promotion and expunging, every value
//! dropped exactly once, and concurrent use against exact counts.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use hoare_sync::Map;

/// Smaller loops under Miri.
const SCALE: usize = if cfg!(miri) { 1 } else { 20 };

#[test]
fn each_method_behaves_as_in_go() {
    let m: Map<&str, i32> = Map::new();
    assert_eq!(m.load("a"), None);
    assert_eq!(m.swap("a", 1), None);
    assert_eq!(m.swap("a", 2), Some(1));
    m.store("a", 3);
    assert_eq!(m.load("a"), Some(3));

    assert_eq!(m.load_or_store("a", 9), (3, true));
    assert_eq!(m.load_or_store("b", 4), (4, false));
    assert_eq!(m.load_or_store("b", 5), (4, true));

    assert!(!m.compare_and_swap("a", &99, 7));
    assert!(m.compare_and_swap("a", &3, 7));
    assert_eq!(m.load("a"), Some(7));
    assert!(!m.compare_and_swap("missing", &7, 8));

    assert!(!m.compare_and_delete("a", &3));
    assert!(m.compare_and_delete("a", &7));
    assert_eq!(m.load("a"), None);
    assert!(!m.compare_and_delete("a", &7));

    assert_eq!(m.load_and_delete("b"), Some(4));
    assert_eq!(m.load_and_delete("b"), None);
    m.delete("b"); // absent: nothing happens

    // A deleted key can be stored again, by every storing method.
    assert_eq!(m.load_or_store("a", 10), (10, false));
    m.delete("a");
    assert_eq!(m.swap("a", 11), None);
    assert_eq!(m.load_with("a", |v| v + 1), Some(12));
}

#[test]
fn borrowed_keys_find_owned_ones() {
    let m = Map::new();
    m.store(String::from("gopher"), 1);
    assert_eq!(m.load("gopher"), Some(1));
    assert!(m.compare_and_swap("gopher", &1, 2));
    assert_eq!(m.load_and_delete("gopher"), Some(2));
}

/// Walks the read/dirty machinery through its states: keys only in the
/// dirty table, promotion after enough misses, a deleted key expunged when
/// a new dirty table is built, and that key stored again (unexpunged).
#[test]
fn promotion_and_expunging_keep_every_key() {
    let m = Map::new();
    for k in 0..8 {
        m.store(k, k * 10); // all new: dirty table
    }
    // Misses promote the dirty table.
    for _ in 0..3 {
        for k in 0..8 {
            assert_eq!(m.load(&k), Some(k * 10));
        }
    }
    m.delete(&3); // deleted in the read table
    m.store(100, 1000); // new key: builds a dirty table, expunging 3
    assert_eq!(m.load(&3), None);
    m.store(3, 33); // unexpunges 3 into the dirty table
    assert_eq!(m.load(&3), Some(33));
    m.delete(&4);
    m.store(101, 1010);
    assert_eq!(m.load_or_store(4, 44), (44, false)); // 4 was expunged by now? either way stored
    for _ in 0..3 {
        for k in [0, 1, 2, 3, 4, 5, 6, 7, 100, 101] {
            assert!(m.load(&k).is_some(), "key {k} lost");
        }
    }
    m.delete(&100); // deleted after promotion
    let mut seen = HashMap::new();
    m.range(|k, v| {
        assert!(seen.insert(*k, *v).is_none(), "key {k} visited twice");
        true
    });
    let want: HashMap<_, _> = [
        (0, 0),
        (1, 10),
        (2, 20),
        (3, 33),
        (4, 44),
        (5, 50),
        (6, 60),
        (7, 70),
        (101, 1010),
    ]
    .into_iter()
    .collect();
    assert_eq!(seen, want);
}

#[test]
fn range_stops_when_told_and_sees_dirty_keys() {
    let m = Map::new();
    for k in 0..10 {
        m.store(k, ()); // only in the dirty table: range must promote
    }
    let mut visits = 0;
    m.range(|_, _| {
        visits += 1;
        visits < 4
    });
    assert_eq!(visits, 4);
    let mut all = 0;
    m.range(|_, _| {
        all += 1;
        true
    });
    assert_eq!(all, 10);
}

#[test]
fn range_may_use_the_map() {
    let m = Map::new();
    for k in 0..6 {
        m.store(k, k);
    }
    m.range(|k, v| {
        m.store(*k, v + 1);
        m.store(k + 100, 0); // new keys during range
        true
    });
    for k in 0..6 {
        assert_eq!(m.load(&k), Some(k + 1));
    }
}

#[test]
fn clear_deletes_everything() {
    let m = Map::new();
    m.clear(); // empty: nothing to do
    for k in 0..5 {
        m.store(k, k);
    }
    for k in 0..5 {
        m.load(&k); // promote
    }
    m.store(9, 9); // and a dirty-only key
    m.clear();
    for k in [0, 1, 2, 3, 4, 9] {
        assert_eq!(m.load(&k), None);
    }
    let mut any = false;
    m.range(|_, _| {
        any = true;
        true
    });
    assert!(!any);
    m.store(1, 2);
    assert_eq!(m.load(&1), Some(2));
}

#[test]
fn debug_lists_the_entries() {
    let m: Map<u8, u8> = [(1, 2)].into_iter().collect();
    assert_eq!(format!("{m:?}"), "{1: 2}");
}

/// A value that counts how many of its kind are alive.
struct Counted {
    live: Arc<AtomicUsize>,
    n: usize,
}

impl Counted {
    fn new(live: &Arc<AtomicUsize>, n: usize) -> Self {
        live.fetch_add(1, Ordering::SeqCst);
        Counted {
            live: live.clone(),
            n,
        }
    }
}

impl Clone for Counted {
    fn clone(&self) -> Self {
        Counted::new(&self.live, self.n)
    }
}

impl PartialEq for Counted {
    fn eq(&self, other: &Self) -> bool {
        self.n == other.n
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Flushes this thread's garbage and lets the epoch advance until every
/// counted value is freed; fails if some never is (a leak). The epoch
/// advances only once every pinned thread has moved on, and a thread of
/// another test may stay pinned for a while (printing a planned panic's
/// backtrace, say), so this waits up to 20 s.
fn wait_all_freed(live: &AtomicUsize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        for _ in 0..1_000 {
            if live.load(Ordering::SeqCst) == 0 {
                return;
            }
            crossbeam_epoch::pin().flush();
        }
        thread::yield_now();
    }
    panic!("{} values never freed", live.load(Ordering::SeqCst));
}

#[test]
fn every_value_is_freed_once() {
    let live = Arc::new(AtomicUsize::new(0));
    let c = |n| Counted::new(&live, n);
    {
        let m = Map::new();
        for round in 0..3 * SCALE {
            for k in 0..8 {
                m.store(k, c(round));
            }
            for k in 0..8 {
                assert!(m.load(&k).is_some());
            }
            drop(m.swap(1, c(1)));
            drop(m.load_or_store(2, c(2)));
            drop(m.load_or_store(100 + round, c(3)));
            drop(m.load_and_delete(&3));
            m.delete(&4);
            m.compare_and_swap(&5, &c(round), c(7));
            m.compare_and_delete(&6, &c(round));
            if round % 5 == 4 {
                m.clear();
            }
        }
    }
    wait_all_freed(&live);
}

#[test]
fn a_dropped_map_frees_its_values() {
    let live = Arc::new(AtomicUsize::new(0));
    {
        let m = Map::new();
        for k in 0..4 {
            m.store(k, Counted::new(&live, k)); // dirty only
        }
        for k in 0..4 {
            m.load(&k);
        }
        m.store(10, Counted::new(&live, 10)); // read and dirty
    }
    wait_all_freed(&live);
}

#[test]
fn concurrent_compare_and_swap_counts_exactly() {
    const THREADS: usize = 4;
    let per_thread = 50 * SCALE;
    let m = Map::new();
    m.store("n", 0usize);
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..per_thread {
                    loop {
                        let n = m.load("n").unwrap();
                        if m.compare_and_swap("n", &n, n + 1) {
                            break;
                        }
                    }
                }
            });
        }
    });
    assert_eq!(m.load("n"), Some(THREADS * per_thread));
}

#[test]
fn concurrent_load_or_store_stores_once_per_key() {
    const THREADS: usize = 4;
    let keys = 20 * SCALE;
    let m = Map::new();
    let stored = AtomicUsize::new(0);
    thread::scope(|s| {
        for t in 0..THREADS {
            let (m, stored) = (&m, &stored);
            s.spawn(move || {
                for k in 0..keys {
                    let (v, loaded) = m.load_or_store(k, t);
                    if !loaded {
                        assert_eq!(v, t);
                        stored.fetch_add(1, Ordering::SeqCst);
                    }
                    assert_eq!(m.load(&k), Some(v), "the first value stays");
                }
            });
        }
    });
    assert_eq!(stored.load(Ordering::SeqCst), keys);
}

/// Writers add and delete their own keys (driving promotions and
/// expunging) while a reader checks that the stable keys never disappear
/// and a ranger sees each stable key exactly once.
#[test]
fn stable_keys_survive_concurrent_churn() {
    let stable = 16;
    let rounds = 20 * SCALE;
    let m = Map::new();
    for k in 0..stable {
        m.store(k, k);
    }
    thread::scope(|s| {
        for w in 1..=2 {
            let m = &m;
            s.spawn(move || {
                for r in 0..rounds {
                    let k = w * 1_000_000 + r;
                    m.store(k, r);
                    assert_eq!(m.load(&k), Some(r));
                    if r % 2 == 0 {
                        m.delete(&k);
                    }
                    m.store(r % stable, r % stable); // same value: stays valid
                }
            });
        }
        s.spawn(|| {
            for _ in 0..rounds {
                for k in 0..stable {
                    assert_eq!(m.load(&k), Some(k));
                }
            }
        });
        s.spawn(|| {
            for _ in 0..rounds / 4 {
                let mut seen = vec![0; stable];
                m.range(|k, v| {
                    if *k < stable {
                        assert_eq!(k, v);
                        seen[*k] += 1;
                    }
                    true
                });
                assert!(seen.iter().all(|&n| n == 1), "{seen:?}");
            }
        });
    });
    for r in 0..rounds {
        for w in 1..=2 {
            let want = (r % 2 == 1).then_some(r);
            assert_eq!(m.load(&(w * 1_000_000 + r)), want);
        }
    }
}

/// A long random sequence of operations against a `HashMap`, with reads
/// between writes so that promotions happen all along.
#[test]
fn matches_a_hash_map_model() {
    let m = Map::new();
    let mut model = HashMap::new();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..500 * SCALE {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let k = (x >> 8) % 12;
        let v = x >> 40;
        match x % 9 {
            0 => assert_eq!(m.load(&k), model.get(&k).copied()),
            1 => {
                m.store(k, v);
                model.insert(k, v);
            }
            2 => assert_eq!(m.swap(k, v), model.insert(k, v)),
            3 => {
                let want = *model.entry(k).or_insert(v);
                assert_eq!(m.load_or_store(k, v).0, want);
            }
            4 => assert_eq!(m.load_and_delete(&k), model.remove(&k)),
            5 => {
                m.delete(&k);
                model.remove(&k);
            }
            6 => {
                let old = model.get(&k).copied().unwrap_or(v);
                let hit = model.get(&k) == Some(&old);
                assert_eq!(m.compare_and_swap(&k, &old, v), hit);
                if hit {
                    model.insert(k, v);
                }
            }
            7 => {
                let old = model.get(&k).copied().unwrap_or(v);
                let hit = model.get(&k) == Some(&old);
                assert_eq!(m.compare_and_delete(&k, &old), hit);
                if hit {
                    model.remove(&k);
                }
            }
            _ => {
                let mut seen = HashMap::new();
                m.range(|k, v| {
                    seen.insert(*k, *v);
                    true
                });
                assert_eq!(seen, model);
            }
        }
    }
}

/// A key whose `clone` panics while [`PANIC_ON_CLONE`] is set.
#[derive(PartialEq, Eq, Hash, Debug)]
struct Brittle(u32);

static PANIC_ON_CLONE: AtomicUsize = AtomicUsize::new(0);

impl Clone for Brittle {
    fn clone(&self) -> Self {
        assert!(
            PANIC_ON_CLONE.load(Ordering::SeqCst) == 0,
            "planned panic in a key's clone"
        );
        Brittle(self.0)
    }
}

/// A key's `clone` panicking while a dirty table is built (which expunges
/// deleted entries as it goes) leaves the map consistent: the deleted keys
/// can be stored again, and are not lost at the next promotion.
#[test]
fn a_panicking_key_clone_leaves_the_map_consistent() {
    let m = Map::new();
    for k in 0..8 {
        m.store(Brittle(k), k);
    }
    for k in 0..8 {
        assert_eq!(m.load(&Brittle(k)), Some(k)); // promote
    }
    for k in 0..4 {
        m.delete(&Brittle(k));
    }
    PANIC_ON_CLONE.store(1, Ordering::SeqCst);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        m.store(Brittle(100), 100); // new key: builds a dirty table
    }));
    PANIC_ON_CLONE.store(0, Ordering::SeqCst);
    assert!(outcome.is_err(), "the clone panicked");
    for k in 0..4 {
        m.store(Brittle(k), k + 10);
    }
    m.store(Brittle(101), 101);
    for _ in 0..3 {
        for k in 0..8 {
            let want = if k < 4 { k + 10 } else { k };
            assert_eq!(m.load(&Brittle(k)), Some(want), "key {k}");
        }
        assert_eq!(m.load(&Brittle(101)), Some(101));
    }
}

/// A value whose drop uses the map (deleting another key).
struct Reentrant(&'static Map<u32, Reentrant>);

impl Clone for Reentrant {
    fn clone(&self) -> Self {
        Reentrant(self.0)
    }
}

impl PartialEq for Reentrant {
    fn eq(&self, _: &Self) -> bool {
        false
    }
}

impl Drop for Reentrant {
    fn drop(&mut self) {
        self.0.delete(&7);
    }
}

/// A value the map does not keep is dropped after the map's lock is
/// released, so its `Drop` may use the map (here: the unused value of a
/// `load_or_store` and of a failed `compare_and_swap` on keys only the
/// dirty table holds). Run on a thread, so a deadlock fails the test
/// instead of hanging it.
#[test]
fn values_are_dropped_outside_the_lock() {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let m: &'static Map<u32, Reentrant> = Box::leak(Box::new(Map::new()));
        m.store(1, Reentrant(m)); // new key: only in the dirty table
        drop(m.load_or_store(1, Reentrant(m)));
        m.store(2, Reentrant(m));
        assert!(!m.compare_and_swap(&2, &Reentrant(m), Reentrant(m)));
        done_tx.send(()).unwrap();
    });
    done_rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("a value dropped under the map's lock used the map: deadlock");
}
