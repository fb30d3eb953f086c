//! One small interface over every channel the channel workloads drive.
//!
//! The workloads in [`crate::chan_workloads`] are written once, generic over
//! these traits, and instantiated per implementation; every method is a
//! direct, inlinable call to the library's own blocking or async operation,
//! so a workload costs exactly what the library's user code would. The
//! adapters add nothing but an `expect` on errors that cannot happen while
//! the workload holds both ends.
//!
//! | trait | what | implemented by |
//! |---|---|---|
//! | [`Tx`], [`Rx`] | blocking `send` / `recv` | hoare, std, crossbeam, flume, kanal |
//! | [`SelectRx`] | one `select` receiving from four channels | hoare, crossbeam (`select!`), flume (`Selector`) |
//! | [`SelectTx`] | one `select` sending on four channels | hoare, crossbeam (`select!`) |
//! | [`AsyncTx`], [`AsyncRx`] | `send(..).await` / `recv().await` | hoare, tokio, flume, kanal |
//!
//! std is absent from the select traits (it has no select) and kanal too
//! (kanal has no select); flume from [`SelectTx`], because the only
//! workload that selects on send hangs with flume's `Selector` (see
//! `select_both` in [`crate::chan_workloads`]); std's `Receiver` is `!Sync`, so the
//! multi-consumer workloads, which share one receiver between threads,
//! reject it at compile time.

use std::future::Future;
use std::sync::mpsc;

/// Why an operation cannot fail in a workload: it keeps both ends alive.
const ALIVE: &str = "the workload keeps both ends of the channel alive";

/// Channels per `select` in the select workloads (crossbeam's `THREADS`).
pub const SELECT_WIDTH: usize = 4;

/// The sending half of a channel, used from several threads at once.
pub trait Tx: Clone + Send + Sync {
    /// Blocking send.
    fn put(&self, v: u64);
}

/// The receiving half of a channel.
pub trait Rx: Send {
    /// Blocking receive.
    fn take(&self) -> u64;
}

/// A sender that can wait on [`SELECT_WIDTH`] channels at once.
pub trait SelectTx: Tx + Sized {
    /// Sends `v` on whichever of `txs` is ready first.
    fn put_any(txs: &[Self; SELECT_WIDTH], v: u64);
}

/// A receiver that can wait on [`SELECT_WIDTH`] channels at once.
pub trait SelectRx: Rx + Sized {
    /// Receives from whichever of `rxs` is ready first.
    fn take_any(rxs: &[Self; SELECT_WIDTH]) -> u64;
}

/// The sending half of an async channel, cloned into producer tasks.
pub trait AsyncTx: Clone + Send + Sync + 'static {
    /// `send(v).await`.
    fn put_async(&self, v: u64) -> impl Future<Output = ()> + Send;
}

/// The receiving half of an async channel, owned by the consumer task.
pub trait AsyncRx: Send + 'static {
    /// `recv().await`. `&mut self` because tokio's receiver needs it.
    fn take_async(&mut self) -> impl Future<Output = u64> + Send;
}

// ---------------------------------------------------------------------------
// hoare-chan: one handle type for every flavor, blocking and async.

impl Tx for hoare_chan::Sender<u64> {
    #[inline]
    fn put(&self, v: u64) {
        self.send(v).expect(ALIVE);
    }
}

impl Rx for hoare_chan::Receiver<u64> {
    #[inline]
    fn take(&self) -> u64 {
        self.recv().expect(ALIVE)
    }
}

impl SelectTx for hoare_chan::Sender<u64> {
    #[inline]
    fn put_any(txs: &[Self; SELECT_WIDTH], v: u64) {
        hoare_chan::select! {
            send(txs[0], v) -> r => r,
            send(txs[1], v) -> r => r,
            send(txs[2], v) -> r => r,
            send(txs[3], v) -> r => r,
        }
        .expect(ALIVE);
    }
}

impl SelectRx for hoare_chan::Receiver<u64> {
    #[inline]
    fn take_any(rxs: &[Self; SELECT_WIDTH]) -> u64 {
        hoare_chan::select! {
            recv(rxs[0]) -> v => v,
            recv(rxs[1]) -> v => v,
            recv(rxs[2]) -> v => v,
            recv(rxs[3]) -> v => v,
        }
        .expect(ALIVE)
    }
}

impl AsyncTx for hoare_chan::Sender<u64> {
    #[inline]
    async fn put_async(&self, v: u64) {
        self.send_async(v).await.expect(ALIVE);
    }
}

impl AsyncRx for hoare_chan::Receiver<u64> {
    #[inline]
    async fn take_async(&mut self) -> u64 {
        self.recv_async().await.expect(ALIVE)
    }
}

// ---------------------------------------------------------------------------
// std::sync::mpsc: `sync_channel` for the bounded flavors, `channel` for
// the unbounded one; two sender types, both `Sync` since Rust 1.72.

impl Tx for mpsc::SyncSender<u64> {
    #[inline]
    fn put(&self, v: u64) {
        self.send(v).expect(ALIVE);
    }
}

impl Tx for mpsc::Sender<u64> {
    #[inline]
    fn put(&self, v: u64) {
        self.send(v).expect(ALIVE);
    }
}

impl Rx for mpsc::Receiver<u64> {
    #[inline]
    fn take(&self) -> u64 {
        self.recv().expect(ALIVE)
    }
}

// ---------------------------------------------------------------------------
// crossbeam-channel: the `select!` macro rather than the dynamic `Select`
// its own suite uses, because the macro is crossbeam's fastest form (no
// heap-allocated case list) and the one hoare's select is held against.

impl Tx for crossbeam_channel::Sender<u64> {
    #[inline]
    fn put(&self, v: u64) {
        self.send(v).expect(ALIVE);
    }
}

impl Rx for crossbeam_channel::Receiver<u64> {
    #[inline]
    fn take(&self) -> u64 {
        self.recv().expect(ALIVE)
    }
}

impl SelectTx for crossbeam_channel::Sender<u64> {
    #[inline]
    fn put_any(txs: &[Self; SELECT_WIDTH], v: u64) {
        crossbeam_channel::select! {
            send(txs[0], v) -> r => r,
            send(txs[1], v) -> r => r,
            send(txs[2], v) -> r => r,
            send(txs[3], v) -> r => r,
        }
        .expect(ALIVE);
    }
}

impl SelectRx for crossbeam_channel::Receiver<u64> {
    #[inline]
    fn take_any(rxs: &[Self; SELECT_WIDTH]) -> u64 {
        crossbeam_channel::select! {
            recv(rxs[0]) -> v => v,
            recv(rxs[1]) -> v => v,
            recv(rxs[2]) -> v => v,
            recv(rxs[3]) -> v => v,
        }
        .expect(ALIVE)
    }
}

// ---------------------------------------------------------------------------
// flume: blocking, async and `Selector` (receive side) on the same handles.

impl Tx for flume::Sender<u64> {
    #[inline]
    fn put(&self, v: u64) {
        self.send(v).expect(ALIVE);
    }
}

impl Rx for flume::Receiver<u64> {
    #[inline]
    fn take(&self) -> u64 {
        self.recv().expect(ALIVE)
    }
}

impl SelectRx for flume::Receiver<u64> {
    #[inline]
    fn take_any(rxs: &[Self; SELECT_WIDTH]) -> u64 {
        flume::Selector::new()
            .recv(&rxs[0], |v| v)
            .recv(&rxs[1], |v| v)
            .recv(&rxs[2], |v| v)
            .recv(&rxs[3], |v| v)
            .wait()
            .expect(ALIVE)
    }
}

impl AsyncTx for flume::Sender<u64> {
    #[inline]
    async fn put_async(&self, v: u64) {
        self.send_async(v).await.expect(ALIVE);
    }
}

impl AsyncRx for flume::Receiver<u64> {
    #[inline]
    async fn take_async(&mut self) -> u64 {
        self.recv_async().await.expect(ALIVE)
    }
}

// ---------------------------------------------------------------------------
// kanal: separate sync (`bounded`) and async (`bounded_async`) handle types.

impl Tx for kanal::Sender<u64> {
    #[inline]
    fn put(&self, v: u64) {
        self.send(v).expect(ALIVE);
    }
}

impl Rx for kanal::Receiver<u64> {
    #[inline]
    fn take(&self) -> u64 {
        self.recv().expect(ALIVE)
    }
}

impl AsyncTx for kanal::AsyncSender<u64> {
    #[inline]
    async fn put_async(&self, v: u64) {
        self.send(v).await.expect(ALIVE);
    }
}

impl AsyncRx for kanal::AsyncReceiver<u64> {
    #[inline]
    async fn take_async(&mut self) -> u64 {
        self.recv().await.expect(ALIVE)
    }
}

// ---------------------------------------------------------------------------
// tokio::sync::mpsc: async only; the unbounded sender's `send` never waits.

impl AsyncTx for tokio::sync::mpsc::Sender<u64> {
    #[inline]
    async fn put_async(&self, v: u64) {
        self.send(v).await.expect(ALIVE);
    }
}

impl AsyncTx for tokio::sync::mpsc::UnboundedSender<u64> {
    #[inline]
    async fn put_async(&self, v: u64) {
        self.send(v).expect(ALIVE);
    }
}

impl AsyncRx for tokio::sync::mpsc::Receiver<u64> {
    #[inline]
    async fn take_async(&mut self) -> u64 {
        self.recv().await.expect(ALIVE)
    }
}

impl AsyncRx for tokio::sync::mpsc::UnboundedReceiver<u64> {
    #[inline]
    async fn take_async(&mut self) -> u64 {
        self.recv().await.expect(ALIVE)
    }
}
