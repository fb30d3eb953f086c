//! Behaviour of `Cond`.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use hoare_sync::{Cond, Mutex};

mod util;
use util::poll_once;

#[test]
fn notify_one_wakes_a_waiter_that_sees_the_flag() {
    let pair = Arc::new((Mutex::new(false), Cond::new()));
    let p = pair.clone();
    let t = thread::spawn(move || {
        let mut g = p.0.lock();
        while !*g {
            g = p.1.wait(g);
        }
    });
    thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 10 }));
    *pair.0.lock() = true;
    pair.1.notify_one();
    t.join().unwrap();
}

#[test]
fn notify_all_wakes_every_waiter() {
    let n = if cfg!(miri) { 2 } else { 4 };
    let pair = Arc::new((Mutex::new(0usize), Cond::new()));
    let hs: Vec<_> = (0..n)
        .map(|_| {
            let p = pair.clone();
            thread::spawn(move || {
                let mut g = p.0.lock();
                *g += 1;
                while *g < 1000 {
                    g = p.1.wait(g);
                }
            })
        })
        .collect();
    loop {
        let mut g = pair.0.lock();
        if *g == n {
            *g = 1000;
            break;
        }
        drop(g);
        thread::yield_now();
    }
    pair.1.notify_all();
    for h in hs {
        h.join().unwrap();
    }
}

#[test]
fn notify_with_no_waiter_is_a_no_op() {
    let c = Cond::new();
    c.notify_one();
    c.notify_all();
}

#[test]
fn wait_async_is_woken_by_notify() {
    let m = Mutex::new(0);
    let c = Cond::new();
    let mut f = Box::pin(c.wait_async(m.lock()));
    assert!(poll_once(f.as_mut()).is_pending());
    assert!(
        m.try_lock().is_some(),
        "the mutex was released while waiting"
    );
    c.notify_one();
    assert!(poll_once(f.as_mut()).is_ready());
}

#[test]
fn dropped_notified_wait_future_passes_notify_one_on() {
    let m = Mutex::new(0);
    let c = Cond::new();
    let mut a = Box::pin(c.wait_async(m.lock()));
    assert!(poll_once(a.as_mut()).is_pending());
    let mut b = Box::pin(c.wait_async(m.lock()));
    assert!(poll_once(b.as_mut()).is_pending());
    c.notify_one(); // picks `a`
    drop(a); // never saw it: the notification goes to `b`
    assert!(poll_once(b.as_mut()).is_ready());
}

#[cfg_attr(miri, ignore = "tokio's runtime is slow under Miri")]
#[test]
fn wait_async_on_tokio_tasks() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let pair = Arc::new((Mutex::new(0usize), Cond::new()));
    rt.block_on(async {
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let p = pair.clone();
                tokio::spawn(async move {
                    let (m, c) = &*p;
                    let mut g = m.lock_async().await;
                    while *g < 10 {
                        g = c.wait_async(g).await;
                    }
                })
            })
            .collect();
        for _ in 0..10 {
            *pair.0.lock_async().await += 1;
            pair.1.notify_all();
            tokio::task::yield_now().await;
        }
        for w in waiters {
            w.await.unwrap();
        }
    });
}
