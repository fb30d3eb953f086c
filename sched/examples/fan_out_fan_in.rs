//! Fan-out, fan-in (the Go blog's pipelines article): several goroutines
//! read from one channel (fan-out), and one `merge` combines their output
//! channels into one (fan-in), closing it when every input is done.
//!
//! ```go
//! func merge(cs ...<-chan int) <-chan int {
//!     var wg sync.WaitGroup
//!     out := make(chan int)
//!     output := func(c <-chan int) {
//!         for n := range c { out <- n }
//!         wg.Done()
//!     }
//!     wg.Add(len(cs))
//!     for _, c := range cs { go output(c) }
//!     go func() { wg.Wait(); close(out) }()
//!     return out
//! }
//! ```
//!
//! hoare closes a channel when its last sender is dropped, so `merge`
//! needs no `WaitGroup`: each forwarding goroutine holds a clone of the
//! output's sender, and the output closes when the last one ends.

use hoare_chan::{Receiver, bounded};
use hoare_sched::{Runtime, go};

/// Fan-in: one channel with everything `inputs` carry.
fn merge(inputs: Vec<Receiver<u64>>) -> Receiver<u64> {
    let (out, merged) = bounded(0);
    for input in inputs {
        let out = out.clone();
        go(async move {
            while let Ok(v) = input.recv_async().await {
                if out.send_async(v).await.is_err() {
                    return;
                }
            }
        });
    }
    merged // the last clone of `out` goes with the last forwarder
}

/// Fan-out: `workers` goroutines square the numbers of one channel.
fn run(workers: usize, n: u64) -> Vec<u64> {
    let rt = Runtime::builder().procs(2).build();
    rt.block_on(async move {
        let (src, numbers) = bounded(0);
        go(async move {
            for i in 1..=n {
                src.send_async(i).await.unwrap();
            }
        });
        let outputs = (0..workers)
            .map(|_| {
                let (numbers, (out, rx)) = (numbers.clone(), bounded(0));
                go(async move {
                    while let Ok(i) = numbers.recv_async().await {
                        out.send_async(i * i).await.unwrap();
                    }
                });
                rx
            })
            .collect();
        drop(numbers);
        let merged = merge(outputs);
        let mut got = Vec::new();
        while let Ok(v) = merged.recv_async().await {
            got.push(v);
        }
        got
    })
}

fn main() {
    println!("{:?}", run(3, 10));
}

#[test]
fn every_value_comes_out_once() {
    let mut got = run(4, 1_000);
    got.sort_unstable();
    assert_eq!(got, (1..=1_000).map(|i| i * i).collect::<Vec<_>>());
}
