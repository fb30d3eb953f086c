//! Go programs on the runtime: hoare-chan and hoare-sync futures run on it
//! unchanged.
//!
//! Not run under Miri: these programs pass thousands of messages between
//! workers, which Miri takes far longer than its CI budget for (a pipeline
//! of 22 values had not finished after five minutes). The task and waker
//! code they use is covered under Miri by `runtime.rs`.

#![cfg(not(miri))]

use std::sync::Arc;

use hoare_sched::{Runtime, go};

fn rt() -> Runtime {
    Runtime::builder().procs(2).build()
}

#[test]
fn a_pipeline_of_goroutines_passes_every_value_in_order() {
    let n = 10_000_u64;
    let rt = rt();
    let got = rt.block_on(async move {
        let (tx, rx) = hoare_chan::bounded::<u64>(0);
        let (sq_tx, sq_rx) = hoare_chan::bounded::<u64>(4);
        go(async move {
            for i in 0..n {
                tx.send_async(i).await.unwrap();
            }
        });
        go(async move {
            while let Ok(v) = rx.recv_async().await {
                sq_tx.send_async(v * v).await.unwrap();
            }
        });
        let mut got = Vec::new();
        while let Ok(v) = sq_rx.recv_async().await {
            got.push(v);
        }
        got
    });
    let want: Vec<u64> = (0..n).map(|i| i * i).collect();
    assert_eq!(got, want);
}

#[test]
fn a_worker_pool_processes_every_job_once() {
    let jobs = 10_000_u64;
    let rt = rt();
    let mut results = rt.block_on(async move {
        let (job_tx, job_rx) = hoare_chan::bounded::<u64>(16);
        let (res_tx, res_rx) = hoare_chan::unbounded::<u64>();
        for _ in 0..8 {
            let (job_rx, res_tx) = (job_rx.clone(), res_tx.clone());
            go(async move {
                while let Ok(j) = job_rx.recv_async().await {
                    res_tx.send_async(j + 1).await.unwrap();
                }
            });
        }
        drop((job_rx, res_tx));
        go(async move {
            for j in 0..jobs {
                job_tx.send_async(j).await.unwrap();
            }
        });
        let mut results = Vec::new();
        while let Ok(r) = res_rx.recv_async().await {
            results.push(r);
        }
        results
    });
    results.sort_unstable();
    assert_eq!(results, (1..=jobs).collect::<Vec<_>>());
}

#[test]
fn fan_in_from_ten_thousand_goroutines() {
    let n = 10_000_u64;
    let rt = rt();
    let sum = rt.block_on(async move {
        let (tx, rx) = hoare_chan::bounded::<u64>(0);
        for i in 0..n {
            let tx = tx.clone();
            go(async move { tx.send_async(i).await.unwrap() });
        }
        drop(tx);
        let mut sum = 0;
        while let Ok(v) = rx.recv_async().await {
            sum += v;
        }
        sum
    });
    assert_eq!(sum, n * (n - 1) / 2);
}

#[test]
fn ten_thousand_goroutines_increment_a_mutex_protected_counter() {
    let n = 10_000;
    let rt = rt();
    let counter = Arc::new(hoare_sync::Mutex::new(0usize));
    let wg = Arc::new(hoare_sync::WaitGroup::new());
    let c = counter.clone();
    rt.block_on(async move {
        wg.add(n as isize);
        for _ in 0..n {
            let (c, wg) = (c.clone(), wg.clone());
            go(async move {
                *c.lock_async().await += 1;
                hoare_sched::yield_now().await;
                *c.lock_async().await += 1;
                wg.done();
            });
        }
        wg.wait_async().await;
    });
    assert_eq!(*counter.lock(), 2 * n);
}

#[test]
fn a_million_goroutines_each_blocked_on_its_own_channel_are_released_and_joined() {
    let n = 1_000_000;
    let rt = rt();
    let total = rt.block_on(async move {
        let mut senders = Vec::with_capacity(n);
        let mut handles = Vec::with_capacity(n);
        for _ in 0..n {
            let (tx, rx) = hoare_chan::bounded::<u32>(1);
            senders.push(tx);
            handles.push(go(async move { rx.recv_async().await.unwrap() }));
        }
        // Let them all block.
        hoare_sched::yield_now().await;
        for tx in &senders {
            tx.send_async(1).await.unwrap();
        }
        let mut total = 0u64;
        for h in handles {
            total += u64::from(h.await.unwrap());
        }
        total
    });
    assert_eq!(total, n as u64);
}
