//! A worker pool (Go: "Go by Example: Worker Pools").
//!
//! ```go
//! jobs := make(chan int, 100)
//! results := make(chan int, 100)
//! for w := 1; w <= 3; w++ { go worker(w, jobs, results) }
//! for j := 1; j <= 9; j++ { jobs <- j }
//! close(jobs)
//! for a := 1; a <= 9; a++ { <-results }
//! ```
//!
//! Here the workers are goroutines on hoare-sched; `drop(jobs_tx)` is
//! `close(jobs)`, and a worker's loop ends when the channel is closed and
//! drained, as Go's `for j := range jobs` does.

use hoare_chan::bounded;
use hoare_sched::{Runtime, go};

const WORKERS: usize = 3;
const JOBS: u64 = 90;

fn run() -> Vec<(usize, u64)> {
    let rt = Runtime::builder().procs(2).build();
    rt.block_on(async {
        let (jobs_tx, jobs_rx) = bounded::<u64>(100);
        let (results_tx, results_rx) = bounded::<(usize, u64)>(100);
        for id in 0..WORKERS {
            let (jobs, results) = (jobs_rx.clone(), results_tx.clone());
            go(async move {
                while let Ok(j) = jobs.recv_async().await {
                    results.send_async((id, j * 2)).await.unwrap();
                }
            });
        }
        // The workers hold their own clones: these go, so the results
        // channel closes once every worker has finished.
        drop((jobs_rx, results_tx));
        for j in 1..=JOBS {
            jobs_tx.send_async(j).await.unwrap();
        }
        drop(jobs_tx); // close(jobs)
        let mut done = Vec::new();
        while let Ok(r) = results_rx.recv_async().await {
            done.push(r);
        }
        done
    })
}

fn main() {
    let done = run();
    println!("{} jobs done by {WORKERS} workers", done.len());
}

#[test]
fn every_job_is_done_once() {
    let mut doubled: Vec<u64> = run().into_iter().map(|(_, v)| v).collect();
    doubled.sort_unstable();
    assert_eq!(doubled, (1..=JOBS).map(|j| j * 2).collect::<Vec<_>>());
}
