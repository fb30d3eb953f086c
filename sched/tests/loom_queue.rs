//! loom models of the run queues (`queue.rs`): the owner's push and pop
//! racing thieves' steal-half and `runnext` takes, and the overflow of a
//! full ring into the global queue. Every item comes out exactly once.

#![cfg(loom)]

use hoare_sched::__loom::{Inject, LOCAL_CAP, Local};
use loom::sync::Arc;
use loom::thread;

type Ring = Local<Box<usize>>;

/// Takes everything left (after the threads joined).
fn drain(q: &Ring, inject: &Inject<Box<usize>>, out: &mut Vec<usize>) {
    let mut rest = Vec::new();
    q.drain(&mut rest);
    inject.drain(&mut rest);
    out.extend(rest.into_iter().map(|b| *b));
}

/// A thief: steals from `victim` into a ring of its own and returns
/// everything it got.
fn steal_all(victim: &Ring, take_next: bool) -> Vec<usize> {
    let own = Ring::new();
    let mut got: Vec<usize> = victim
        .steal_into(&own, take_next)
        .map(|b| *b)
        .into_iter()
        .collect();
    let mut rest = Vec::new();
    own.drain(&mut rest);
    got.extend(rest.into_iter().map(|b| *b));
    got
}

fn assert_each_once(mut got: Vec<usize>, n: usize) {
    got.sort_unstable();
    assert_eq!(got, (0..n).collect::<Vec<_>>(), "every item exactly once");
}

#[test]
fn owner_pop_races_a_thief_stealing_half() {
    loom::model(|| {
        let victim = Arc::new(Ring::new());
        let inject = Arc::new(Inject::new());
        for i in 0..3 {
            victim.push_back(Box::new(i), &inject);
        }
        let thief = {
            let victim = victim.clone();
            thread::spawn(move || steal_all(&victim, false))
        };
        let mut got = Vec::new();
        if let Some((t, _)) = victim.pop(false) {
            got.push(*t);
        }
        got.extend(thief.join().unwrap());
        drain(&victim, &inject, &mut got);
        assert_each_once(got, 3);
    });
}

#[test]
fn owner_push_races_a_thief_and_a_runnext_take() {
    loom::model(|| {
        let victim = Arc::new(Ring::new());
        let inject = Arc::new(Inject::new());
        victim.push_back(Box::new(0), &inject);
        let thief = {
            let victim = victim.clone();
            thread::spawn(move || steal_all(&victim, true))
        };
        // The owner: a wake-up into runnext, displacing nothing, then one
        // that displaces it into the ring.
        victim.push_next(Box::new(1), &inject);
        victim.push_next(Box::new(2), &inject);
        let mut got = thief.join().unwrap();
        drain(&victim, &inject, &mut got);
        assert_each_once(got, 3);
    });
}

#[test]
fn two_thieves_race_for_one_ring() {
    loom::model(|| {
        let victim = Arc::new(Ring::new());
        let inject = Arc::new(Inject::new());
        for i in 0..2 {
            victim.push_back(Box::new(i), &inject);
        }
        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let victim = victim.clone();
                thread::spawn(move || steal_all(&victim, false))
            })
            .collect();
        let mut got = Vec::new();
        for t in thieves {
            got.extend(t.join().unwrap());
        }
        drain(&victim, &inject, &mut got);
        assert_each_once(got, 2);
    });
}

#[test]
fn a_full_ring_overflows_half_into_the_global_queue_while_a_thief_steals() {
    loom::model(|| {
        let victim = Arc::new(Ring::new());
        let inject = Arc::new(Inject::new());
        // Filled before the model's threads start: no interleavings there.
        for i in 0..LOCAL_CAP {
            victim.push_back(Box::new(i), &inject);
        }
        let thief = {
            let victim = victim.clone();
            thread::spawn(move || steal_all(&victim, false))
        };
        // Full (unless the thief got there first): half goes to `inject`.
        victim.push_back(Box::new(LOCAL_CAP), &inject);
        let mut got = thief.join().unwrap();
        drain(&victim, &inject, &mut got);
        assert_each_once(got, LOCAL_CAP + 1);
    });
}
