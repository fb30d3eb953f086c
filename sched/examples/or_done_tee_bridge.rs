//! Channel combinators from "Concurrency in Go": or-done (read a channel
//! until it closes or the caller is done), tee (copy one channel into
//! two) and bridge (flatten a channel of channels).
//!
//! ```go
//! orDone := func(done, c <-chan any) <-chan any {
//!     out := make(chan any)
//!     go func() {
//!         defer close(out)
//!         for {
//!             select {
//!             case <-done: return
//!             case v, ok := <-c:
//!                 if !ok { return }
//!                 select { case out <- v: case <-done: return }
//!             }
//!         }
//!     }()
//!     return out
//! }
//! ```
//!
//! `tee` sends each value to both outputs, to whichever is read first,
//! before taking the next, as the book's does; `bridge` drains each inner channel in turn. In hoare a
//! combinator's goroutine also ends when its output is dropped.

use hoare_chan::context::Context;
use hoare_chan::{Receiver, bounded, select_async};
use hoare_sched::{Runtime, go};

/// Forwards `input` until it closes or `ctx` is done.
fn or_done<T: Send + 'static>(ctx: Context, input: Receiver<T>) -> Receiver<T> {
    let (out, rx) = bounded(0);
    go(async move {
        loop {
            let v = select_async! {
                recv(ctx.done()) -> _ => return,
                recv(input) -> v => match v {
                    Ok(v) => v,
                    Err(_) => return,
                },
            };
            select_async! {
                send(out, v) -> r => if r.is_err() { return },
                recv(ctx.done()) -> _ => return,
            }
        }
    });
    rx
}

/// Copies every value of `input` to both outputs.
fn tee<T: Clone + Send + 'static>(input: Receiver<T>) -> (Receiver<T>, Receiver<T>) {
    let ((a_tx, a), (b_tx, b)) = (bounded(0), bounded(0));
    go(async move {
        while let Ok(v) = input.recv_async().await {
            // To whichever receiver comes first, then to the other.
            select_async! {
                send(a_tx, v.clone()) -> r => {
                    r.unwrap();
                    b_tx.send_async(v).await.unwrap();
                },
                send(b_tx, v.clone()) -> r => {
                    r.unwrap();
                    a_tx.send_async(v).await.unwrap();
                },
            }
        }
    });
    (a, b)
}

/// Flattens a channel of channels into one, draining each in turn.
fn bridge<T: Send + 'static>(chans: Receiver<Receiver<T>>) -> Receiver<T> {
    let (out, rx) = bounded(0);
    go(async move {
        while let Ok(inner) = chans.recv_async().await {
            while let Ok(v) = inner.recv_async().await {
                if out.send_async(v).await.is_err() {
                    return;
                }
            }
        }
    });
    rx
}

/// A channel of `n` numbers from `from`, closed after them.
fn numbers(from: u64, n: u64) -> Receiver<u64> {
    let (tx, rx) = bounded(0);
    go(async move {
        for i in from..from + n {
            if tx.send_async(i).await.is_err() {
                return;
            }
        }
    });
    rx
}

/// Tee of 0..5, read b-first then a-first; bridge of three channels; an
/// or-done stopped after two values. Returns what each produced.
fn run() -> (Vec<(u64, u64)>, Vec<u64>, Vec<u64>) {
    let rt = Runtime::builder().procs(2).build();
    rt.block_on(async {
        let (a, b) = tee(numbers(0, 5));
        let mut pairs = Vec::new();
        for i in 0..5 {
            let (x, y) = if i % 2 == 0 {
                let y = b.recv_async().await.unwrap();
                (a.recv_async().await.unwrap(), y)
            } else {
                (a.recv_async().await.unwrap(), b.recv_async().await.unwrap())
            };
            pairs.push((x, y));
        }

        let (chans_tx, chans) = bounded(3);
        for k in 0..3 {
            chans_tx.try_send(numbers(10 * k, 2)).unwrap();
        }
        drop(chans_tx);
        let flat_rx = bridge(chans);
        let mut flat = Vec::new();
        while let Ok(v) = flat_rx.recv_async().await {
            flat.push(v);
        }

        let (ctx, done) = Context::background().with_cancel();
        let endless = or_done(ctx, numbers(100, u64::MAX - 100));
        let mut first = Vec::new();
        for _ in 0..2 {
            first.push(endless.recv_async().await.unwrap());
        }
        done.cancel();
        // Done: the or-done goroutine returns and closes its output.
        while endless.recv_async().await.is_ok() {}
        (pairs, flat, first)
    })
}

fn main() {
    println!("{:?}", run());
}

#[test]
fn tee_copies_bridge_flattens_and_or_done_stops() {
    let (pairs, flat, first) = run();
    assert_eq!(pairs, (0..5).map(|i| (i, i)).collect::<Vec<_>>());
    assert_eq!(flat, [0, 1, 10, 11, 20, 21]);
    assert_eq!(first, [100, 101]);
}
