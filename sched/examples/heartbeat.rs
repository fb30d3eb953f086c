//! A worker with a heartbeat ("Concurrency in Go", heartbeats): while it
//! works, it reports on a second channel at every tick of a `time.Tick`,
//! so a supervisor can tell a slow worker from a dead one.
//!
//! ```go
//! heartbeat := make(chan struct{}, 1)
//! results := make(chan int)
//! go func() {
//!     defer close(results)
//!     pulse := time.Tick(2 * time.Millisecond)
//!     for w := 0; w < items; w++ {
//!         for step := 0; step < 3; step++ { // the work: three pulses long
//!             <-pulse
//!             select { case heartbeat <- struct{}{}: default: }
//!         }
//!         results <- w
//!     }
//! }()
//! for {
//!     select {
//!     case _, ok := <-heartbeat: if ok { beats++ }
//!     case r, ok := <-results: if !ok { return }; got = append(got, r)
//!     }
//! }
//! ```
//!
//! The heartbeat goes out with `try_send` into a channel of capacity 1: a
//! beat nobody has read yet is not queued twice, and the worker never
//! waits for its supervisor, as Go's `select` with `default` does.

use std::time::Duration;

use hoare_chan::{bounded, select_async, tick};
use hoare_sched::{Runtime, go};

/// Runs a worker that hands out `items` slowly; returns the items and the
/// heartbeats seen meanwhile.
fn supervise(items: u64) -> (Vec<u64>, usize) {
    let rt = Runtime::builder().procs(2).build();
    rt.block_on(async move {
        let (beat_tx, beats) = bounded::<()>(1);
        let (result_tx, results) = bounded::<u64>(0);
        go(async move {
            let pulse = tick(Duration::from_millis(2));
            for w in 0..items {
                for _ in 0..3 {
                    pulse.recv_async().await.unwrap();
                    let _ = beat_tx.try_send(());
                }
                result_tx.send_async(w).await.unwrap();
            }
            // `result_tx` is dropped: the supervisor's loop ends.
        });
        let mut got = Vec::new();
        let mut seen = 0;
        loop {
            select_async! {
                // A closed channel is always ready: count beats only. (It
                // closes with `results`, when the worker returns.)
                recv(beats) -> b => seen += usize::from(b.is_ok()),
                recv(results) -> r => match r {
                    Ok(v) => got.push(v),
                    Err(_) => break,
                },
            }
        }
        (got, seen)
    })
}

fn main() {
    let (got, beats) = supervise(5);
    println!("{got:?} with {beats} heartbeats");
}

#[test]
fn every_result_arrives_and_the_worker_beats_while_it_works() {
    let (got, beats) = supervise(5);
    assert_eq!(got, [0, 1, 2, 3, 4]);
    // The first beat goes out while no result is ready yet, so the
    // supervisor sees it; at most three beats an item are sent.
    assert!((1..=15).contains(&beats), "{beats}");
}
