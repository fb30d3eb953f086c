//! The run-time `Select` builder: any number of cases, `select`,
//! `try_select`, `select_timeout`, `select_async`, reading outcomes with
//! the case's handle, `take_unsent`, the panics for a handle that does not
//! match its case, and withdrawal of a dropped `select_async`.

use std::thread;
use std::time::{Duration, Instant};

use futures::executor::block_on;
use hoare_chan::{RecvError, Select, SendError, bounded, never, unbounded};

mod util;
use util::{Drops, FLAVORS, poll_once, send_later, settle, watchdog};

const MANY: usize = if cfg!(miri) { 8 } else { 50 };

#[test]
fn a_runtime_sized_set_of_receive_cases_fires_the_ready_one() {
    let chans: Vec<_> = (0..MANY).map(|_| bounded::<usize>(1)).collect();
    let mut order: Vec<usize> = (0..MANY).collect();
    let mut rng = util::Rng::new(3);
    for i in (1..MANY).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    for &target in &order {
        chans[target].0.send(target * 10).unwrap();
        let mut sel = Select::new();
        let indices: Vec<usize> = chans.iter().map(|(_, rx)| sel.recv(rx)).collect();
        assert_eq!(
            indices,
            (0..MANY).collect::<Vec<_>>(),
            "indices count up from 0"
        );
        let oper = sel.select();
        let i = oper.index();
        assert_eq!(i, target);
        assert_eq!(oper.recv(&chans[i].1), Ok(target * 10));
    }
}

#[test]
fn a_blocking_select_over_many_channels_wakes_for_a_later_send() {
    for flavor in FLAVORS {
        let chans: Vec<_> = (0..MANY).map(|_| flavor.make::<usize>()).collect();
        let target = MANY / 2 + 1;
        let tx = chans[target].0.clone();
        let sender = thread::spawn(move || {
            settle();
            tx.send(7)
        });
        let mut sel = Select::new();
        for (_, rx) in &chans {
            sel.recv(rx);
        }
        let oper = sel.select();
        assert_eq!(oper.index(), target, "{flavor:?}");
        assert_eq!(oper.recv(&chans[target].1), Ok(7));
        sender.join().unwrap().unwrap();
    }
}

#[test]
fn send_and_receive_cases_of_different_types_mix() {
    let (stx, srx) = bounded::<String>(1);
    let (_utx, urx) = bounded::<u64>(1);
    let mut sel = Select::new();
    let r = sel.recv(&urx);
    let s = sel.send(&stx, "hello".to_string());
    let oper = sel.select();
    assert_eq!(oper.index(), s);
    assert_eq!(oper.send(&stx), Ok(()));
    assert_ne!(r, s);
    assert_eq!(srx.try_recv().as_deref(), Ok("hello"));
}

#[test]
fn try_select_returns_none_when_nothing_is_ready_and_fires_a_ready_case() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<u32>();
        let mut sel = Select::new();
        let i = sel.recv(&rx);
        assert!(sel.try_select().is_none(), "{flavor:?}");
        drop(sel);
        if flavor.capacity() != Some(0) {
            tx.send(3).unwrap();
            let mut sel = Select::new();
            let i2 = sel.recv(&rx);
            let oper = sel.try_select().expect("a value is ready");
            assert_eq!(oper.index(), i2);
            assert_eq!(oper.recv(&rx), Ok(3));
        }
        let _ = i;
    }
}

#[test]
fn select_timeout_gives_up_after_the_timeout_and_returns_a_case_that_is_ready_in_time() {
    let (tx, rx) = bounded::<u32>(0);
    let mut sel = Select::new();
    sel.recv(&rx);
    let start = Instant::now();
    let timeout = Duration::from_millis(40);
    assert!(sel.select_timeout(timeout).is_none());
    if !cfg!(miri) {
        assert!(start.elapsed() >= timeout / 2);
    }
    drop(sel);
    let sender = send_later(tx, 9);
    let mut sel = Select::new();
    let i = sel.recv(&rx);
    let oper = sel
        .select_timeout(util::HANG)
        .expect("the send comes in time");
    assert_eq!(oper.index(), i);
    assert_eq!(oper.recv(&rx), Ok(9));
    drop(sender.join().unwrap());
}

#[test]
fn select_async_returns_the_index_and_the_outcome_is_read_by_handle() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<u32>();
        let (otx, _orx) = flavor.make::<u32>();
        if let Some(cap) = flavor.capacity() {
            flavor.fill(&otx, |i| i as u32);
            let _ = cap;
        }
        let sender = send_later(tx, 17);
        let mut sel = Select::new();
        // The send case is only blocked for the bounded flavors; an
        // unbounded send is always ready, so skip it there.
        let s = (flavor.capacity().is_some()).then(|| sel.send(&otx, 100));
        let r = sel.recv(&rx);
        let i = block_on(sel.select_async());
        assert_eq!(i, r, "{flavor:?}");
        assert_eq!(sel.recv_result(r, &rx), Ok(17));
        if let Some(s) = s {
            assert_eq!(sel.take_unsent(s, &otx), Some(100), "{flavor:?}");
        }
        drop(sender.join().unwrap());
    }
}

#[test]
fn select_async_send_result_is_read_by_handle() {
    let (tx, rx) = bounded::<u32>(0);
    let receiver = thread::spawn(move || {
        settle();
        rx.recv()
    });
    let mut sel = Select::new();
    let s = sel.send(&tx, 5);
    let i = block_on(sel.select_async());
    assert_eq!(i, s);
    assert_eq!(sel.send_result(s, &tx), Ok(()));
    assert_eq!(receiver.join().unwrap(), Ok(5));
}

#[test]
fn take_unsent_returns_the_value_of_a_send_case_that_did_not_fire() {
    let drops = Drops::new();
    let (full_tx, full_rx) = bounded(1);
    full_tx.send(drops.make(0)).unwrap();
    let (in_tx, in_rx) = bounded::<u32>(1);
    in_tx.send(1).unwrap();
    let mut sel = Select::new();
    let s = sel.send(&full_tx, drops.make(1));
    let r = sel.recv(&in_rx);
    let oper = sel.select();
    assert_eq!(oper.index(), r);
    assert_eq!(oper.recv(&in_rx), Ok(1));
    let back = sel.take_unsent(s, &full_tx).expect("the value comes back");
    assert_eq!(back.id, 1);
    assert_eq!(
        sel.take_unsent(s, &full_tx).map(|c| c.id),
        None,
        "given back once"
    );
    drop(sel);
    assert_eq!(
        drops.get(),
        0,
        "nothing dropped while the value was given back"
    );
    assert_eq!(full_rx.len(), 1, "the unsent value was not delivered");
    drop(back);
    assert_eq!(drops.get(), 1);
}

#[test]
fn take_unsent_of_a_fired_send_case_is_none() {
    let (tx, rx) = bounded::<u32>(1);
    let mut sel = Select::new();
    let s = sel.send(&tx, 4);
    let oper = sel.select();
    assert_eq!(oper.index(), s);
    assert_eq!(oper.send(&tx), Ok(()));
    assert_eq!(sel.take_unsent(s, &tx), None);
    assert_eq!(rx.try_recv(), Ok(4));
}

#[test]
fn unsent_values_are_dropped_exactly_once_with_the_select() {
    let drops = Drops::new();
    let chans: Vec<_> = (0..4).map(|_| bounded(0)).collect();
    {
        let mut sel = Select::new();
        for (i, (tx, _)) in chans.iter().enumerate() {
            sel.send(tx, drops.make(i));
        }
        assert!(sel.try_select().is_none());
        assert!(sel.select_timeout(Duration::from_millis(5)).is_none());
        assert_eq!(drops.get(), 0);
    }
    assert_eq!(drops.get(), 4);
}

#[test]
fn a_send_case_on_a_closed_channel_gives_the_value_back_in_the_result() {
    let (tx, rx) = bounded::<String>(0);
    drop(rx);
    let mut sel = Select::new();
    let s = sel.send(&tx, "v".into());
    let oper = sel.select();
    assert_eq!(oper.index(), s);
    assert_eq!(oper.send(&tx), Err(SendError("v".into())));
}

#[test]
fn a_receive_case_on_a_closed_channel_fires_with_err() {
    let (tx, rx) = unbounded::<u8>();
    drop(tx);
    let mut sel = Select::new();
    let i = sel.recv(&rx);
    let oper = sel.select();
    assert_eq!(oper.index(), i);
    assert_eq!(oper.recv(&rx), Err(RecvError));
}

#[test]
fn the_choice_among_ready_cases_is_uniform() {
    let n = if cfg!(miri) { 100 } else { 10_000 };
    let (tx1, rx1) = unbounded::<()>();
    let (tx2, rx2) = unbounded::<()>();
    tx1.send(()).unwrap();
    tx2.send(()).unwrap();
    let mut counts = [0usize; 2];
    for _ in 0..n {
        let mut sel = Select::new();
        sel.recv(&rx1);
        sel.recv(&rx2);
        let oper = sel.select();
        let i = oper.index();
        let (rx, tx) = if i == 0 { (&rx1, &tx1) } else { (&rx2, &tx2) };
        oper.recv(rx).unwrap();
        tx.send(()).unwrap();
        counts[i] += 1;
    }
    let (lo, hi) = if cfg!(miri) {
        (0.25, 0.75)
    } else {
        (0.45, 0.55)
    };
    for c in counts {
        let share = c as f64 / n as f64;
        assert!((lo..=hi).contains(&share), "counts {counts:?}");
    }
}

#[test]
fn the_same_channel_may_appear_twice() {
    let (tx, rx) = bounded::<u32>(1);
    tx.send(1).unwrap();
    let mut sel = Select::new();
    let a = sel.recv(&rx);
    let b = sel.recv(&rx);
    let oper = sel.select();
    let i = oper.index();
    assert!(i == a || i == b);
    assert_eq!(oper.recv(&rx), Ok(1));
    assert!(rx.is_empty());
}

#[test]
fn a_select_can_run_again_after_its_outcome_was_read() {
    let chans: Vec<_> = (0..3).map(|_| unbounded::<usize>()).collect();
    for (i, (tx, _)) in chans.iter().enumerate() {
        tx.send(i).unwrap();
        tx.send(i + 10).unwrap();
    }
    let mut sel = Select::new();
    for (_, rx) in &chans {
        sel.recv(rx);
    }
    let mut got = Vec::new();
    for _ in 0..6 {
        let oper = sel.select();
        let i = oper.index();
        got.push(oper.recv(&chans[i].1).unwrap());
    }
    got.sort_unstable();
    assert_eq!(got, [0, 1, 2, 10, 11, 12]);
    assert!(sel.try_select().is_none());
}

#[test]
#[should_panic(expected = "does not belong")]
fn reading_a_receive_outcome_with_another_receiver_panics() {
    let (tx, rx) = bounded::<u32>(1);
    let (_tx2, rx2) = bounded::<u32>(1);
    tx.send(1).unwrap();
    let mut sel = Select::new();
    sel.recv(&rx);
    let oper = sel.select();
    let _ = oper.recv(&rx2);
}

#[test]
#[should_panic(expected = "does not belong")]
fn reading_a_send_outcome_with_another_sender_panics() {
    let (tx, _rx) = bounded::<u32>(1);
    let (tx2, _rx2) = bounded::<u32>(1);
    let mut sel = Select::new();
    sel.send(&tx, 1);
    let oper = sel.select();
    let _ = oper.send(&tx2);
}

#[test]
#[should_panic(expected = "does not belong")]
fn take_unsent_with_another_sender_panics() {
    let (tx, _rx) = bounded::<u32>(0);
    let (tx2, _rx2) = bounded::<u32>(0);
    let mut sel = Select::new();
    let s = sel.send(&tx, 1);
    let _ = sel.take_unsent(s, &tx2);
}

#[test]
#[should_panic(expected = "does not belong")]
fn reading_a_receive_case_as_a_send_case_panics() {
    let (tx, rx) = bounded::<u32>(1);
    tx.send(1).unwrap();
    let mut sel = Select::new();
    let r = sel.recv(&rx);
    let _ = sel.select();
    let _ = sel.send_result(r, &tx);
}

#[test]
#[should_panic(expected = "did not fire")]
fn reading_the_outcome_of_a_case_that_did_not_fire_panics() {
    let (tx, rx) = bounded::<u32>(1);
    let (_tx2, rx2) = bounded::<u32>(1);
    tx.send(1).unwrap();
    let mut sel = Select::new();
    sel.recv(&rx);
    let other = sel.recv(&rx2);
    assert!(sel.try_select().is_some());
    let _ = sel.recv_result(other, &rx2);
}

#[test]
#[should_panic(expected = "no case with this index")]
fn reading_an_index_that_does_not_exist_panics() {
    let (_tx, rx) = bounded::<u32>(1);
    let mut sel = Select::new();
    sel.recv(&rx);
    let _ = sel.recv_result(5, &rx);
}

#[test]
#[should_panic(expected = "no cases")]
fn a_blocking_select_with_no_cases_panics() {
    let _ = Select::new().select();
}

#[test]
#[should_panic(expected = "does not belong")]
fn reading_a_never_case_with_a_never_receiver_of_another_type_panics() {
    // Every `never()` receiver looks alike, whatever its payload type; the
    // outcome must not be read as a case of another type.
    let n = never::<u8>();
    let mut sel = Select::new();
    let i = sel.recv(&n);
    assert!(sel.try_select().is_none());
    let other = never::<[u64; 64]>();
    let _ = sel.recv_result(i, &other);
}

#[test]
fn a_dropped_pending_select_async_withdraws_its_cases_while_the_select_lives() {
    watchdog("select_async withdrawal", util::HANG, || {
        let (tx, rx) = unbounded::<u32>();
        let mut sel = Select::new();
        sel.recv(&rx);
        {
            let mut fut = Box::pin(sel.select_async());
            assert!(poll_once(fut.as_mut()).is_pending());
        }
        // The Select is still alive; a thread blocked on the channel must
        // get the next value promptly (no stale waiter swallows the wake-up).
        let rx2 = rx.clone();
        let receiver = thread::spawn(move || {
            let start = Instant::now();
            let got = rx2.recv_timeout(Duration::from_secs(10));
            (got, start.elapsed())
        });
        settle();
        tx.send(1).unwrap();
        let (got, waited) = receiver.join().unwrap();
        assert_eq!(got, Ok(1));
        if !cfg!(miri) {
            assert!(
                waited < Duration::from_secs(5),
                "the blocked receiver was not woken by the send (waited {waited:?})"
            );
        }
        drop(sel);
    });
}

#[test]
fn a_select_reused_after_a_dropped_select_async_still_wakes() {
    watchdog("select reuse after cancel", Duration::from_secs(30), || {
        let (tx, rx) = unbounded::<u32>();
        let mut sel = Select::new();
        let i = sel.recv(&rx);
        for _ in 0..3 {
            let mut fut = Box::pin(sel.select_async());
            assert!(poll_once(fut.as_mut()).is_pending());
        }
        // The sender keeps its handle: a close would wake everybody anyway.
        let sender = thread::spawn(move || {
            settle();
            tx.send(2).unwrap();
            tx
        });
        let oper = sel.select();
        assert_eq!(oper.index(), i);
        assert_eq!(oper.recv(&rx), Ok(2));
        drop(sender.join().unwrap());
    });
}
