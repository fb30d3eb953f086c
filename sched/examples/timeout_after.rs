//! A timeout with `time.After` in a `select` (Go by Example: Timeouts).
//!
//! ```go
//! c := make(chan string, 1)
//! go func() { time.Sleep(50 * time.Millisecond); c <- "result" }()
//! select {
//! case res := <-c:
//!     fmt.Println(res)
//! case <-time.After(10 * time.Millisecond):
//!     fmt.Println("timeout")
//! }
//! ```
//!
//! The slow worker's channel has room for its one value, as in Go, so the
//! worker does not block forever after the select gave up on it.

use std::time::Duration;

use hoare_chan::{after, bounded, select_async};
use hoare_sched::{Runtime, go, sleep};

/// Waits for a worker that answers after `work`, for at most `patience`.
fn call(work: Duration, patience: Duration) -> Result<&'static str, &'static str> {
    let rt = Runtime::builder().procs(2).build();
    rt.block_on(async move {
        let (tx, rx) = bounded(1);
        go(async move {
            sleep(work).await;
            let _ = tx.send_async("result").await;
        });
        let timeout = after(patience);
        select_async! {
            recv(rx) -> res => Ok(res.unwrap()),
            recv(timeout) -> _ => Err("timeout"),
        }
    })
}

fn main() {
    println!(
        "{:?}",
        call(Duration::from_millis(50), Duration::from_millis(10))
    );
    println!(
        "{:?}",
        call(Duration::from_millis(1), Duration::from_secs(5))
    );
}

#[test]
fn a_slow_worker_times_out_and_a_fast_one_answers() {
    assert_eq!(
        call(Duration::from_millis(500), Duration::from_millis(10)),
        Err("timeout")
    );
    assert_eq!(
        call(Duration::from_millis(1), Duration::from_secs(10)),
        Ok("result")
    );
}
