//! The timer channels and `never()`: `after(d)` delivers one instant, once,
//! no earlier than `d`; `tick(d)` delivers repeatedly and drops the ticks
//! nobody took; `never()` never delivers; none of them closes; and all of
//! them work in `select!`, `select_async!`, `Select` and `recv_async`.

use std::pin::pin;
use std::task::Poll;
use std::thread;
use std::time::{Duration, Instant};

use futures::executor::block_on;
use hoare_chan::{
    RecvTimeoutError, Select, TryRecvError, after, bounded, never, select, select_async, tick,
};

mod util;
use util::alloc::{CountingAlloc, live_bytes};
use util::{poll_once, settle};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const D: Duration = Duration::from_millis(40);

#[test]
fn after_delivers_once_no_earlier_than_its_duration() {
    let start = Instant::now();
    let rx = after(D);
    let t = rx.recv().unwrap();
    assert!(t >= start + D, "delivered {:?} early", (start + D) - t);
    assert!(Instant::now() >= start + D);
    // Only once.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(20)),
        Err(RecvTimeoutError::Timeout)
    );
}

#[test]
fn after_has_nothing_before_its_duration() {
    let rx = after(Duration::from_secs(30));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(rx.len(), 0);
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(10)),
        Err(RecvTimeoutError::Timeout)
    );
}

#[test]
fn after_reports_one_value_while_it_is_due_and_is_never_closed() {
    let rx = after(Duration::from_millis(5));
    assert_eq!(rx.capacity(), Some(1));
    assert!(!rx.is_closed());
    thread::sleep(Duration::from_millis(20));
    assert_eq!(rx.len(), 1);
    assert!(rx.is_full());
    rx.try_recv().unwrap();
    assert_eq!(rx.len(), 0);
    assert!(!rx.is_closed(), "a fired timer is not closed, as in Go");
}

#[test]
fn after_delivers_to_exactly_one_of_its_clones() {
    let rx = after(D);
    let receivers: Vec<_> = (0..3)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || rx.recv_timeout(D * 4).is_ok())
        })
        .collect();
    let got = receivers
        .into_iter()
        .map(|r| r.join().unwrap())
        .filter(|&ok| ok)
        .count();
    assert_eq!(got, 1);
}

#[test]
fn after_with_an_overflowing_duration_never_fires() {
    let rx = after(Duration::MAX);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(10)),
        Err(RecvTimeoutError::Timeout)
    );
}

#[test]
fn tick_delivers_repeatedly_at_its_period() {
    let period = Duration::from_millis(15);
    let start = Instant::now();
    let rx = tick(period);
    let mut last = start;
    let n = if cfg!(miri) { 3 } else { 5 };
    for i in 1..=n {
        let t = rx.recv().unwrap();
        assert!(t > last, "tick {i} did not move forward");
        assert!(t >= start + period * i, "tick {i} came early");
        last = t;
    }
    assert!(!rx.is_closed());
}

#[test]
fn tick_drops_the_ticks_nobody_received() {
    let period = Duration::from_millis(10);
    let rx = tick(period);
    thread::sleep(period * 10);
    // Ten periods passed, but one tick is ready, not ten.
    assert!(rx.try_recv().is_ok());
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "missed ticks were queued"
    );
    assert_eq!(rx.len(), 0);
    // Ticking goes on.
    assert!(rx.recv_timeout(util::HANG).is_ok());
}

#[test]
fn tick_never_delivers_faster_than_its_period() {
    let period = Duration::from_millis(20);
    let window = Duration::from_millis(300);
    let rx = tick(period);
    let start = Instant::now();
    let mut count = 0;
    while start.elapsed() < window {
        if rx.recv_timeout(window).is_ok() {
            count += 1;
        }
    }
    let elapsed = start.elapsed();
    let most = (elapsed.as_millis() / period.as_millis()) as usize;
    assert!(count <= most, "{count} ticks in {elapsed:?}");
    assert!(count >= 1, "no tick in {elapsed:?}");
}

#[test]
#[should_panic(expected = "period")]
fn tick_with_a_zero_period_panics() {
    let _ = tick(Duration::ZERO);
}

#[test]
fn never_never_delivers_and_never_closes() {
    let rx = never::<u32>();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    let start = Instant::now();
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(20)),
        Err(RecvTimeoutError::Timeout)
    );
    assert!(Instant::now() >= start + Duration::from_millis(20));
    assert_eq!(
        rx.recv_deadline(Instant::now() + Duration::from_millis(5)),
        Err(RecvTimeoutError::Timeout)
    );
    assert!(!rx.is_closed());
    assert_eq!(rx.len(), 0);
    assert_eq!(rx.capacity(), Some(0));
    assert!(rx.clone().try_recv().is_err());
}

#[test]
fn after_fires_in_a_select_and_a_value_arriving_earlier_wins() {
    let (tx, rx) = bounded::<u32>(1);
    let timeout = after(D);
    let fired = select! {
        recv(rx) -> _ => "value",
        recv(timeout) -> t => { t.unwrap(); "timeout" },
    };
    assert_eq!(fired, "timeout");
    let timeout = after(util::HANG);
    let sender = util::send_later(tx, 1);
    let fired = select! {
        recv(rx) -> v => { v.unwrap(); "value" },
        recv(timeout) -> _ => "timeout",
    };
    assert_eq!(fired, "value");
    drop(sender.join().unwrap());
}

#[test]
fn tick_drives_a_select_loop_until_an_after_fires() {
    let period = Duration::from_millis(10);
    let start = Instant::now();
    let ticker = tick(period);
    let stop = after(Duration::from_millis(120));
    let mut ticks = 0;
    loop {
        select! {
            recv(ticker) -> t => { t.unwrap(); ticks += 1; },
            recv(stop) -> _ => break,
        }
    }
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(120),
        "stopped after {elapsed:?}"
    );
    // Ticks never come faster than the period, however late the loop ran.
    let most = (elapsed.as_millis() / period.as_millis()) as usize;
    assert!(ticks <= most, "{ticks} ticks in {elapsed:?} at {period:?}");
}

#[test]
fn never_in_a_select_lets_the_timeout_fire() {
    let off = never::<u32>();
    let fired = select! {
        recv(off) -> _ => false,
        default(Duration::from_millis(20)) => true,
    };
    assert!(fired);
}

#[test]
fn timers_work_in_the_select_builder() {
    let slow = after(util::HANG);
    let fast = after(Duration::from_millis(10));
    let mut sel = Select::new();
    let s = sel.recv(&slow);
    let f = sel.recv(&fast);
    let oper = sel.select();
    assert_eq!(oper.index(), f);
    assert!(oper.recv(&fast).is_ok());
    assert_ne!(s, f);
}

#[test]
fn recv_async_on_timers_completes_when_due() {
    let start = Instant::now();
    let t = block_on(after(D).recv_async()).unwrap();
    assert!(t >= start + D);
    let ticker = tick(Duration::from_millis(10));
    block_on(async {
        ticker.recv_async().await.unwrap();
        ticker.recv_async().await.unwrap();
    });
    assert!(Instant::now() >= start + D + Duration::from_millis(20));
}

#[test]
fn timers_and_never_work_in_select_async() {
    let off = never::<u32>();
    let timeout = after(D);
    let start = Instant::now();
    let fired = block_on(async {
        select_async! {
            recv(off) -> _ => "never",
            recv(timeout) -> _ => "after",
        }
    });
    assert_eq!(fired, "after");
    assert!(Instant::now() >= start + D);
    let fired = block_on(async {
        select_async! {
            recv(off) -> _ => "never",
            default(Duration::from_millis(10)) => "default",
        }
    });
    assert_eq!(fired, "default");
}

#[test]
#[cfg_attr(miri, ignore = "tokio's runtime does not run under Miri")]
fn timers_wake_select_async_on_tokio() {
    let rt = util::tokio_rt();
    let (ticks, elapsed) = rt.block_on(async {
        tokio::spawn(async {
            let start = Instant::now();
            let ticker = tick(Duration::from_millis(10));
            let stop = after(Duration::from_millis(100));
            let mut ticks = 0;
            loop {
                select_async! {
                    recv(ticker) -> _ => ticks += 1,
                    recv(stop) -> _ => break,
                }
            }
            (ticks, start.elapsed())
        })
        .await
        .unwrap()
    });
    // The stop woke the task, and ticks never came faster than the period.
    assert!(
        elapsed >= Duration::from_millis(100),
        "stopped after {elapsed:?}"
    );
    let most = (elapsed.as_millis() / 10) as usize;
    assert!(ticks <= most, "{ticks} ticks in {elapsed:?}");
}

#[test]
fn a_thread_blocked_on_after_wakes_when_it_is_due() {
    let rx = after(D);
    let start = Instant::now();
    let waiter = thread::spawn(move || rx.recv());
    settle();
    assert!(waiter.join().unwrap().is_ok());
    assert!(Instant::now() >= start + D);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the bound is amortized over purges, which need more rounds than Miri can afford; timer.rs has no unsafe code"
)]
fn a_select_async_loop_with_a_long_timeout_leaves_no_timer_memory_behind() {
    // Go's `for { select { case v := <-ch: ...; case <-time.After(time.Hour): } }`:
    // each round waits, so its timeout registers a wake-up, and then a value
    // arrives first. A withdrawn timeout must not hold memory until it
    // would have fired an hour later.
    const LONG: Duration = Duration::from_secs(3600);
    let rounds: usize = 2_000;
    let (tx, rx) = hoare_chan::unbounded::<usize>();
    let round = |i: usize| {
        let mut fut = pin!(async {
            select_async! {
                recv(rx) -> v => v.ok(),
                default(LONG) => None,
            }
        });
        assert!(
            poll_once(fut.as_mut()).is_pending(),
            "round {i} should wait"
        );
        tx.send(i).unwrap();
        assert_eq!(poll_once(fut.as_mut()), Poll::Ready(Some(i)));
    };
    // Warm up: the timer thread, per-thread caches.
    for i in 0..10 {
        round(i);
    }
    let before = live_bytes();
    for i in 0..rounds {
        round(i);
    }
    let grown = live_bytes() - before;
    assert!(
        grown < (rounds as isize) * 8,
        "{rounds} withdrawn timeouts left {grown} bytes allocated"
    );
}
