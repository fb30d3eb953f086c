//! The concurrent prime sieve (Go's classic `sieve.go`): a chain of
//! goroutines, one per prime found, each filtering the multiples of its
//! prime out of the numbers the previous one passes on.
//!
//! ```go
//! func generate(ch chan<- int) { for i := 2; ; i++ { ch <- i } }
//! func filter(in <-chan int, out chan<- int, prime int) {
//!     for { i := <-in; if i%prime != 0 { out <- i } }
//! }
//! func main() {
//!     ch := make(chan int)
//!     go generate(ch)
//!     for i := 0; i < 10; i++ {
//!         prime := <-ch
//!         ch1 := make(chan int)
//!         go filter(ch, ch1, prime)
//!         ch = ch1
//!     }
//! }
//! ```
//!
//! Unbuffered channels, as in Go. Go's version leaves its goroutines
//! blocked when `main` returns; here every goroutine ends when its output
//! channel's receiver is dropped (a send fails), so the runtime shuts down
//! with nothing left running.

use hoare_chan::{Receiver, bounded};
use hoare_sched::{Runtime, go};

fn primes(n: usize) -> Vec<u64> {
    let rt = Runtime::builder().procs(2).build();
    rt.block_on(async move {
        let (tx, mut ch): (_, Receiver<u64>) = bounded(0);
        go(async move {
            let mut i = 2;
            while tx.send_async(i).await.is_ok() {
                i += 1;
            }
        });
        let mut found = Vec::new();
        for _ in 0..n {
            let prime = ch.recv_async().await.unwrap();
            found.push(prime);
            let (out, next) = bounded(0);
            let input = ch;
            go(async move {
                while let Ok(i) = input.recv_async().await {
                    if i % prime != 0 && out.send_async(i).await.is_err() {
                        return; // downstream is gone
                    }
                }
            });
            ch = next;
        }
        found
    })
}

fn main() {
    println!("{:?}", primes(10));
}

#[test]
fn the_first_twenty_primes() {
    assert_eq!(
        primes(20),
        [
            2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71
        ]
    );
}
