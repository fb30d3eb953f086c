//! Behaviour of `Once` and `OnceCell`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use hoare_sync::{Once, OnceCell};

#[test]
fn call_once_runs_exactly_once_across_threads() {
    let once = Once::new();
    let runs = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                once.call_once(|| {
                    runs.fetch_add(1, Ordering::Relaxed);
                });
                assert!(once.is_completed());
            });
        }
    });
    assert_eq!(runs.load(Ordering::Relaxed), 1);
}

#[test]
fn panicking_initializer_leaves_it_uninitialized_and_next_caller_runs() {
    let once = Once::new();
    let r = catch_unwind(AssertUnwindSafe(|| {
        once.call_once(|| panic!("init failed"))
    }));
    assert!(r.is_err());
    assert!(!once.is_completed());
    let mut ran = false;
    once.call_once(|| ran = true);
    assert!(ran);
    assert!(once.is_completed());
}

#[test]
fn once_cell_initializes_once_and_gets() {
    let cell = OnceCell::new();
    assert!(cell.get().is_none());
    assert_eq!(*cell.get_or_init(|| 1), 1);
    assert_eq!(*cell.get_or_init(|| 2), 1);
    assert_eq!(cell.set(3), Err(3));
    assert_eq!(cell.into_inner(), Some(1));
}

#[test]
fn once_cell_drops_its_value_once() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct D;
    impl Drop for D {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::Relaxed);
        }
    }
    let cell = OnceCell::new();
    cell.get_or_init(|| D);
    drop(cell);
    assert_eq!(DROPS.load(Ordering::Relaxed), 1);
    let cell = OnceCell::new();
    let _ = cell.set(D);
    let v = cell.into_inner();
    assert_eq!(DROPS.load(Ordering::Relaxed), 1);
    drop(v);
    assert_eq!(DROPS.load(Ordering::Relaxed), 2);
}

#[test]
fn once_cell_racing_threads_see_one_value() {
    let cell = OnceCell::new();
    let seen: Vec<usize> = thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|i| {
                let cell = &cell;
                s.spawn(move || *cell.get_or_init(|| i))
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(seen.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn get_or_init_async_initializes() {
    let cell = OnceCell::new();
    let v = futures::executor::block_on(cell.get_or_init_async(|| async { 9 }));
    assert_eq!(*v, 9);
}

#[test]
fn cancelled_async_initializer_lets_the_next_caller_run() {
    use std::future::Future;
    use std::task::{Context, Waker};
    let cell: OnceCell<u32> = OnceCell::new();
    {
        let mut f = Box::pin(cell.get_or_init_async(std::future::pending::<u32>));
        assert!(
            f.as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_pending()
        );
    }
    assert!(cell.get().is_none());
    assert_eq!(*cell.get_or_init(|| 4), 4);
}

#[test]
fn get_or_init_async_future_is_send() {
    fn is_send<T: Send>(_: &T) {}
    let cell: OnceCell<u32> = OnceCell::new();
    is_send(&cell.get_or_init_async(|| async { 1 }));
}

#[cfg_attr(miri, ignore = "tokio's runtime is slow under Miri")]
#[test]
fn get_or_init_async_racing_tokio_tasks_initialize_once() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let cell = std::sync::Arc::new(OnceCell::new());
    let runs = std::sync::Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let (cell, runs) = (cell.clone(), runs.clone());
                tokio::spawn(async move {
                    *cell
                        .get_or_init_async(|| async move {
                            runs.fetch_add(1, Ordering::Relaxed);
                            tokio::task::yield_now().await;
                            i
                        })
                        .await
                })
            })
            .collect();
        let mut seen = Vec::new();
        for t in tasks {
            seen.push(t.await.unwrap());
        }
        assert!(seen.windows(2).all(|w| w[0] == w[1]));
    });
    assert_eq!(runs.load(Ordering::Relaxed), 1);
}
