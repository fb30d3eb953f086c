//! A pipeline with cancellation (the Go blog, "Go Concurrency Patterns:
//! Pipelines and cancellation"): stages connected by channels, each a
//! goroutine, and a `done` signal that stops them all when the consumer
//! leaves early.
//!
//! ```go
//! func gen(done <-chan struct{}, nums ...int) <-chan int
//! func sq(done <-chan struct{}, in <-chan int) <-chan int {
//!     out := make(chan int)
//!     go func() {
//!         defer close(out)
//!         for n := range in {
//!             select {
//!             case out <- n * n:
//!             case <-done:
//!                 return
//!             }
//!         }
//!     }()
//!     return out
//! }
//! done := make(chan struct{})
//! defer close(done)
//! out := sq(done, sq(done, gen(done, 1, 2, 3, 4)))
//! fmt.Println(<-out) // only the first value; the deferred close stops the rest
//! ```
//!
//! The `done` channel is a `Context`; a stage also stops when its output
//! is dropped (its send fails), which Go cannot detect.

use hoare_chan::context::Context;
use hoare_chan::{Receiver, bounded, select_async};
use hoare_sched::{JoinHandle, Runtime, go};

/// The first stage: sends `nums` until done.
fn generate(ctx: Context, nums: Vec<u64>) -> (Receiver<u64>, JoinHandle<()>) {
    let (out, rx) = bounded(0);
    let h = go(async move {
        for n in nums {
            select_async! {
                send(out, n) -> r => if r.is_err() { return },
                recv(ctx.done()) -> _ => return,
            }
        }
    });
    (rx, h)
}

/// A middle stage: squares what comes in, until its input closes or done.
fn square(ctx: Context, input: Receiver<u64>) -> (Receiver<u64>, JoinHandle<()>) {
    let (out, rx) = bounded(0);
    let h = go(async move {
        while let Ok(n) = input.recv_async().await {
            select_async! {
                send(out, n * n) -> r => if r.is_err() { return },
                recv(ctx.done()) -> _ => return,
            }
        }
    });
    (rx, h)
}

/// Runs gen -> sq -> sq and takes `take` values; returns them once every
/// stage has stopped.
fn run(take: usize) -> Vec<u64> {
    let rt = Runtime::builder().procs(2).build();
    rt.block_on(async move {
        let (ctx, done) = Context::background().with_cancel();
        let (a, h1) = generate(ctx.clone(), (1..=1_000).collect());
        let (b, h2) = square(ctx.clone(), a);
        let (c, h3) = square(ctx, b);
        let mut got = Vec::new();
        for _ in 0..take {
            match c.recv_async().await {
                Ok(v) => got.push(v),
                Err(_) => break,
            }
        }
        done.cancel(); // `close(done)`: every stage returns
        for h in [h1, h2, h3] {
            h.await.unwrap();
        }
        got
    })
}

fn main() {
    println!("{:?}", run(4));
}

#[test]
fn the_consumer_takes_a_few_values_and_every_stage_stops() {
    assert_eq!(run(4), [1, 16, 81, 256]);
    assert_eq!(run(1_000).len(), 1_000);
}
