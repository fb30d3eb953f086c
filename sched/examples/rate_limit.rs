//! Rate limiting (Go by Example: Rate Limiting): serve requests no faster
//! than one per tick, with a small burst allowance.
//!
//! ```go
//! limiter := time.Tick(5 * time.Millisecond)
//! for req := range requests {
//!     <-limiter
//!     serve(req)
//! }
//! // bursty: a buffered channel refilled by a ticker
//! bursty := make(chan time.Time, 3)
//! for i := 0; i < 3; i++ { bursty <- time.Now() }
//! go func() { for t := range time.Tick(5 * time.Millisecond) { bursty <- t } }()
//! ```

use std::time::{Duration, Instant};

use hoare_chan::{bounded, tick};
use hoare_sched::{Runtime, go};

const EVERY: Duration = Duration::from_millis(5);

/// Serves `n` requests, one per tick after a burst of `burst`; returns the
/// instants they were served at.
fn serve(n: usize, burst: usize) -> Vec<Instant> {
    let rt = Runtime::builder().procs(2).build();
    rt.block_on(async move {
        let (tokens, limiter) = bounded::<Instant>(burst.max(1));
        for _ in 0..burst {
            tokens.try_send(Instant::now()).unwrap();
        }
        let refill = go(async move {
            let ticks = tick(EVERY);
            // Ends when the limiter is dropped (the send fails).
            while let Ok(t) = ticks.recv_async().await {
                if tokens.send_async(t).await.is_err() {
                    return;
                }
            }
        });
        let (requests_tx, requests) = bounded::<usize>(n);
        for r in 0..n {
            requests_tx.try_send(r).unwrap();
        }
        drop(requests_tx);
        let mut served = Vec::new();
        while let Ok(_req) = requests.recv_async().await {
            limiter.recv_async().await.unwrap();
            served.push(Instant::now());
        }
        drop(limiter);
        refill.await.unwrap();
        served
    })
}

fn main() {
    let served = serve(8, 3);
    let start = served[0];
    for t in &served {
        println!("served at +{:?}", t.duration_since(start));
    }
}

#[test]
fn after_the_burst_requests_are_spaced_by_the_tick() {
    let served = serve(8, 3);
    assert_eq!(served.len(), 8);
    // Five requests beyond the burst need at least four more ticks after
    // the first one (a tick comes every 5 ms, the first at once).
    let span = served[7].duration_since(served[0]);
    assert!(span >= EVERY * 4, "{span:?}");
}
