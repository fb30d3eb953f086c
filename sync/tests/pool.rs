//! Behaviour of `Pool` (Go's `sync.Pool`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use hoare_sync::Pool;

/// A pool of numbered values that counts how many it made and how many
/// were dropped.
fn counting_pool(capacity: usize) -> (Pool<Tracked>, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let made = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicUsize::new(0));
    let (m, d) = (made.clone(), dropped.clone());
    let pool = Pool::with_capacity(capacity, move || Tracked {
        id: m.fetch_add(1, Ordering::Relaxed),
        dropped: d.clone(),
    });
    (pool, made, dropped)
}

#[derive(Debug)]
struct Tracked {
    id: usize,
    dropped: Arc<AtomicUsize>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn get_builds_a_value_when_none_is_idle() {
    let (pool, made, _) = counting_pool(8);
    assert_eq!(pool.idle(), 0);
    assert!(pool.try_get().is_none());
    let a = pool.get();
    let b = pool.get();
    assert_ne!(a.id, b.id);
    assert_eq!(made.load(Ordering::Relaxed), 2);
}

#[test]
fn a_value_put_back_is_reused_as_it_was() {
    let pool = Pool::new(Vec::<u8>::new);
    let mut v = pool.get();
    v.extend_from_slice(b"kept");
    let ptr = v.as_ptr();
    pool.put(v);
    assert_eq!(pool.idle(), 1);
    let again = pool.get();
    assert_eq!(again.as_ptr(), ptr, "the same allocation comes back");
    assert_eq!(again, b"kept", "the pool does not reset values");
    assert_eq!(pool.idle(), 0);
}

#[test]
fn a_full_pool_drops_what_is_put_and_never_grows_past_its_capacity() {
    let (pool, made, dropped) = counting_pool(4);
    let cap = pool.capacity();
    assert!(cap >= 4, "the capacity is rounded up, never down: {cap}");
    let values: Vec<Tracked> = (0..cap + 10).map(|_| pool.get()).collect();
    assert_eq!(made.load(Ordering::Relaxed), cap + 10);
    for v in values {
        pool.put(v);
    }
    // One thread fills only its own shard; the rest were dropped.
    assert!(pool.idle() <= cap);
    assert_eq!(pool.idle() + dropped.load(Ordering::Relaxed), cap + 10);
    pool.clear();
    assert_eq!(pool.idle(), 0);
    assert_eq!(dropped.load(Ordering::Relaxed), cap + 10);
}

#[test]
fn a_pool_of_capacity_zero_keeps_nothing() {
    let (pool, made, dropped) = counting_pool(0);
    assert_eq!(pool.capacity(), 0);
    pool.put(pool.get());
    assert_eq!(pool.idle(), 0);
    assert_eq!(dropped.load(Ordering::Relaxed), 1);
    drop(pool.get());
    assert_eq!(made.load(Ordering::Relaxed), 2);
}

#[test]
fn dropping_the_pool_drops_every_idle_value_once() {
    let (pool, made, dropped) = counting_pool(16);
    let values: Vec<Tracked> = (0..5).map(|_| pool.get()).collect();
    for v in values {
        pool.put(v);
    }
    drop(pool);
    assert_eq!(made.load(Ordering::Relaxed), 5);
    assert_eq!(dropped.load(Ordering::Relaxed), 5);
}

#[test]
fn a_value_put_on_one_thread_is_found_from_another() {
    let pool = Pool::with_capacity(64, || 0u32);
    thread::scope(|s| {
        s.spawn(|| pool.put(7)).join().unwrap();
    });
    // The other thread's shard (or ours, if both map to one) holds it.
    assert_eq!(pool.try_get(), Some(7));
}

#[test]
fn threads_sharing_a_pool_account_for_every_value() {
    let rounds = if cfg!(miri) { 20 } else { 20_000 };
    let (pool, made, dropped) = counting_pool(8);
    let in_use = std::sync::Mutex::new(std::collections::HashSet::new());
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..rounds {
                    let v = pool.get();
                    // No value is handed to two users at once.
                    assert!(in_use.lock().unwrap().insert(v.id), "{} given twice", v.id);
                    in_use.lock().unwrap().remove(&v.id);
                    pool.put(v);
                }
            });
        }
    });
    // Everything made is either idle now or was dropped by a full shard.
    assert!(pool.idle() <= pool.capacity());
    assert_eq!(
        made.load(Ordering::Relaxed),
        pool.idle() + dropped.load(Ordering::Relaxed)
    );
    // Reuse happened: far fewer values were made than taken.
    assert!(made.load(Ordering::Relaxed) < 4 * rounds);
}
