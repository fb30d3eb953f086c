//! Many producers and consumers on every flavor: per-producer FIFO order,
//! every value delivered exactly once through cloned handles, zero-sized
//! payloads, the iterators, and handle identity (`same_channel`).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use hoare_chan::{TryRecvError, after, bounded, never, tick, unbounded};

mod util;
use util::{FLAVORS, Flavor};

const PRODUCERS: usize = if cfg!(miri) { 2 } else { 4 };
const CONSUMERS: usize = if cfg!(miri) { 2 } else { 3 };
const PER_PRODUCER: usize = if cfg!(miri) { 12 } else { 500 };

#[test]
fn a_single_producer_order_is_preserved_on_every_flavor() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make();
        let producer = thread::spawn(move || {
            for i in 0..PER_PRODUCER {
                tx.send(i).unwrap();
            }
        });
        let got: Vec<usize> = rx.iter().collect();
        assert_eq!(got, (0..PER_PRODUCER).collect::<Vec<_>>(), "{flavor:?}");
        producer.join().unwrap();
    }
}

#[test]
fn each_producer_order_is_preserved_with_several_producers() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make();
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let tx = tx.clone();
                thread::spawn(move || {
                    for i in 0..PER_PRODUCER {
                        tx.send((p, i)).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let mut next = vec![0usize; PRODUCERS];
        for (p, i) in &rx {
            assert_eq!(i, next[p], "{flavor:?}: producer {p} out of order");
            next[p] += 1;
        }
        assert_eq!(next, vec![PER_PRODUCER; PRODUCERS], "{flavor:?}");
        for p in producers {
            p.join().unwrap();
        }
    }
}

#[test]
fn each_value_reaches_exactly_one_of_several_consumers() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<usize>();
        let total = PRODUCERS * PER_PRODUCER;
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let tx = tx.clone();
                thread::spawn(move || {
                    for i in 0..PER_PRODUCER {
                        tx.send(p * PER_PRODUCER + i).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|_| {
                let rx = rx.clone();
                // Each consumer also checks per-producer order of what it saw.
                thread::spawn(move || {
                    let mut last: HashMap<usize, usize> = HashMap::new();
                    let mut got = Vec::new();
                    for v in rx.iter() {
                        let (p, i) = (v / PER_PRODUCER, v % PER_PRODUCER);
                        if let Some(&prev) = last.get(&p) {
                            assert!(prev < i, "producer {p}: {i} after {prev}");
                        }
                        last.insert(p, i);
                        got.push(v);
                    }
                    got
                })
            })
            .collect();
        drop(rx);
        let mut all: Vec<usize> = consumers
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..total).collect::<Vec<_>>(), "{flavor:?}");
        for p in producers {
            p.join().unwrap();
        }
    }
}

#[test]
fn zero_sized_values_pass_through_every_flavor() {
    let n = if cfg!(miri) { 40 } else { 2_000 };
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<()>();
        let producer = thread::spawn(move || {
            for _ in 0..n {
                tx.send(()).unwrap();
            }
        });
        assert_eq!(rx.iter().count(), n, "{flavor:?}");
        producer.join().unwrap();
    }
}

#[test]
fn zero_sized_values_are_counted_and_dropped_once() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct Zst;
    impl Drop for Zst {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }
    let n = if cfg!(miri) { 40 } else { 1_000 };
    for (cap, make) in [
        (Some(7), bounded::<Zst> as fn(usize) -> _),
        (None, |_| unbounded::<Zst>()),
    ] {
        DROPS.store(0, Ordering::SeqCst);
        let (tx, rx) = make(7);
        let fits = cap.unwrap_or(n);
        for _ in 0..fits {
            assert!(tx.try_send(Zst).is_ok(), "room");
        }
        assert_eq!(rx.len(), fits);
        assert_eq!(DROPS.load(Ordering::SeqCst), 0);
        for _ in 0..fits / 2 {
            drop(rx.recv().unwrap());
        }
        assert_eq!(DROPS.load(Ordering::SeqCst), fits / 2);
        assert_eq!(rx.len(), fits - fits / 2);
        drop(tx);
        drop(rx);
        assert_eq!(DROPS.load(Ordering::SeqCst), fits, "cap {cap:?}");
    }
}

#[test]
fn iter_ends_when_the_channel_is_closed_and_drained() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make();
        let producer = thread::spawn(move || {
            for i in 0..5 {
                tx.send(i).unwrap();
            }
        });
        assert_eq!(rx.iter().collect::<Vec<_>>(), [0, 1, 2, 3, 4], "{flavor:?}");
        assert!(rx.iter().next().is_none());
        producer.join().unwrap();
    }
}

#[test]
fn for_loop_over_an_owned_receiver_drains_it() {
    let (tx, rx) = unbounded();
    for i in 0..3 {
        tx.send(i).unwrap();
    }
    drop(tx);
    let mut got = Vec::new();
    for v in rx {
        got.push(v);
    }
    assert_eq!(got, [0, 1, 2]);
}

#[test]
fn try_iter_takes_only_what_is_there() {
    let (tx, rx) = bounded(4);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [1, 2]);
    // The channel is still open: try_iter stopped at "empty", not "closed".
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send(3).unwrap();
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [3]);
}

#[test]
fn same_channel_tells_clones_from_other_channels() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<u8>();
        let (tx2, rx2) = flavor.make::<u8>();
        assert!(tx.same_channel(&tx.clone()), "{flavor:?}");
        assert!(rx.same_channel(&rx.clone()), "{flavor:?}");
        assert!(!tx.same_channel(&tx2), "{flavor:?}");
        assert!(!rx.same_channel(&rx2), "{flavor:?}");
    }
    let (a, _ra) = bounded::<u8>(0);
    let (b, _rb) = bounded::<u8>(1);
    let (c, _rc) = unbounded::<u8>();
    assert!(!a.same_channel(&b) && !b.same_channel(&c) && !a.same_channel(&c));
    let t = after(std::time::Duration::from_secs(5));
    assert!(t.same_channel(&t.clone()));
    assert!(!t.same_channel(&after(std::time::Duration::from_secs(5))));
    let k = tick(std::time::Duration::from_secs(5));
    assert!(k.same_channel(&k.clone()));
    assert!(!k.same_channel(&t));
    assert!(never::<u8>().same_channel(&never()));
}

#[test]
fn handles_work_from_many_threads_through_a_shared_reference() {
    // `Sender` and `Receiver` are `Sync`: threads may share one handle.
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<usize>();
        let (tx, rx) = (Arc::new(tx), Arc::new(rx));
        let received = AtomicUsize::new(0);
        thread::scope(|s| {
            for p in 0..PRODUCERS {
                let tx = &tx;
                s.spawn(move || {
                    for i in 0..PER_PRODUCER {
                        tx.send(p * PER_PRODUCER + i).unwrap();
                    }
                });
            }
            for _ in 0..CONSUMERS {
                let (rx, received) = (&rx, &received);
                s.spawn(move || {
                    while received.load(Ordering::SeqCst) < PRODUCERS * PER_PRODUCER {
                        if rx.recv_timeout(std::time::Duration::from_millis(5)).is_ok() {
                            received.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                });
            }
        });
        assert_eq!(received.load(Ordering::SeqCst), PRODUCERS * PER_PRODUCER);
        assert!(
            rx.try_recv().is_err(),
            "{flavor:?}: a value was received twice or invented"
        );
    }
}

#[test]
fn handles_have_a_debug_form() {
    let (tx, rx) = Flavor::Sixteen.make::<util::NotDebug>();
    tx.send(util::NotDebug(1)).unwrap();
    let s = format!("{tx:?} {rx:?}");
    assert!(s.contains("Sender") && s.contains("Receiver"), "{s}");
}
