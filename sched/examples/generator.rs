//! A generator: a goroutine that produces values on a channel for as long
//! as somebody takes them (Go: a function returning `<-chan T`).
//!
//! ```go
//! func fib(done <-chan struct{}) <-chan int {
//!     ch := make(chan int)
//!     go func() {
//!         defer close(ch)
//!         for a, b := 0, 1; ; a, b = b, a+b {
//!             select {
//!             case ch <- a:
//!             case <-done:
//!                 return
//!             }
//!         }
//!     }()
//!     return ch
//! }
//! ```
//!
//! Go needs the `done` channel so that the generator does not leak once
//! the consumer stops. Here dropping the `Receiver` closes the channel, so
//! the generator's next send fails and it returns: no `done` channel.

use hoare_chan::{Receiver, bounded};
use hoare_sched::{JoinHandle, Runtime, go};

/// Starts the generator; it stops when the returned receiver is dropped.
/// (The handle is only for showing that it does.)
fn fib() -> (Receiver<u64>, JoinHandle<()>) {
    let (tx, rx) = bounded(0);
    let generator = go(async move {
        let (mut a, mut b) = (0u64, 1u64);
        while tx.send_async(a).await.is_ok() {
            (a, b) = (b, a + b);
        }
    });
    (rx, generator)
}

fn first(n: usize) -> Vec<u64> {
    let rt = Runtime::builder().procs(2).build();
    rt.block_on(async move {
        let (numbers, generator) = fib();
        let mut got = Vec::new();
        for _ in 0..n {
            got.push(numbers.recv_async().await.unwrap());
        }
        drop(numbers);
        // Its pending send failed when the receiver went: it has returned.
        generator.await.unwrap();
        got
    })
}

fn main() {
    println!("{:?}", first(10));
}

#[test]
fn the_generator_yields_fibonacci_and_stops_with_its_consumer() {
    assert_eq!(first(10), [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]);
}
