//! Behaviour of the runtime: spawning, joining, panics, cancellation,
//! yielding, timers, handoff, the dump and the deadlock check.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hoare_sched::{JoinError, Policy, Runtime, TaskState, go, yield_now};

/// Counts its drops.
struct Count(Arc<AtomicUsize>);

impl Drop for Count {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn rt(procs: usize) -> Runtime {
    Runtime::builder().procs(procs).build()
}

/// Scaled down under Miri, which runs ~100,000× slower.
const fn scaled(n: usize) -> usize {
    if cfg!(miri) { n / 100 + 1 } else { n }
}

#[test]
fn block_on_returns_the_futures_output() {
    let rt = rt(2);
    assert_eq!(rt.block_on(async { 40 + 2 }), 42);
}

#[test]
fn spawned_tasks_run_and_their_handles_return_the_output() {
    for policy in [Policy::WorkStealing, Policy::GlobalFifo] {
        let rt = Runtime::builder().procs(2).policy(policy).build();
        let handles: Vec<_> = (0..scaled(100) as u64)
            .map(|i| rt.spawn(async move { i * 2 }))
            .collect();
        let sum: u64 = rt.block_on(async {
            let mut s = 0;
            for h in handles {
                s += h.await.unwrap();
            }
            s
        });
        let n = scaled(100) as u64;
        assert_eq!(sum, n * (n - 1));
    }
}

#[test]
fn go_spawns_on_the_current_runtime_from_block_on_and_from_tasks() {
    let rt = rt(2);
    let v = rt.block_on(async {
        go(async { go(async { 5 }).await.unwrap() + 1 })
            .await
            .unwrap()
    });
    assert_eq!(v, 6);
}

#[test]
#[should_panic(expected = "must be called inside a hoare-sched runtime")]
fn go_outside_a_runtime_panics_clearly() {
    drop(go(async {}));
}

#[test]
#[should_panic(expected = "at least one P")]
fn zero_procs_panics_clearly() {
    let _ = Runtime::builder().procs(0);
}

#[test]
fn join_blocks_a_plain_thread_until_the_task_finishes() {
    let rt = rt(1);
    let h = rt.spawn(async {
        hoare_sched::sleep(Duration::from_millis(10)).await;
        "done"
    });
    assert_eq!(h.join().unwrap(), "done");
}

#[test]
fn a_panicking_task_returns_its_payload_and_the_runtime_goes_on() {
    let rt = rt(1);
    let h = rt.spawn(async {
        panic!("boom");
    });
    let err = rt.block_on(h).unwrap_err();
    assert!(err.is_panic());
    assert_eq!(
        *err.try_into_panic().unwrap().downcast::<&str>().unwrap(),
        "boom"
    );
    // The single worker survived.
    assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
}

#[test]
fn abort_cancels_a_waiting_task_and_drops_its_future_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = rt(2);
    let c = Count(drops.clone());
    let h = rt.spawn(async move {
        let _c = c;
        std::future::pending::<()>().await;
    });
    std::thread::sleep(Duration::from_millis(10));
    h.abort();
    let err = rt.block_on(h).unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn abort_after_completion_keeps_the_output() {
    let rt = rt(1);
    let h = rt.spawn(async { 9 });
    while !h.is_finished() {
        std::thread::yield_now();
    }
    h.abort();
    assert_eq!(rt.block_on(h).unwrap(), 9);
}

#[test]
fn dropping_the_join_handle_detaches_the_task() {
    let rt = rt(1);
    let (tx, rx) = hoare_chan::bounded::<u32>(1);
    drop(rt.spawn(async move {
        yield_now().await;
        tx.send_async(3).await.unwrap();
    }));
    assert_eq!(rt.block_on(rx.recv_async()).unwrap(), 3);
}

#[test]
fn yield_now_lets_the_other_tasks_of_the_p_run() {
    let rt = rt(1);
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let o = order.clone();
    let mk = move |id: u32| {
        let order = o.clone();
        async move {
            for _ in 0..3 {
                order.lock().unwrap().push(id);
                yield_now().await;
            }
        }
    };
    // Both spawned by one goroutine, so both are in the same P's queue.
    rt.block_on(rt.spawn(async move {
        let (a, b) = (go(mk(1)), go(mk(2)));
        a.await.unwrap();
        b.await.unwrap();
    }))
    .unwrap();
    let order = order.lock().unwrap().clone();
    // Interleaved, not one task's three steps and then the other's.
    assert_ne!(order, vec![1, 1, 1, 2, 2, 2]);
    assert_ne!(order, vec![2, 2, 2, 1, 1, 1]);
    assert_eq!(order.len(), 6);
}

#[test]
fn sleep_timeout_and_interval_follow_the_clock() {
    let rt = rt(2);
    rt.block_on(async {
        let t = Instant::now();
        hoare_sched::sleep(Duration::from_millis(20)).await;
        assert!(t.elapsed() >= Duration::from_millis(20));

        let r = hoare_sched::timeout(Duration::from_millis(10), std::future::pending::<()>()).await;
        assert!(r.is_err());
        let r = hoare_sched::timeout(Duration::from_secs(10), async { 4 }).await;
        assert_eq!(r, Ok(4));

        let t = Instant::now();
        let mut iv = hoare_sched::interval(Duration::from_millis(5));
        for _ in 0..4 {
            iv.tick().await;
        }
        // The first tick is immediate: three periods.
        assert!(t.elapsed() >= Duration::from_millis(15));
    });
}

#[test]
fn many_sleepers_all_wake() {
    let rt = rt(2);
    let n = scaled(1_000);
    let done = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let hs: Vec<_> = (0..n)
            .map(|i| {
                let done = done.clone();
                go(async move {
                    hoare_sched::sleep(Duration::from_micros((i % 50) as u64 * 100)).await;
                    done.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
    });
    assert_eq!(done.load(Ordering::SeqCst), n);
}

#[test]
#[cfg_attr(miri, ignore = "timing: real threads blocking for 200 ms")]
fn a_task_blocking_its_thread_does_not_stall_the_others() {
    // procs = 1: without the monitor's handoff the second task could only
    // run after the first one's 200 ms.
    let rt = rt(1);
    let started = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    let blocker = rt.spawn(async {
        std::thread::sleep(Duration::from_millis(200));
    });
    std::thread::sleep(Duration::from_millis(1));
    let _other = rt.spawn(async move {
        tx.send(started.elapsed()).unwrap();
    });
    let took = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(
        took < Duration::from_millis(50),
        "the other task waited {took:?}"
    );
    rt.block_on(blocker).unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "timing: real threads blocking for 200 ms")]
fn block_in_place_hands_the_p_to_another_worker_at_once() {
    let rt = rt(1);
    let started = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    let blocker = rt.spawn(async {
        hoare_sched::block_in_place(|| std::thread::sleep(Duration::from_millis(200)));
        yield_now().await;
        1
    });
    std::thread::sleep(Duration::from_millis(1));
    let _other = rt.spawn(async move {
        tx.send(started.elapsed()).unwrap();
    });
    let took = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(
        took < Duration::from_millis(20),
        "the other task waited {took:?}"
    );
    assert_eq!(rt.block_on(blocker).unwrap(), 1);
}

#[test]
#[cfg_attr(miri, ignore = "timing: waits for a thread to become a spare M")]
fn handoffs_reuse_the_threads_whose_p_was_taken() {
    // Each round's task gives its P away by `block_in_place`; the M it
    // leaves waits as a spare and takes the P of the next round's handoff.
    // Without reuse every round would start a new thread.
    let rt = rt(1);
    let rounds = 20;
    let threads = rt.block_on(async move {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..rounds {
            let id = go(async {
                // Lets the last round's old M reach the spare list first.
                hoare_sched::sleep(Duration::from_millis(5)).await;
                hoare_sched::block_in_place(|| std::thread::current().id())
            })
            .await
            .unwrap();
            seen.insert(id);
        }
        seen.len()
    });
    assert!(
        threads <= 5,
        "{rounds} handoffs ran on {threads} threads: spare Ms are not reused"
    );
}

#[test]
fn dump_lists_tasks_with_state_location_and_name() {
    let rt = rt(1);
    let (tx, rx) = hoare_chan::bounded::<()>(0);
    let h = rt.spawn_named("waiter", async move { rx.recv_async().await });
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let dump = rt.dump();
        let t = dump.tasks().iter().find(|t| t.id() == h.id()).cloned();
        if let Some(t) = t.filter(|t| t.state() == TaskState::Waiting) {
            assert_eq!(t.name(), Some("waiter"));
            assert!(t.location().file().ends_with("runtime.rs"));
            let text = dump.to_string();
            assert!(text.contains("[waiting] \"waiter\""), "{text}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the task never showed as waiting"
        );
        std::thread::yield_now();
    }
    drop(tx);
    assert!(rt.block_on(h).unwrap().is_err());
    // A finished task leaves the dump.
    assert!(rt.dump().tasks().is_empty());
}

#[test]
#[cfg_attr(miri, ignore = "timing: waits out the grace period")]
fn the_deadlock_check_reports_every_waiting_task() {
    let rt = Runtime::builder()
        .procs(2)
        .detect_deadlock(Duration::from_millis(100))
        .build();
    let (tx, rx) = hoare_chan::bounded::<u32>(0);
    let (tx2, rx2) = hoare_chan::bounded::<u32>(0);
    let err = rt
        .try_block_on(async move {
            let _keep = (tx, tx2);
            hoare_sched::go_named("stuck", async move { rx2.recv_async().await });
            rx.recv_async().await
        })
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("all goroutines are asleep - deadlock!"),
        "{text}"
    );
    assert!(text.contains("\"stuck\""), "{text}");
    assert!(text.contains("block_on future [waiting]"), "{text}");
}

#[test]
#[cfg_attr(miri, ignore = "timing: waits out the grace period")]
fn the_deadlock_check_leaves_sleeping_and_busy_programs_alone() {
    let rt = Runtime::builder()
        .procs(2)
        .detect_deadlock(Duration::from_millis(30))
        .build();
    let v = rt.block_on(async {
        hoare_sched::sleep(Duration::from_millis(120)).await;
        go(async {
            let t = Instant::now();
            while t.elapsed() < Duration::from_millis(100) {
                std::hint::spin_loop();
            }
            3
        })
        .await
        .unwrap()
    });
    assert_eq!(v, 3);
}

#[test]
#[should_panic(expected = "deadlock")]
#[cfg_attr(miri, ignore = "timing: waits out the grace period")]
fn block_on_panics_with_the_deadlock_report() {
    let rt = Runtime::builder()
        .procs(1)
        .detect_deadlock(Duration::from_millis(30))
        .build();
    rt.block_on(std::future::pending::<()>());
}

#[test]
fn shutdown_drops_every_unfinished_task_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let n = scaled(200);
    let rt = rt(2);
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let c = Count(drops.clone());
            rt.spawn(async move {
                let _c = c;
                if i % 2 == 0 {
                    std::future::pending::<()>().await;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(20));
    drop(rt);
    assert_eq!(drops.load(Ordering::SeqCst), n);
    for (i, h) in handles.into_iter().enumerate() {
        match h.join() {
            // A task that finishes may have done so before the shutdown.
            Ok(()) => assert_eq!(i % 2, 1, "a pending task cannot finish"),
            Err(JoinError::Cancelled) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
}

#[test]
fn a_waker_kept_after_its_task_finished_is_harmless() {
    let rt = rt(2);
    let (wtx, wrx) = std::sync::mpsc::channel();
    let h = rt.spawn(std::future::poll_fn(move |cx| {
        wtx.send(cx.waker().clone()).unwrap();
        std::task::Poll::Ready(())
    }));
    rt.block_on(h).unwrap();
    let w = wrx.recv().unwrap();
    w.wake_by_ref();
    let w2 = w.clone();
    w2.wake();
    drop(rt);
    // After shutdown too.
    w.wake();
}

#[test]
fn cancelling_a_task_that_borrows_across_an_await_drops_it_in_place() {
    // The future holds a reference into itself (`tx` is borrowed by the
    // pending send): it must be dropped where it is pinned.
    let rt = rt(2);
    let (tx, rx) = hoare_chan::bounded::<Vec<u8>>(0);
    let h = rt.spawn(async move {
        let local = tx;
        local.send_async(vec![1, 2, 3]).await.unwrap();
    });
    std::thread::sleep(Duration::from_millis(10));
    h.abort();
    assert!(rt.block_on(h).unwrap_err().is_cancelled());
    assert!(rx.try_recv().is_err());
    // And at shutdown.
    let (tx, _rx) = hoare_chan::bounded::<Vec<u8>>(0);
    drop(rt.spawn(async move {
        let local = tx;
        local.send_async(vec![4]).await.unwrap();
    }));
    std::thread::sleep(Duration::from_millis(10));
    drop(rt);
}

#[test]
fn dropping_the_runtime_inside_one_of_its_goroutines_shuts_it_down() {
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = Arc::new(std::sync::Mutex::new(Some(rt(2))));
    let waiting: Vec<_> = {
        let g = rt.lock().unwrap();
        let r = g.as_ref().unwrap();
        (0..10)
            .map(|_| {
                let c = Count(drops.clone());
                r.spawn(async move {
                    let _c = c;
                    std::future::pending::<()>().await;
                })
            })
            .collect()
    };
    let r2 = rt.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    rt.lock().unwrap().as_ref().unwrap().spawn(async move {
        let runtime = r2.lock().unwrap().take();
        drop(runtime);
        tx.send(()).unwrap();
    });
    rx.recv_timeout(Duration::from_secs(5)).unwrap();
    for h in waiting {
        assert!(h.join().unwrap_err().is_cancelled());
    }
    assert_eq!(drops.load(Ordering::SeqCst), 10);
}
