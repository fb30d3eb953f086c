//! An errgroup (Go's `golang.org/x/sync/errgroup` with a context): run
//! tasks together, return the first error, and cancel the others as soon
//! as one fails.
//!
//! ```go
//! g, ctx := errgroup.WithContext(context.Background())
//! for _, url := range urls {
//!     url := url
//!     g.Go(func() error { return fetch(ctx, url) })
//! }
//! if err := g.Wait(); err != nil { ... }
//! ```
//!
//! The group below is the whole pattern in a few lines: each task's error
//! goes into a channel of capacity 1 (the first one stays, later ones are
//! dropped by `try_send`), and the first failure cancels the group's
//! context, which the other tasks watch in their `select_async!`.

use std::future::Future;
use std::time::Duration;

use hoare_chan::context::{Cancel, Context};
use hoare_chan::{Receiver, Sender, bounded, select_async};
use hoare_sched::{JoinHandle, Runtime, go, sleep};

struct Group {
    ctx: Context,
    cancel: Cancel,
    first_err: (Sender<String>, Receiver<String>),
    tasks: Vec<JoinHandle<()>>,
}

impl Group {
    fn new() -> Self {
        let (ctx, cancel) = Context::background().with_cancel();
        Group {
            ctx,
            cancel,
            first_err: bounded(1),
            tasks: Vec::new(),
        }
    }

    /// `g.Go(f)`: runs `f(ctx)`; its error, if the first, is the group's.
    fn go<F, Fut>(&mut self, f: F)
    where
        F: FnOnce(Context) -> Fut,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let fut = f(self.ctx.clone());
        let (errors, cancel) = (self.first_err.0.clone(), self.cancel.clone());
        self.tasks.push(go(async move {
            if let Err(e) = fut.await {
                let _ = errors.try_send(e); // only the first one stays
                cancel.cancel();
            }
        }));
    }

    /// `g.Wait()`: every task finished; the first error, if any.
    async fn wait(self) -> Result<(), String> {
        for t in self.tasks {
            t.await.unwrap();
        }
        self.first_err.1.try_recv().map_or(Ok(()), Err)
    }
}

/// A task that takes `ms` milliseconds unless its context ends first.
async fn fetch(ctx: Context, name: &'static str, ms: u64, fail: bool) -> Result<(), String> {
    let work = hoare_chan::after(Duration::from_millis(ms));
    select_async! {
        recv(work) -> _ => {
            if fail { Err(format!("{name} failed")) } else { Ok(()) }
        },
        recv(ctx.done()) -> _ => Err(format!("{name} cancelled")),
    }
}

fn run() -> (Result<(), String>, Duration) {
    let rt = Runtime::builder().procs(2).build();
    rt.block_on(async move {
        let begun = std::time::Instant::now();
        let mut g = Group::new();
        g.go(|ctx| fetch(ctx, "a", 5, true));
        g.go(|ctx| fetch(ctx, "b", 10_000, false));
        g.go(|ctx| async move {
            sleep(Duration::from_millis(1)).await;
            fetch(ctx, "c", 20, false).await
        });
        (g.wait().await, begun.elapsed())
    })
}

fn main() {
    println!("{:?}", run());
}

#[test]
fn the_first_error_wins_and_cancels_the_rest() {
    let (r, took) = run();
    assert_eq!(r, Err("a failed".to_string()));
    // "b" would take ten seconds: it was cancelled.
    assert!(took < Duration::from_secs(5), "{took:?}");
}
