//! `select!` and `select_async!`: exactly one case fires, atomically (a
//! value is never taken, and a send never delivered, by a case that does
//! not run); the choice among ready cases is uniformly random; `default`,
//! `default(timeout)`, `never()`, closed channels, the same channel twice,
//! a select that sends and receives on one unbuffered channel, selects on
//! both sides of a channel, and control flow out of the bodies.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use futures::executor::block_on;
use hoare_chan::{
    RecvError, SendError, TryRecvError, after, bounded, never, select, select_async, unbounded,
};

mod util;
use util::{BUFFERED, Drops, FLAVORS, Flavor, poll_once, send_later, settle};

const ROUNDS: usize = if cfg!(miri) { 20 } else { 1_000 };
const SHORT: Duration = Duration::from_millis(30);

#[test]
fn exactly_one_ready_case_fires_and_the_other_keeps_its_value() {
    for flavor in BUFFERED {
        let (tx1, rx1) = flavor.make::<u32>();
        let (tx2, rx2) = flavor.make::<u32>();
        for _ in 0..ROUNDS {
            tx1.send(1).unwrap();
            tx2.send(2).unwrap();
            let mut fired = 0;
            let got = select! {
                recv(rx1) -> v => { fired += 1; v.unwrap() },
                recv(rx2) -> v => { fired += 1; v.unwrap() },
            };
            assert_eq!(fired, 1);
            // The value of the case that did not run is still there.
            let (this, other) = if got == 1 { (&rx1, &rx2) } else { (&rx2, &rx1) };
            assert_eq!(this.try_recv(), Err(TryRecvError::Empty), "{flavor:?}");
            assert_eq!(
                other.try_recv(),
                Ok(3 - got),
                "{flavor:?}: the case that did not run consumed its value"
            );
        }
    }
}

#[test]
fn a_value_of_a_blocked_rendezvous_sender_is_never_taken_by_a_case_that_does_not_run() {
    let (tx1, rx1) = bounded::<u32>(0);
    let (tx2, rx2) = bounded::<u32>(0);
    let rounds = if cfg!(miri) { 3 } else { 50 };
    for _ in 0..rounds {
        let s1 = {
            let tx1 = tx1.clone();
            thread::spawn(move || tx1.send(1))
        };
        let s2 = {
            let tx2 = tx2.clone();
            thread::spawn(move || tx2.send(2))
        };
        settle();
        let got = select! {
            recv(rx1) -> v => v.unwrap(),
            recv(rx2) -> v => v.unwrap(),
        };
        // The other sender is still blocked with its value.
        let other = if got == 1 { &rx2 } else { &rx1 };
        assert_eq!(other.recv_timeout(util::HANG), Ok(3 - got));
        s1.join().unwrap().unwrap();
        s2.join().unwrap().unwrap();
    }
}

/// Counts which of two always-ready receive cases fires over `n` selects.
fn two_ready_receives(
    n: usize,
    make: impl Fn() -> (hoare_chan::Sender<()>, hoare_chan::Receiver<()>),
) -> [usize; 2] {
    let (tx1, rx1) = make();
    let (tx2, rx2) = make();
    tx1.send(()).unwrap();
    tx2.send(()).unwrap();
    let mut counts = [0; 2];
    for _ in 0..n {
        select! {
            recv(rx1) -> v => { v.unwrap(); counts[0] += 1; tx1.send(()).unwrap(); },
            recv(rx2) -> v => { v.unwrap(); counts[1] += 1; tx2.send(()).unwrap(); },
        }
    }
    counts
}

/// Bounds for the share of one of two fair cases over `n` trials: 45-55%
/// natively (10,000 trials: 10 standard deviations), wider under Miri's
/// small counts.
fn assert_fair(counts: &[usize], n: usize) {
    let (lo, hi) = if cfg!(miri) {
        (0.25, 0.75)
    } else {
        (0.45, 0.55)
    };
    for (i, &c) in counts.iter().enumerate() {
        let share = c as f64 / n as f64;
        assert!(
            (lo..=hi).contains(&share),
            "case {i} chosen {c} of {n} times ({share:.3}); counts {counts:?}"
        );
    }
}

const FAIR_N: usize = if cfg!(miri) { 100 } else { 10_000 };

#[test]
fn the_choice_among_ready_receive_cases_is_uniform() {
    let counts = two_ready_receives(FAIR_N, unbounded);
    assert_fair(&counts, FAIR_N);
    let counts = two_ready_receives(FAIR_N, || bounded(1));
    assert_fair(&counts, FAIR_N);
}

/// Two ready cases with two cases that are never ready between them:
/// still an even choice. A random starting case followed by a scan in case
/// order would pick the second ready case 3 times in 4 (whenever the start
/// lands on it or on an empty case before it), the bias Go's shuffled
/// `pollorder` avoids.
#[test]
fn a_case_that_is_not_ready_does_not_bias_the_choice() {
    let (tx1, rx1) = unbounded::<()>();
    let (_tx_empty, rx_empty) = unbounded::<()>();
    let (tx2, rx2) = unbounded::<()>();
    let (_tx_empty2, rx_empty2) = unbounded::<()>();
    tx1.send(()).unwrap();
    tx2.send(()).unwrap();
    let mut counts = [0; 2];
    for _ in 0..FAIR_N {
        select! {
            recv(rx1) -> v => { v.unwrap(); counts[0] += 1; tx1.send(()).unwrap(); },
            recv(rx_empty) -> _ => panic!("nothing was sent on it"),
            recv(rx_empty2) -> _ => panic!("nothing was sent on it"),
            recv(rx2) -> v => { v.unwrap(); counts[1] += 1; tx2.send(()).unwrap(); },
        }
    }
    assert_fair(&counts, FAIR_N);
}

#[test]
fn the_choice_among_ready_send_cases_is_uniform() {
    let (tx1, rx1) = unbounded::<()>();
    let (tx2, rx2) = unbounded::<()>();
    for _ in 0..FAIR_N {
        select! {
            send(tx1, ()) -> r => r.unwrap(),
            send(tx2, ()) -> r => r.unwrap(),
        }
    }
    assert_eq!(rx1.len() + rx2.len(), FAIR_N, "exactly one send per select");
    assert_fair(&[rx1.len(), rx2.len()], FAIR_N);
}

#[test]
fn the_choice_between_a_ready_send_and_a_ready_receive_is_uniform() {
    let (tx, rx) = unbounded::<()>();
    let (in_tx, in_rx) = unbounded::<()>();
    in_tx.send(()).unwrap();
    let mut counts = [0; 2];
    for _ in 0..FAIR_N {
        select! {
            send(tx, ()) -> r => { r.unwrap(); counts[0] += 1; },
            recv(in_rx) -> v => { v.unwrap(); counts[1] += 1; in_tx.send(()).unwrap(); },
        }
    }
    assert_eq!(rx.len(), counts[0]);
    assert_fair(&counts, FAIR_N);
}

#[test]
fn the_same_channel_may_appear_in_two_cases() {
    let (tx, rx) = unbounded::<u32>();
    let mut counts = [0; 2];
    for i in 0..FAIR_N as u32 {
        tx.send(i).unwrap();
        select! {
            recv(rx) -> v => { assert_eq!(v, Ok(i)); counts[0] += 1; },
            recv(rx) -> v => { assert_eq!(v, Ok(i)); counts[1] += 1; },
        }
        assert!(rx.is_empty(), "both cases took a value");
    }
    assert_fair(&counts, FAIR_N);
    // Blocking on the same channel twice: a later send wakes it once.
    let sender = thread::spawn(move || {
        settle();
        tx.send(99).unwrap();
        tx
    });
    let got = select! {
        recv(rx) -> v => v.unwrap(),
        recv(rx) -> v => v.unwrap(),
    };
    assert_eq!(got, 99);
    drop(sender.join().unwrap());
}

#[test]
fn never_cases_do_not_fire_and_a_timeout_default_does() {
    let n1 = never::<u32>();
    let n2 = never::<String>();
    let start = Instant::now();
    let fired = select! {
        recv(n1) -> _ => "never 1",
        recv(n2) -> _ => "never 2",
        default(SHORT) => "timeout",
    };
    assert_eq!(fired, "timeout");
    if !cfg!(miri) {
        assert!(start.elapsed() >= SHORT / 2);
    }
}

#[test]
fn a_never_case_next_to_a_real_channel_lets_the_real_one_fire() {
    let (tx, rx) = bounded::<u32>(0);
    let off = never::<u32>();
    let sender = thread::spawn(move || tx.send(5));
    let got = select! {
        recv(off) -> _ => panic!("never() fired"),
        recv(rx) -> v => v.unwrap(),
    };
    assert_eq!(got, 5);
    sender.join().unwrap().unwrap();
}

#[test]
fn default_fires_when_no_case_is_ready() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<u32>();
        let fired = select! {
            recv(rx) -> _ => "recv",
            default => "default",
        };
        assert_eq!(fired, "default", "{flavor:?}");
        if flavor != Flavor::Unbounded {
            flavor.fill(&tx, |i| i as u32);
            let drops = Drops::new();
            let (ctx, _crx) = flavor.make();
            if let Some(cap) = flavor.capacity() {
                flavor.fill(&ctx, |i| drops.make(i));
                let fired = select! {
                    send(ctx, drops.make(cap)) -> _ => "send",
                    default => "default",
                };
                assert_eq!(fired, "default", "{flavor:?}");
            }
        }
    }
}

#[test]
fn default_does_not_fire_when_a_case_is_ready() {
    for flavor in BUFFERED {
        let (tx, rx) = flavor.make::<u32>();
        tx.send(4).unwrap();
        let fired = select! {
            recv(rx) -> v => v.unwrap(),
            default => 0,
        };
        assert_eq!(fired, 4, "{flavor:?}");
    }
    // Unbuffered: a blocked sender makes the receive ready.
    let (tx, rx) = bounded::<u32>(0);
    let sender = thread::spawn(move || tx.send(6));
    let mut got = 0;
    util::eventually("the select finds the blocked sender", || {
        got = select! {
            recv(rx) -> v => v.unwrap(),
            default => 0,
        };
        got != 0
    });
    assert_eq!(got, 6);
    sender.join().unwrap().unwrap();
}

#[test]
fn default_with_a_timeout_fires_after_roughly_the_timeout() {
    let (_tx, rx) = bounded::<u32>(1);
    let timeout = Duration::from_millis(60);
    let start = Instant::now();
    let fired = select! {
        recv(rx) -> _ => false,
        default(timeout) => true,
    };
    assert!(fired);
    if !cfg!(miri) {
        let waited = start.elapsed();
        assert!(waited >= timeout / 2, "fired after {waited:?}");
        assert!(waited < Duration::from_secs(10), "fired after {waited:?}");
    }
}

#[test]
fn a_case_that_becomes_ready_before_the_timeout_wins() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<u32>();
        let sender = send_later(tx, 8);
        let got = select! {
            recv(rx) -> v => v.unwrap(),
            default(util::HANG) => 0,
        };
        assert_eq!(got, 8, "{flavor:?}");
        drop(sender.join().unwrap());
    }
}

#[test]
fn a_send_case_that_does_not_fire_delivers_nothing_and_drops_its_value_once() {
    // Both cases are ready; whenever the receive wins, the send's channel
    // must stay empty, and its value is dropped with the select.
    let (send_won, mut recv_won) = (0usize, 0usize);
    let mut send_won = send_won;
    for flavor in BUFFERED {
        let drops = Drops::new();
        let (tx, rx) = flavor.make();
        let (in_tx, in_rx) = unbounded::<u32>();
        for round in 0..ROUNDS {
            in_tx.send(1).unwrap();
            let before = drops.get();
            select! {
                send(tx, drops.make(round)) -> r => {
                    r.unwrap();
                    send_won += 1;
                    let got = rx.try_recv().unwrap();
                    assert_eq!(got.id, round);
                    assert!(in_rx.try_recv().is_ok(), "the receive's value was taken");
                },
                recv(in_rx) -> v => {
                    v.unwrap();
                    recv_won += 1;
                    assert!(rx.is_empty(), "{flavor:?}: a send case that did not run delivered");
                },
            }
            assert_eq!(
                drops.get(),
                before + 1,
                "{flavor:?}: the value dropped once per round"
            );
        }
    }
    assert!(send_won > 0 && recv_won > 0);
}

#[test]
fn an_unbuffered_send_case_that_does_not_fire_delivers_nothing() {
    // A thread is blocked receiving on the unbuffered channel, so the send
    // case is ready; a second, ready receive case competes with it.
    let rounds = if cfg!(miri) { 4 } else { 100 };
    let (tx, rx) = bounded::<usize>(0);
    let (in_tx, in_rx) = unbounded::<()>();
    let receiver = thread::spawn(move || rx.iter().collect::<Vec<_>>());
    let mut expected = Vec::new();
    for round in 0..rounds {
        in_tx.send(()).unwrap();
        // The receiver must be waiting for the send case to be ready; if it
        // is not yet, the select may also wait for it, which is fine.
        select! {
            send(tx, round) -> r => { r.unwrap(); expected.push(round); in_rx.try_recv().unwrap(); },
            recv(in_rx) -> v => v.unwrap(),
        }
    }
    drop(tx);
    assert_eq!(
        receiver.join().unwrap(),
        expected,
        "a value from a send case that did not run arrived"
    );
}

#[test]
fn a_select_never_rendezvous_with_itself_on_an_unbuffered_channel() {
    let (tx, rx) = bounded::<u32>(0);
    let fired = select! {
        send(tx, 1) -> _ => "sent",
        recv(rx) -> _ => "received",
        default(SHORT) => "timeout",
    };
    assert_eq!(fired, "timeout");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    // With a real partner it does fire.
    let rx2 = rx.clone();
    let partner = thread::spawn(move || rx2.recv());
    let fired = select! {
        send(tx, 2) -> r => { r.unwrap(); "sent" },
        recv(rx) -> _ => "received",
        default(util::HANG) => "timeout",
    };
    assert_eq!(fired, "sent");
    assert_eq!(partner.join().unwrap(), Ok(2));
}

#[test]
fn a_receive_case_on_a_closed_channel_fires_with_err() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<u32>();
        tx.close();
        let got = select! {
            recv(rx) -> v => v,
            default(util::HANG) => panic!("{flavor:?}: a closed channel is always ready"),
        };
        assert_eq!(got, Err(RecvError), "{flavor:?}");
    }
}

#[test]
fn a_send_case_on_a_closed_channel_fires_with_the_value_back() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<String>();
        drop(rx);
        let got = select! {
            send(tx, "back".to_string()) -> r => r,
            default(util::HANG) => panic!("{flavor:?}: a closed channel is always ready"),
        };
        assert_eq!(got, Err(SendError("back".to_string())), "{flavor:?}");
    }
}

#[test]
fn close_wakes_a_blocked_select() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<u32>();
        let (_tx2, rx2) = flavor.make::<u32>();
        let closer = thread::spawn(move || {
            settle();
            tx.close();
        });
        let got = select! {
            recv(rx2) -> _ => panic!("wrong case"),
            recv(rx) -> v => v,
        };
        assert_eq!(got, Err(RecvError), "{flavor:?}");
        closer.join().unwrap();
    }
}

#[test]
fn a_thread_sending_and_a_select_receiving_meet_on_every_flavor() {
    let n = if cfg!(miri) { 8 } else { 1_000 };
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<usize>();
        let (_other_tx, other_rx) = flavor.make::<usize>();
        let sender = thread::spawn(move || {
            for i in 0..n {
                tx.send(i).unwrap();
            }
        });
        for i in 0..n {
            select! {
                recv(rx) -> v => assert_eq!(v, Ok(i), "{flavor:?}"),
                recv(other_rx) -> _ => panic!("wrong case"),
            }
        }
        sender.join().unwrap();
    }
}

#[test]
fn a_select_sending_and_a_thread_receiving_meet_on_every_flavor() {
    let n = if cfg!(miri) { 8 } else { 1_000 };
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<usize>();
        let off = never::<()>();
        let receiver = thread::spawn(move || rx.iter().collect::<Vec<_>>());
        for i in 0..n {
            select! {
                send(tx, i) -> r => r.unwrap(),
                recv(off) -> _ => panic!("never() fired"),
            }
        }
        drop(tx);
        assert_eq!(
            receiver.join().unwrap(),
            (0..n).collect::<Vec<_>>(),
            "{flavor:?}"
        );
    }
}

#[test]
fn selects_on_both_sides_of_every_flavor_deliver_each_value_once() {
    // Go's doubleselect: senders select over several channels to send,
    // receivers select over the same channels to receive.
    let n = if cfg!(miri) { 10 } else { 2_000 };
    for flavor in FLAVORS {
        let chans: Vec<_> = (0..3).map(|_| flavor.make::<usize>()).collect();
        let (a, b, c) = (chans[0].0.clone(), chans[1].0.clone(), chans[2].0.clone());
        let sender = thread::spawn(move || {
            for i in 0..n {
                select! {
                    send(a, i) -> r => r.unwrap(),
                    send(b, i) -> r => r.unwrap(),
                    send(c, i) -> r => r.unwrap(),
                }
            }
        });
        let receivers: Vec<_> = (0..2)
            .map(|_| {
                let (x, y, z) = (chans[0].1.clone(), chans[1].1.clone(), chans[2].1.clone());
                thread::spawn(move || {
                    let mut got = Vec::new();
                    let mut open = 3;
                    let (mut x_open, mut y_open, mut z_open) = (true, true, true);
                    let off = never::<usize>();
                    while open > 0 {
                        // A closed channel is switched off with never().
                        let xr = if x_open { &x } else { &off };
                        let yr = if y_open { &y } else { &off };
                        let zr = if z_open { &z } else { &off };
                        select! {
                            recv(*xr) -> v => match v {
                                Ok(v) => got.push(v),
                                Err(_) => { x_open = false; open -= 1; }
                            },
                            recv(*yr) -> v => match v {
                                Ok(v) => got.push(v),
                                Err(_) => { y_open = false; open -= 1; }
                            },
                            recv(*zr) -> v => match v {
                                Ok(v) => got.push(v),
                                Err(_) => { z_open = false; open -= 1; }
                            },
                        }
                    }
                    got
                })
            })
            .collect();
        drop(chans);
        sender.join().unwrap();
        let mut all: Vec<usize> = receivers
            .into_iter()
            .flat_map(|r| r.join().unwrap())
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..n).collect::<Vec<_>>(), "{flavor:?}");
    }
}

#[test]
fn break_and_continue_in_bodies_act_on_the_enclosing_loop() {
    let (tx, rx) = unbounded::<u32>();
    for i in 0..10 {
        tx.send(i).unwrap();
    }
    drop(tx);
    let mut odd = Vec::new();
    let mut iterations = 0;
    loop {
        iterations += 1;
        select! {
            recv(rx) -> v => {
                let Ok(v) = v else { break };
                if v % 2 == 0 {
                    continue;
                }
                odd.push(v);
            },
        }
    }
    assert_eq!(odd, [1, 3, 5, 7, 9]);
    assert_eq!(iterations, 11);
    // `break` with a value out of a `loop`, and `return` from a closure.
    let (tx, rx) = unbounded::<u32>();
    for v in [3, 5, 4, 7] {
        tx.send(v).unwrap();
    }
    let v = loop {
        select! {
            recv(rx) -> v => {
                let v = v.unwrap();
                if v % 2 == 0 {
                    break v * 2;
                }
            },
        }
    };
    assert_eq!(v, 8);
    let first_big = |rx: &hoare_chan::Receiver<u32>| -> Option<u32> {
        loop {
            select! {
                recv(rx) -> v => if v.ok()? > 5 {
                    return Some(7);
                },
                default => return None,
            }
        }
    };
    assert_eq!(first_big(&rx), Some(7));
    assert_eq!(first_big(&rx), None);
}

#[test]
fn a_send_value_is_evaluated_once_even_when_the_select_waits() {
    let evaluated = AtomicUsize::new(0);
    let (tx, rx) = bounded::<u32>(0);
    let receiver = thread::spawn(move || {
        settle();
        rx.recv()
    });
    select! {
        send(tx, { evaluated.fetch_add(1, Ordering::SeqCst); 5 }) -> r => r.unwrap(),
    }
    assert_eq!(evaluated.load(Ordering::SeqCst), 1);
    assert_eq!(receiver.join().unwrap(), Ok(5));
}

#[test]
fn a_blocking_select_wakes_for_whichever_channel_gets_a_value() {
    for flavor in FLAVORS {
        for target in 0..3 {
            let chans: Vec<_> = (0..3).map(|_| flavor.make::<usize>()).collect();
            let tx = chans[target].0.clone();
            let sender = thread::spawn(move || {
                settle();
                tx.send(target)
            });
            let got = select! {
                recv(chans[0].1) -> v => v.unwrap(),
                recv(chans[1].1) -> v => v.unwrap(),
                recv(chans[2].1) -> v => v.unwrap(),
            };
            assert_eq!(got, target, "{flavor:?}");
            sender.join().unwrap().unwrap();
        }
    }
}

#[test]
fn a_timer_case_fires_in_a_select() {
    let (_tx, rx) = bounded::<u32>(1);
    let timeout = after(SHORT);
    let fired = select! {
        recv(rx) -> _ => "value",
        recv(timeout) -> t => { t.unwrap(); "timer" },
    };
    assert_eq!(fired, "timer");
}

#[test]
fn thirty_two_cases_are_accepted_and_the_ready_one_fires() {
    let chans: Vec<_> = (0..32).map(|_| bounded::<usize>(1)).collect();
    chans[27].0.send(27).unwrap();
    let r = |i: usize| &chans[i].1;
    let got = select! {
        recv(r(0)) -> v => v, recv(r(1)) -> v => v, recv(r(2)) -> v => v, recv(r(3)) -> v => v,
        recv(r(4)) -> v => v, recv(r(5)) -> v => v, recv(r(6)) -> v => v, recv(r(7)) -> v => v,
        recv(r(8)) -> v => v, recv(r(9)) -> v => v, recv(r(10)) -> v => v, recv(r(11)) -> v => v,
        recv(r(12)) -> v => v, recv(r(13)) -> v => v, recv(r(14)) -> v => v, recv(r(15)) -> v => v,
        recv(r(16)) -> v => v, recv(r(17)) -> v => v, recv(r(18)) -> v => v, recv(r(19)) -> v => v,
        recv(r(20)) -> v => v, recv(r(21)) -> v => v, recv(r(22)) -> v => v, recv(r(23)) -> v => v,
        recv(r(24)) -> v => v, recv(r(25)) -> v => v, recv(r(26)) -> v => v, recv(r(27)) -> v => v,
        recv(r(28)) -> v => v, recv(r(29)) -> v => v, recv(r(30)) -> v => v, recv(r(31)) -> v => v,
    };
    assert_eq!(got, Ok(27));
}

// ---- select_async! -------------------------------------------------------

#[test]
fn select_async_receives_on_a_futures_executor() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<u32>();
        let (_tx2, rx2) = flavor.make::<u32>();
        let sender = send_later(tx, 12);
        let got = block_on(async {
            select_async! {
                recv(rx2) -> _ => panic!("wrong case"),
                recv(rx) -> v => v.unwrap(),
            }
        });
        assert_eq!(got, 12, "{flavor:?}");
        drop(sender.join().unwrap());
    }
}

#[test]
fn select_async_sends_on_a_futures_executor() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<u32>();
        let receiver = thread::spawn(move || {
            settle();
            rx.recv()
        });
        block_on(async {
            select_async! {
                send(tx, 13) -> r => r.unwrap(),
            }
        });
        assert_eq!(receiver.join().unwrap(), Ok(13), "{flavor:?}");
    }
}

#[test]
fn select_async_default_and_timeout_fire() {
    let (_tx, rx) = bounded::<u32>(0);
    let got = block_on(async {
        select_async! {
            recv(rx) -> _ => "recv",
            default => "default",
        }
    });
    assert_eq!(got, "default");
    let start = Instant::now();
    let got = block_on(async {
        select_async! {
            recv(rx) -> _ => "recv",
            default(SHORT) => "timeout",
        }
    });
    assert_eq!(got, "timeout");
    if !cfg!(miri) {
        assert!(start.elapsed() >= SHORT / 2);
    }
}

#[test]
#[cfg_attr(miri, ignore = "tokio's runtime does not run under Miri")]
fn select_async_runs_in_spawned_tokio_tasks() {
    let rt = util::tokio_rt();
    for flavor in FLAVORS {
        let n = 500;
        let (tx, rx) = flavor.make::<usize>();
        let (stop_tx, stop_rx) = bounded::<()>(0);
        let got = rt.block_on(async move {
            // Spawning requires the select's future to be `Send`.
            let consumer = tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    select_async! {
                        recv(rx) -> v => match v {
                            Ok(v) => got.push(v),
                            Err(_) => break, // the producer finished
                        },
                        recv(stop_rx) -> _ => break,
                    }
                }
                got
            });
            let producer = tokio::spawn(async move {
                for i in 0..n {
                    select_async! {
                        send(tx, i) -> r => r.unwrap(),
                        default(Duration::from_secs(60)) => panic!("send stalled"),
                    }
                }
                drop(stop_tx);
            });
            producer.await.unwrap();
            consumer.await.unwrap()
        });
        // The stop case may win while values are still buffered; what was
        // received came in order and without duplicates.
        assert!(got.windows(2).all(|w| w[0] < w[1]), "{flavor:?}");
        if flavor == Flavor::Zero {
            assert_eq!(
                got.len(),
                n,
                "{flavor:?}: a rendezvous completes before the next send"
            );
        }
    }
}

#[test]
fn a_dropped_pending_select_async_withdraws_its_cases() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<u32>();
        let (_tx2, rx2) = flavor.make::<u32>();
        {
            let mut fut = Box::pin(async {
                select_async! {
                    recv(rx) -> v => v,
                    recv(rx2) -> v => v,
                }
            });
            assert!(poll_once(fut.as_mut()).is_pending());
        }
        // A blocked thread must get the next value: the dropped select
        // neither took it nor swallowed its wake-up.
        let rx3 = rx.clone();
        let receiver = thread::spawn(move || rx3.recv_timeout(util::HANG));
        settle();
        tx.send(21).unwrap();
        assert_eq!(receiver.join().unwrap(), Ok(21), "{flavor:?}");
    }
}

#[test]
fn a_dropped_select_async_gives_back_a_value_it_was_handed() {
    // Unbuffered: the pending select's receive cases wait committed, so a
    // `try_send` hands the value to one of them; dropped before it was
    // polled again, the select gives the value back to its channel.
    let (tx, rx) = bounded::<u32>(0);
    let (_tx2, rx2) = bounded::<u32>(0);
    let mut fut = Box::pin(async {
        select_async! {
            recv(rx) -> v => v,
            recv(rx2) -> v => v,
        }
    });
    assert!(poll_once(fut.as_mut()).is_pending());
    assert_eq!(tx.try_send(5), Ok(()));
    drop(fut);
    assert_eq!(rx.len(), 1);
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(rx2.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn a_dropped_pending_select_async_sends_nothing() {
    for flavor in [Flavor::Zero, Flavor::One] {
        let drops = Drops::new();
        let (tx, rx) = flavor.make();
        if flavor == Flavor::One {
            flavor.fill(&tx, |i| drops.make(100 + i));
        }
        {
            let mut fut = Box::pin(async {
                select_async! {
                    send(tx, drops.make(1)) -> r => r.is_ok(),
                }
            });
            assert!(poll_once(fut.as_mut()).is_pending());
        }
        let after_drop = drops.get();
        assert_eq!(
            after_drop, 1,
            "{flavor:?}: the unsent value is dropped with the future"
        );
        drop(tx);
        let ids: Vec<usize> = rx.iter().map(|c| c.id).collect();
        assert!(!ids.contains(&1), "{flavor:?}: a withdrawn send delivered");
    }
}

#[test]
fn select_async_can_be_shared_between_threads_as_a_counter() {
    // Many async selects across executor threads on one channel each take
    // a distinct value.
    let n = if cfg!(miri) { 8 } else { 400 };
    let (tx, rx) = unbounded::<usize>();
    let taken = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (rx, taken) = (rx.clone(), taken.clone());
            thread::spawn(move || {
                block_on(async {
                    let mut got = Vec::new();
                    loop {
                        select_async! {
                            recv(rx) -> v => match v {
                                Ok(v) => { got.push(v); taken.fetch_add(1, Ordering::SeqCst); }
                                Err(_) => break,
                            },
                        }
                    }
                    got
                })
            })
        })
        .collect();
    for i in 0..n {
        tx.send(i).unwrap();
    }
    drop(tx);
    let mut all: Vec<usize> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..n).collect::<Vec<_>>());
    assert_eq!(taken.load(Ordering::SeqCst), n);
}

#[test]
fn two_selects_each_offering_send_and_receive_on_one_unbuffered_channel_pair_up() {
    // Each select may send or receive on the same channel; alone it can do
    // neither (it must not meet itself), together one sends to the other.
    let rounds = if cfg!(miri) { 3 } else { 200 };
    for round in 0..rounds {
        let (tx, rx) = bounded::<u32>(0);
        let outcomes = util::watchdog("paired selects", util::HANG, move || {
            thread::scope(|s| {
                let sides: Vec<_> = [1u32, 2]
                    .into_iter()
                    .map(|me| {
                        let (tx, rx) = (&tx, &rx);
                        s.spawn(move || {
                            select! {
                                send(tx, me) -> r => { r.unwrap(); (me, None) },
                                recv(rx) -> v => (me, Some(v.unwrap())),
                            }
                        })
                    })
                    .collect();
                sides
                    .into_iter()
                    .map(|h| h.join().unwrap())
                    .collect::<Vec<_>>()
            })
        });
        let received: Vec<_> = outcomes
            .iter()
            .filter_map(|&(me, got)| got.map(|g| (me, g)))
            .collect();
        assert_eq!(received.len(), 1, "round {round}: {outcomes:?}");
        let (receiver, got) = received[0];
        assert_eq!(got, 3 - receiver, "round {round}: received its own value");
    }
}

#[test]
fn crosswise_selects_on_two_unbuffered_channels_deliver_everything() {
    // A sends on one channel while receiving on the other, B the mirror
    // image, both through selects: no deadlock, nothing lost.
    let n = if cfg!(miri) { 6 } else { 500 };
    util::watchdog("crosswise selects", util::HANG, move || {
        let (tx1, rx1) = bounded::<usize>(0);
        let (tx2, rx2) = bounded::<usize>(0);
        let side = move |tx: hoare_chan::Sender<usize>, rx: hoare_chan::Receiver<usize>| {
            move || {
                let mut got = Vec::new();
                let mut sent = 0;
                while sent < n {
                    select! {
                        send(tx, sent) -> r => { r.unwrap(); sent += 1; },
                        recv(rx) -> v => if let Ok(v) = v { got.push(v) },
                    }
                }
                drop(tx);
                got.extend(rx.iter());
                got
            }
        };
        let a = thread::spawn(side(tx1, rx2));
        let b = thread::spawn(side(tx2, rx1));
        let (got_a, got_b) = (a.join().unwrap(), b.join().unwrap());
        assert_eq!(got_a, (0..n).collect::<Vec<_>>());
        assert_eq!(got_b, (0..n).collect::<Vec<_>>());
    });
}
