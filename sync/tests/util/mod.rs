//! Helpers shared by the test files (`mod util;` in each).

#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Polls `f` once with a waker that does nothing.
pub fn poll_once<F: Future>(f: Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(Waker::noop()))
}

/// Runs `f` under loom with at least `preemptions` forced context switches
/// per execution (loom's bounded exploration, as tokio bounds its models);
/// `LOOM_MAX_PREEMPTIONS` may raise the bound, never lower it.
#[cfg(loom)]
pub fn model(preemptions: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    let bound = builder
        .preemption_bound
        .map_or(preemptions, |env| env.max(preemptions));
    builder.preemption_bound = Some(bound);
    builder.check(f);
}
