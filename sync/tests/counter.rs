//! Behaviour of `AtomicCounter` and `ShardedCounter`.

use std::thread;

use hoare_sync::{AtomicCounter, ShardedCounter};

#[test]
fn atomic_counter_operations() {
    let c = AtomicCounter::new(1);
    assert_eq!(c.add(2), 1);
    assert_eq!(c.load(), 3);
    assert_eq!(c.compare_exchange(0, 5), Err(3));
    assert_eq!(c.compare_exchange(3, 5), Ok(3));
    assert_eq!(c.swap(-1), 5);
    c.store(7);
    assert_eq!(c.load(), 7);
}

#[test]
fn sharded_counter_sums_all_threads() {
    let n = if cfg!(miri) { 10 } else { 10_000 };
    let c = ShardedCounter::with_shards(3);
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..n {
                    c.add(1);
                }
            });
        }
    });
    assert_eq!(c.load(), 4 * n);
    assert_eq!(c.reset(), 4 * n);
    assert_eq!(c.load(), 0);
}

#[test]
#[should_panic(expected = "at least one shard")]
fn zero_shards_panics() {
    let _ = ShardedCounter::with_shards(0);
}
