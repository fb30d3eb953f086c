//! loom models of the whole runtime, most with one P (a worker thread and
//! the `block_on` thread): worker parking against a spawn, a task's
//! completion against its `JoinHandle`'s drop and `abort`, and a waker used
//! after its task completed; and one with two Ps, where the worker that may
//! not search parks and leaves a spawned task to the searcher. The monitor
//! and the timers do not run under loom.

#![cfg(loom)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hoare_sched::Runtime;
use loom::thread;

fn rt() -> Runtime {
    Runtime::builder().procs(1).build()
}

struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_task_spawned_while_the_worker_goes_to_sleep_still_runs() {
    loom::model(|| {
        let rt = rt();
        // The worker is starting, searching or parking meanwhile.
        let h = rt.spawn(async { 7 });
        assert_eq!(rt.block_on(h).unwrap(), 7);
    });
}

#[test]
fn with_two_workers_parking_a_task_spawned_from_outside_still_runs() {
    // Three threads that all park and unpark: one preemption keeps the
    // search under CI's budget (with two it ran for over ten minutes).
    let mut model = loom::model::Builder::new();
    model.preemption_bound = Some(1);
    model.check(|| {
        // Two Ps: at most one worker searches; the other, finding nothing
        // of its own while the first searches, parks even if the task is
        // queued, trusting the searcher (or the pusher's wake-up) to run
        // it. Checks that no interleaving loses the task (a hang); that the
        // second worker re-checks the queues once the searcher has gone,
        // so as not to sleep next to queued work, is not a liveness
        // property the model can see.
        let rt = Runtime::builder().procs(2).build();
        let h = rt.spawn(async { 7 });
        assert_eq!(rt.block_on(h).unwrap(), 7);
    });
}

#[test]
fn completion_races_the_join_handle_drop_and_the_output_is_dropped_once() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let rt = rt();
        let ran = Arc::new(AtomicUsize::new(0));
        let (d, r) = (drops.clone(), ran.clone());
        let h = rt.spawn(async move {
            r.store(1, Ordering::SeqCst);
            Counted(d)
        });
        // Dropped while the worker may be completing the task.
        drop(h);
        drop(rt);
        // The output exists only if the task ran before shutdown cancelled
        // it, and then it is dropped exactly once.
        assert_eq!(drops.load(Ordering::SeqCst), ran.load(Ordering::SeqCst));
    });
}

#[test]
fn abort_races_completion_and_the_future_is_dropped_once() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let rt = rt();
        let c = Counted(drops.clone());
        let h = rt.spawn(async move {
            let _c = c;
            5
        });
        h.abort();
        match rt.block_on(h) {
            Ok(v) => assert_eq!(v, 5),
            Err(e) => assert!(e.is_cancelled()),
        }
        drop(rt);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn a_waker_woken_from_another_thread_as_its_task_completes() {
    loom::model(|| {
        let rt = rt();
        // A loom mutex: a std one held across a loom yield point would block
        // the model for real.
        let slot = Arc::new(loom::sync::Mutex::new(None::<std::task::Waker>));
        let s = slot.clone();
        let h = rt.spawn(std::future::poll_fn(move |cx| {
            let mut g = s.lock().unwrap();
            if g.is_none() {
                *g = Some(cx.waker().clone());
                return std::task::Poll::Pending;
            }
            std::task::Poll::Ready(())
        }));
        let waker_thread = {
            let slot = slot.clone();
            thread::spawn(move || {
                loop {
                    let w = slot.lock().unwrap().clone();
                    if let Some(w) = w {
                        w.wake();
                        return;
                    }
                    thread::yield_now();
                }
            })
        };
        rt.block_on(h).unwrap();
        waker_thread.join().unwrap();
        // The kept waker, after completion and after shutdown.
        let w = slot.lock().unwrap().take().unwrap();
        w.wake_by_ref();
        drop(rt);
        w.wake();
    });
}
