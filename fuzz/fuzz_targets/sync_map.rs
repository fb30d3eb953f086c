//! `hoare_sync::Map` against a `HashMap`.
//!
//! Every operation of Go's `sync.Map` runs on both, and each result must
//! match: the value loaded, swapped out, loaded-or-stored or deleted, and
//! whether a compare-and-swap or compare-and-delete hit. A `range` must
//! visit each key of the model once with its value (or stop when told,
//! after exactly that many keys). Small keys make the same keys come back,
//! so the inputs walk the map through stores of new keys (dirty table),
//! promotions after misses, deletes, expunging and unexpunging.
//!
//! The values are `Box`ed, so a value freed twice or read after it was
//! freed is caught by the address sanitizer cargo-fuzz builds with; the
//! epoch is flushed at the end and every value must have been freed.

#![no_main]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arbitrary::Arbitrary;
use hoare_sync::Map;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Op {
    Load(u8),
    Store(u8, u8),
    Swap(u8, u8),
    LoadOrStore(u8, u8),
    LoadAndDelete(u8),
    Delete(u8),
    CompareAndSwap(u8, u8, u8),
    CompareAndDelete(u8, u8),
    Range(u8),
    Clear,
}

/// A heap value that counts the live ones.
struct Val {
    v: Box<u8>,
    live: Arc<AtomicUsize>,
}

impl Val {
    fn new(v: u8, live: &Arc<AtomicUsize>) -> Self {
        live.fetch_add(1, Ordering::Relaxed);
        Val {
            v: Box::new(v),
            live: live.clone(),
        }
    }
}

impl Clone for Val {
    fn clone(&self) -> Self {
        Val::new(*self.v, &self.live)
    }
}

impl PartialEq for Val {
    fn eq(&self, other: &Self) -> bool {
        self.v == other.v
    }
}

impl Drop for Val {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::Relaxed);
    }
}

fuzz_target!(|ops: Vec<Op>| {
    let live = Arc::new(AtomicUsize::new(0));
    let val = |v| Val::new(v, &live);
    let get = |v: Option<Val>| v.map(|v| *v.v);
    {
        let m: Map<u8, Val> = Map::new();
        let mut model: HashMap<u8, u8> = HashMap::new();
        for op in ops {
            match op {
                Op::Load(k) => {
                    let k = k % 16;
                    assert_eq!(get(m.load(&k)), model.get(&k).copied());
                }
                Op::Store(k, v) => {
                    let k = k % 16;
                    m.store(k, val(v));
                    model.insert(k, v);
                }
                Op::Swap(k, v) => {
                    let k = k % 16;
                    assert_eq!(get(m.swap(k, val(v))), model.insert(k, v));
                }
                Op::LoadOrStore(k, v) => {
                    let k = k % 16;
                    let (got, loaded) = m.load_or_store(k, val(v));
                    let want_loaded = model.contains_key(&k);
                    let want = *model.entry(k).or_insert(v);
                    assert_eq!((*got.v, loaded), (want, want_loaded));
                }
                Op::LoadAndDelete(k) => {
                    let k = k % 16;
                    assert_eq!(get(m.load_and_delete(&k)), model.remove(&k));
                }
                Op::Delete(k) => {
                    let k = k % 16;
                    m.delete(&k);
                    model.remove(&k);
                }
                Op::CompareAndSwap(k, old, new) => {
                    let k = k % 16;
                    let hit = model.get(&k) == Some(&old);
                    assert_eq!(m.compare_and_swap(&k, &val(old), val(new)), hit);
                    if hit {
                        model.insert(k, new);
                    }
                }
                Op::CompareAndDelete(k, old) => {
                    let k = k % 16;
                    let hit = model.get(&k) == Some(&old);
                    assert_eq!(m.compare_and_delete(&k, &val(old)), hit);
                    if hit {
                        model.remove(&k);
                    }
                }
                Op::Range(stop) => {
                    let stop = usize::from(stop % 20);
                    let mut seen = HashMap::new();
                    m.range(|k, v| {
                        assert!(seen.insert(*k, *v.v).is_none(), "key {k} visited twice");
                        seen.len() < stop || stop == 0
                    });
                    if stop == 0 || stop >= model.len() {
                        assert_eq!(seen, model);
                    } else {
                        assert_eq!(seen.len(), stop);
                        assert!(seen.iter().all(|(k, v)| model.get(k) == Some(v)));
                    }
                }
                Op::Clear => {
                    m.clear();
                    model.clear();
                }
            }
        }
    }
    for _ in 0..10_000 {
        if live.load(Ordering::Relaxed) == 0 {
            return;
        }
        crossbeam_epoch::pin().flush();
    }
    panic!("{} values never freed", live.load(Ordering::Relaxed));
});
