//! Bounded parallelism: at most `LIMIT` goroutines inside a section at
//! once, with Go's two idioms, a buffered channel used as a semaphore and
//! a `semaphore.Weighted`.
//!
//! ```go
//! sem := make(chan struct{}, limit)
//! for _, job := range jobs {
//!     wg.Add(1)
//!     go func(job int) {
//!         defer wg.Done()
//!         sem <- struct{}{}        // acquire
//!         defer func() { <-sem }() // release
//!         work(job)
//!     }(job)
//! }
//! wg.Wait()
//! ```
//!
//! With hoare-sync's `Semaphore` the permit goes back when it is dropped,
//! so no path (an early return, a panic) can forget the release.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hoare_chan::bounded;
use hoare_sched::{Runtime, go, sleep};
use hoare_sync::{Semaphore, WaitGroup};

const LIMIT: usize = 3;
const JOBS: usize = 30;

/// Tracks how many jobs are inside at once.
#[derive(Default)]
struct Inside {
    now: AtomicUsize,
    most: AtomicUsize,
}

impl Inside {
    async fn work(&self) {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(n, Ordering::SeqCst);
        sleep(Duration::from_millis(1)).await;
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The buffered-channel semaphore; returns the most jobs inside at once.
fn with_channel() -> usize {
    let rt = Runtime::builder().procs(2).build();
    rt.block_on(async {
        let (sem, release) = bounded::<()>(LIMIT);
        let inside = Arc::new(Inside::default());
        let wg = Arc::new(WaitGroup::new());
        for _ in 0..JOBS {
            wg.add(1);
            let (sem, release, inside, wg) =
                (sem.clone(), release.clone(), inside.clone(), wg.clone());
            go(async move {
                sem.send_async(()).await.unwrap(); // acquire
                inside.work().await;
                release.recv_async().await.unwrap(); // release
                wg.done();
            });
        }
        wg.wait_async().await;
        inside.most.load(Ordering::SeqCst)
    })
}

/// hoare-sync's `Semaphore`; returns the most jobs inside at once.
fn with_semaphore() -> usize {
    let rt = Runtime::builder().procs(2).build();
    rt.block_on(async {
        let sem = Arc::new(Semaphore::new(LIMIT));
        let inside = Arc::new(Inside::default());
        let jobs: Vec<_> = (0..JOBS)
            .map(|_| {
                let (sem, inside) = (sem.clone(), inside.clone());
                go(async move {
                    let _permit = sem.acquire_async(1).await; // back on drop
                    inside.work().await;
                })
            })
            .collect();
        for j in jobs {
            j.await.unwrap();
        }
        inside.most.load(Ordering::SeqCst)
    })
}

fn main() {
    println!("channel: at most {} inside", with_channel());
    println!("semaphore: at most {} inside", with_semaphore());
}

#[test]
fn never_more_than_the_limit_inside() {
    for most in [with_channel(), with_semaphore()] {
        assert!((1..=LIMIT).contains(&most), "{most} inside at once");
    }
}
