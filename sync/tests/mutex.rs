//! Behaviour of `Mutex`: exclusion, try_lock, async locking on two
//! executors, and cancel-safety of `lock_async`.

use std::pin::pin;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use hoare_sync::Mutex;

mod util;
use util::poll_once;

const THREADS: usize = if cfg!(miri) { 2 } else { 4 };
const ITERS: usize = if cfg!(miri) { 20 } else { 1000 };

#[test]
fn lock_excludes_other_threads() {
    let m = Arc::new(Mutex::new(0usize));
    let hs: Vec<_> = (0..THREADS)
        .map(|_| {
            let m = m.clone();
            thread::spawn(move || {
                for _ in 0..ITERS {
                    let mut g = m.lock();
                    let v = *g;
                    thread::yield_now();
                    *g = v + 1;
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(*m.lock(), THREADS * ITERS);
}

#[test]
fn try_lock_fails_while_locked_and_succeeds_after() {
    let m = Mutex::new(1);
    let g = m.lock();
    assert!(m.try_lock().is_none());
    drop(g);
    assert_eq!(*m.try_lock().unwrap(), 1);
}

#[test]
fn into_inner_and_get_mut_see_the_value() {
    let mut m = Mutex::new(vec![1]);
    m.get_mut().push(2);
    assert_eq!(m.into_inner(), [1, 2]);
}

#[test]
fn guard_can_be_released_on_another_thread() {
    let m = Arc::new(Mutex::new(0));
    let g = m.lock();
    thread::scope(|s| {
        s.spawn(move || drop(g));
    });
    assert!(m.try_lock().is_some());
}

#[test]
fn panic_while_locked_unlocks_without_poisoning() {
    let m = Arc::new(Mutex::new(0));
    let m2 = m.clone();
    let r = thread::spawn(move || {
        let _g = m2.lock();
        panic!("boom");
    })
    .join();
    assert!(r.is_err());
    *m.lock() += 1;
    assert_eq!(*m.lock(), 1);
}

#[test]
fn blocked_thread_is_woken_by_unlock() {
    let m = Arc::new(Mutex::new(0));
    let g = m.lock();
    let m2 = m.clone();
    let t = thread::spawn(move || *m2.lock() += 1);
    thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 20 }));
    drop(g);
    t.join().unwrap();
    assert_eq!(*m.lock(), 1);
}

#[test]
fn lock_async_on_futures_executor() {
    let m = Mutex::new(0);
    futures::executor::block_on(async {
        for _ in 0..10 {
            *m.lock_async().await += 1;
        }
    });
    assert_eq!(*m.lock(), 10);
}

#[cfg_attr(miri, ignore = "tokio's runtime is slow under Miri")]
#[test]
fn lock_async_on_tokio_tasks() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let m = Arc::new(Mutex::new(0usize));
    rt.block_on(async {
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let m = m.clone();
                tokio::spawn(async move {
                    for _ in 0..200 {
                        let mut g = m.lock_async().await;
                        *g += 1;
                        tokio::task::yield_now().await;
                        drop(g);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(*m.lock(), 1600);
}

#[test]
fn lock_async_future_is_send() {
    fn is_send<T: Send>(_: &T) {}
    let m = Mutex::new(0);
    let f = m.lock_async();
    is_send(&f);
}

#[test]
fn dropping_a_queued_lock_future_leaves_no_waiter_behind() {
    let m = Mutex::new(0);
    let g = m.lock();
    {
        let mut f = pin!(m.lock_async());
        assert!(poll_once(f.as_mut()).is_pending());
    }
    drop(g);
    // The unlock above must not have handed the lock to the dropped future.
    assert!(m.try_lock().is_some());
}

#[test]
fn dropping_the_future_the_moment_the_lock_is_handed_to_it_releases_it() {
    let m = Mutex::new(0);
    let g = m.lock();
    let mut f = Box::pin(m.lock_async());
    assert!(poll_once(f.as_mut()).is_pending());
    // Waiting over 1 ms makes the waiter starving once it has lost a race,
    // so force one lost race: unlock (waking it with "retry") and relock
    // before it is polled again.
    drop(g);
    let g = m.try_lock().expect("the woken future has not run yet");
    thread::sleep(Duration::from_millis(2));
    assert!(poll_once(f.as_mut()).is_pending(), "re-queued as starving");
    // Now the unlock hands the lock straight to the future...
    drop(g);
    assert!(
        m.try_lock().is_none(),
        "the lock was handed over, not freed"
    );
    // ...which is dropped without ever being polled again.
    drop(f);
    assert!(m.try_lock().is_some(), "the handed-over lock was released");
}

#[test]
fn dropping_a_woken_future_passes_the_wake_up_on() {
    let m = Arc::new(Mutex::new(0));
    let g = m.lock();
    let mut first = Box::pin(m.lock_async());
    assert!(poll_once(first.as_mut()).is_pending());
    let m2 = m.clone();
    let blocked = thread::spawn(move || *m2.lock() += 1);
    // Let the thread queue behind the future.
    thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 20 }));
    drop(g); // wakes `first` (normal mode: "retry")
    drop(first); // never polled: its wake-up must reach the thread
    blocked.join().unwrap();
    assert_eq!(*m.lock(), 1);
}
