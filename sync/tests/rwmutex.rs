//! Behaviour of `RwMutex`: shared reads, exclusive writes, writer
//! preference, async forms and cancel-safety.

use std::sync::Arc;
use std::task::Poll;
use std::thread;
use std::time::Duration;

use hoare_sync::RwMutex;

mod util;
use util::poll_once;

const PAUSE: Duration = Duration::from_millis(if cfg!(miri) { 1 } else { 20 });

#[test]
fn many_readers_hold_the_lock_together() {
    let l = RwMutex::new(1);
    let a = l.read();
    let b = l.try_read().expect("second reader");
    assert!(l.try_write().is_none());
    assert_eq!(*a + *b, 2);
}

#[test]
fn writer_excludes_readers_and_writers() {
    let l = RwMutex::new(0);
    let mut w = l.write();
    *w += 1;
    assert!(l.try_read().is_none());
    assert!(l.try_write().is_none());
    drop(w);
    assert_eq!(*l.read(), 1);
}

#[test]
fn waiting_writer_blocks_new_readers() {
    let l = Arc::new(RwMutex::new(0));
    let r = l.read();
    let l2 = l.clone();
    let writer = thread::spawn(move || *l2.write() += 1);
    // Once the writer waits, new readers must be refused even though only
    // readers hold the lock.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while l.try_read().is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "a waiting writer never blocked new readers"
        );
        thread::yield_now();
    }
    drop(r);
    writer.join().unwrap();
    assert_eq!(*l.read(), 1);
}

#[test]
fn readers_queued_behind_a_writer_all_get_in_after_it() {
    let l = Arc::new(RwMutex::new(0));
    let w = l.write();
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let l = l.clone();
            thread::spawn(move || *l.read())
        })
        .collect();
    thread::sleep(PAUSE);
    drop(w);
    for r in readers {
        assert_eq!(r.join().unwrap(), 0);
    }
}

#[test]
fn concurrent_writers_and_readers_keep_the_invariant() {
    let iters = if cfg!(miri) { 10 } else { 2000 };
    let l = Arc::new(RwMutex::new((0u64, 0u64)));
    let hs: Vec<_> = (0..4)
        .map(|i| {
            let l = l.clone();
            thread::spawn(move || {
                for _ in 0..iters {
                    if i % 2 == 0 {
                        let mut g = l.write();
                        g.0 += 1;
                        g.1 += 1;
                    } else {
                        let g = l.read();
                        assert_eq!(g.0, g.1);
                    }
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(l.read().0, 2 * iters);
}

#[test]
fn async_read_and_write_on_futures_executor() {
    let l = RwMutex::new(0);
    futures::executor::block_on(async {
        *l.write_async().await += 5;
        assert_eq!(*l.read_async().await, 5);
    });
}

#[test]
fn dropping_a_queued_write_future_lets_held_back_readers_in() {
    let l = RwMutex::new(0);
    let r = l.read();
    let mut w = Box::pin(l.write_async());
    assert!(poll_once(w.as_mut()).is_pending());
    assert!(l.try_read().is_none(), "a writer waits");
    let mut r2 = Box::pin(l.read_async());
    assert!(poll_once(r2.as_mut()).is_pending());
    drop(w);
    // The queued reader was let in when the writer left.
    let g2 = match poll_once(r2.as_mut()) {
        Poll::Ready(g) => g,
        Poll::Pending => panic!("reader still blocked"),
    };
    drop((r, g2));
    assert!(l.try_write().is_some());
}

#[test]
fn dropping_a_write_future_after_hand_off_unlocks() {
    let l = RwMutex::new(0);
    let r = l.read();
    let mut w = Box::pin(l.write_async());
    assert!(poll_once(w.as_mut()).is_pending());
    drop(r); // hands the write lock to the future
    assert!(l.try_read().is_none());
    drop(w);
    assert!(l.try_write().is_some());
}

#[test]
fn futures_are_send() {
    fn is_send<T: Send>(_: &T) {}
    let l = RwMutex::new(0);
    is_send(&l.read_async());
    is_send(&l.write_async());
}

#[cfg_attr(miri, ignore = "tokio's runtime is slow under Miri")]
#[test]
fn async_readers_and_writers_on_tokio_tasks() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let l = Arc::new(RwMutex::new((0usize, 0usize)));
    rt.block_on(async {
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let l = l.clone();
                tokio::spawn(async move {
                    for _ in 0..200 {
                        if i % 4 == 0 {
                            let mut g = l.write_async().await;
                            g.0 += 1;
                            tokio::task::yield_now().await;
                            g.1 += 1;
                        } else {
                            let g = l.read_async().await;
                            assert_eq!(g.0, g.1);
                            tokio::task::yield_now().await;
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(*l.read(), (400, 400));
}
