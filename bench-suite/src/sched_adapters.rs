//! One small interface over the async runtimes the scheduler workloads run
//! on: hoare-sched (work stealing, and its global-FIFO baseline) and
//! tokio's multi-thread runtime.
//!
//! The workloads in [`crate::sched_workloads`] (and the async channel
//! workloads of [`crate::chan_workloads`]) are written once, generic over
//! [`Executor`], and instantiated per runtime, as the channel workloads are
//! over [`crate::chan_adapters`]. Every method is a direct call to the
//! runtime's own operation; a join handle is wrapped in an `async` block
//! that unwraps its result, which costs both runtimes the same.
//!
//! | implementation | type | runtime |
//! |---|---|---|
//! | `hoare` | [`Hoare`] | `hoare_sched::Runtime`, [`PROCS`] Ps, `Policy::WorkStealing` |
//! | `hoare-fifo` | [`HoareFifo`] | the same with `Policy::GlobalFifo`: a baseline, not a peer |
//! | `tokio` | [`Tokio`] | `tokio::runtime::Runtime`, multi-thread, [`PROCS`] workers |

use std::future::Future;

/// Ps of hoare-sched and worker threads of tokio: one per core of the
/// 2-core machines this suite runs on.
pub const PROCS: usize = 2;

/// Why awaiting a join handle cannot fail: no workload task panics or is
/// aborted, and the runtime outlives every handle.
const JOINED: &str = "a workload task panicked or was cancelled";

/// Why a task whose handle [`Executor::cancelled`] awaits cannot panic: the
/// idle tasks of [`crate::memory`] only wait.
const NO_PANIC: &str = "an idle task panicked";

/// An async runtime as the scheduler workloads use it.
///
/// `go` spawns from inside the runtime (a task, or the future of
/// [`Executor::block_on`]); [`Executor::spawn`] from any thread. The
/// futures both return resolve to the task's output; dropping them
/// detaches the task, which keeps running.
pub trait Executor: Sized + 'static {
    /// The sender of the oneshot-like channel `ping_pong` uses.
    type OnceTx: Send + 'static;
    /// The receiver of that channel.
    type OnceRx: Send + 'static;
    /// The runtime's own join handle of a task without output, which can
    /// cancel the task.
    type Handle: Send + 'static;

    /// Starts a runtime with [`PROCS`] workers.
    fn start() -> Self {
        Self::start_with(PROCS)
    }

    /// Starts a runtime with `procs` workers (the scaling tables).
    fn start_with(procs: usize) -> Self;

    /// Runs `future` to completion on the calling thread, inside the
    /// runtime (so [`Executor::go`] works in it).
    fn block_on<F: Future>(&self, future: F) -> F::Output;

    /// Spawns `future` from outside the runtime's workers.
    fn spawn<F>(&self, future: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Spawns `future` from outside the runtime's workers, as
    /// [`Executor::spawn`] does, and returns the runtime's own join handle
    /// (dropping it detaches the task).
    fn spawn_handle<F>(&self, future: F) -> Self::Handle
    where
        F: Future<Output = ()> + Send + 'static;

    /// Cancels the task of `handle` (the runtime's `JoinHandle::abort`).
    fn abort(handle: &Self::Handle);

    /// Waits for the task of `handle` to end: `true` if it was cancelled,
    /// `false` if it finished.
    ///
    /// # Panics
    /// If the task panicked.
    fn cancelled(handle: Self::Handle) -> impl Future<Output = bool> + Send;

    /// Spawns `future` from inside the runtime (Go's `go` statement).
    fn go<F>(future: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Lets the other tasks run before the calling one goes on.
    fn yield_now() -> impl Future<Output = ()> + Send;

    /// A channel that carries one message.
    fn once_channel() -> (Self::OnceTx, Self::OnceRx);

    /// Sends the one message.
    fn send_once(tx: Self::OnceTx) -> impl Future<Output = ()> + Send;

    /// Waits for the one message.
    fn recv_once(rx: Self::OnceRx) -> impl Future<Output = ()> + Send;
}

/// hoare-sched with [`PROCS`] Ps: work stealing (`FIFO = false`, the
/// default policy) or one global FIFO (`FIFO = true`).
#[derive(Debug)]
pub struct HoareSched<const FIFO: bool>(hoare_sched::Runtime);

/// hoare-sched with its default policy, work stealing: the `hoare` entry.
pub type Hoare = HoareSched<false>;

/// hoare-sched with `Policy::GlobalFifo`: the `hoare-fifo` baseline.
pub type HoareFifo = HoareSched<true>;

// hoare's oneshot-like channel is a `hoare_chan::bounded(1)`: hoare-chan
// has no oneshot, and at capacity 1 the one send never waits, as a
// oneshot's does not (capacity 0 would make it a rendezvous).
impl<const FIFO: bool> Executor for HoareSched<FIFO> {
    type OnceTx = hoare_chan::Sender<()>;
    type OnceRx = hoare_chan::Receiver<()>;
    type Handle = hoare_sched::JoinHandle<()>;

    fn start_with(procs: usize) -> Self {
        let policy = if FIFO {
            hoare_sched::Policy::GlobalFifo
        } else {
            hoare_sched::Policy::WorkStealing
        };
        HoareSched(
            hoare_sched::Runtime::builder()
                .procs(procs)
                .policy(policy)
                .build(),
        )
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }

    fn spawn<F>(&self, future: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = self.0.spawn(future);
        async move { handle.await.expect(JOINED) }
    }

    fn spawn_handle<F>(&self, future: F) -> Self::Handle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.0.spawn(future)
    }

    fn abort(handle: &Self::Handle) {
        handle.abort();
    }

    async fn cancelled(handle: Self::Handle) -> bool {
        match handle.await {
            Ok(()) => false,
            Err(e) => {
                assert!(e.is_cancelled(), "{NO_PANIC}");
                true
            }
        }
    }

    fn go<F>(future: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = hoare_sched::go(future);
        async move { handle.await.expect(JOINED) }
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        hoare_sched::yield_now()
    }

    fn once_channel() -> (Self::OnceTx, Self::OnceRx) {
        hoare_chan::bounded(1)
    }

    async fn send_once(tx: Self::OnceTx) {
        tx.send_async(())
            .await
            .expect("the receiver waits for the message");
    }

    async fn recv_once(rx: Self::OnceRx) {
        rx.recv_async()
            .await
            .expect("the sender sends before it is dropped");
    }
}

/// tokio's multi-thread runtime with [`PROCS`] worker threads.
#[derive(Debug)]
pub struct Tokio(tokio::runtime::Runtime);

// tokio's oneshot-like channel is `tokio::sync::oneshot`, as in tokio's
// own `rt_multi_threaded` benchmark: its fastest one-message channel.
impl Executor for Tokio {
    type OnceTx = tokio::sync::oneshot::Sender<()>;
    type OnceRx = tokio::sync::oneshot::Receiver<()>;
    type Handle = tokio::task::JoinHandle<()>;

    fn start_with(procs: usize) -> Self {
        Tokio(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(procs)
                .build()
                .expect("build a multi-thread tokio runtime"),
        )
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }

    fn spawn<F>(&self, future: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = self.0.spawn(future);
        async move { handle.await.expect(JOINED) }
    }

    fn spawn_handle<F>(&self, future: F) -> Self::Handle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.0.spawn(future)
    }

    fn abort(handle: &Self::Handle) {
        handle.abort();
    }

    async fn cancelled(handle: Self::Handle) -> bool {
        match handle.await {
            Ok(()) => false,
            Err(e) => {
                assert!(e.is_cancelled(), "{NO_PANIC}");
                true
            }
        }
    }

    fn go<F>(future: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = tokio::spawn(future);
        async move { handle.await.expect(JOINED) }
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }

    fn once_channel() -> (Self::OnceTx, Self::OnceRx) {
        tokio::sync::oneshot::channel()
    }

    async fn send_once(tx: Self::OnceTx) {
        tx.send(()).expect("the receiver waits for the message");
    }

    async fn recv_once(rx: Self::OnceRx) {
        rx.await.expect("the sender sends before it is dropped");
    }
}
