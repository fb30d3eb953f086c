//! A tree of contexts (Go's `context` package): cancelling a parent
//! cancels every context derived from it, never the reverse, and a
//! deadline does the same when it passes.
//!
//! ```go
//! root, cancelRoot := context.WithCancel(context.Background())
//! child, cancelChild := context.WithCancel(root)
//! timed, _ := context.WithTimeout(root, time.Hour)
//! go worker(child)
//! go worker(timed)
//! cancelChild() // only child's workers stop
//! cancelRoot()  // the rest stop too
//! ```

use std::time::Duration;

use hoare_chan::context::{Context, ContextError};
use hoare_sched::{JoinHandle, Runtime, go};

/// A goroutine that waits for its context to end and reports why.
fn worker(ctx: Context) -> JoinHandle<Option<ContextError>> {
    go(async move {
        // `<-ctx.Done()`: the channel closes when the context ends.
        let _ = ctx.done().recv_async().await;
        ctx.err()
    })
}

fn run() -> Vec<Option<ContextError>> {
    let rt = Runtime::builder().procs(2).build();
    rt.block_on(async {
        let (root, cancel_root) = Context::background().with_cancel();
        let (child, cancel_child) = root.with_cancel();
        let (timed, _keep) = root.with_timeout(Duration::from_secs(3600));
        let (short, _keep_short) = child.with_timeout(Duration::from_millis(5));

        let short_worker = worker(short);
        // The short deadline passes on its own.
        let short_end = short_worker.await.unwrap();
        assert!(child.err().is_none(), "a child never cancels its parent");

        let child_worker = worker(child.clone());
        let timed_worker = worker(timed.clone());
        cancel_child.cancel();
        let child_end = child_worker.await.unwrap();
        assert!(root.err().is_none() && timed.err().is_none());

        cancel_root.cancel();
        let timed_end = timed_worker.await.unwrap();
        vec![short_end, child_end, timed_end]
    })
}

fn main() {
    println!("{:?}", run());
}

#[test]
fn cancellation_flows_down_the_tree_only() {
    assert_eq!(
        run(),
        [
            Some(ContextError::DeadlineExceeded),
            Some(ContextError::Canceled),
            Some(ContextError::Canceled),
        ]
    );
}
