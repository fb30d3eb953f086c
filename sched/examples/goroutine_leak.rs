//! Finding a leaked goroutine with a dump (Go: a goroutine blocked forever
//! on a channel nobody will use, found in the `SIGQUIT` dump or with
//! `runtime.NumGoroutine`).
//!
//! ```go
//! func search(query string) string {
//!     results := make(chan string) // unbuffered: the bug
//!     go func() { results <- slowLookup(query) }()
//!     select {
//!     case r := <-results:
//!         return r
//!     case <-time.After(10 * time.Millisecond):
//!         return "timeout" // the goroutine above blocks in its send forever
//!     }
//! }
//! ```
//!
//! Here the same bug leaks a task only if the receiver is kept alive (as
//! below, in a long-lived struct); `Runtime::dump` lists every live task
//! with its state and the line that spawned it, and the fix is Go's: give
//! the channel room for the one late value (or drop the receiver, which
//! makes the late send fail).

use std::time::Duration;

use hoare_chan::{Receiver, after, bounded, select_async};
use hoare_sched::{Runtime, TaskState, go_named, sleep};

/// The buggy search: keeps its results channel alive in `kept`.
async fn search(kept: &mut Vec<Receiver<String>>, room: usize) -> String {
    let (tx, rx) = bounded(room);
    go_named("lookup", async move {
        sleep(Duration::from_millis(50)).await; // slow
        let _ = tx.send_async("found".to_string()).await;
    });
    let timeout = after(Duration::from_millis(5));
    let r = select_async! {
        recv(rx) -> r => r.unwrap(),
        recv(timeout) -> _ => "timeout".to_string(),
    };
    kept.push(rx); // the leak: nobody will ever receive from it
    r
}

/// Runs one search; returns its answer and the lookups still alive once
/// the slow lookup has had time to answer.
fn run(room: usize) -> (String, Vec<TaskState>) {
    let rt = Runtime::builder().procs(2).build();
    let mut kept = Vec::new();
    let answer = rt.block_on(async {
        let r = search(&mut kept, room).await;
        sleep(Duration::from_millis(200)).await;
        r
    });
    let dump = rt.dump();
    println!("{dump}");
    let lookups = dump
        .tasks()
        .iter()
        .filter(|t| t.name() == Some("lookup"))
        .map(|t| t.state())
        .collect();
    (answer, lookups)
}

fn main() {
    run(0);
}

#[test]
fn the_dump_shows_the_leaked_lookup_and_the_fix_removes_it() {
    // Unbuffered: the lookup is stuck in its send.
    let (answer, lookups) = run(0);
    assert_eq!(answer, "timeout");
    assert_eq!(lookups, [TaskState::Waiting]);
    // Room for the late value: the lookup finished and left the runtime.
    let (answer, lookups) = run(1);
    assert_eq!(answer, "timeout");
    assert!(lookups.is_empty(), "{lookups:?}");
}
