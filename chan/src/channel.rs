//! The public handles, `Sender` and `Receiver`, and the constructors.
//!
//! Each handle holds an enum over the flavors (`flavors/`), and this file is
//! the one place that dispatches to them: static dispatch, no trait object
//! on the hot path.

use core::fmt;
use core::time::Duration;

use crate::counter::{self, Handle};
use crate::err::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};
use crate::flavors::{
    array::Array, at::At, discard_all, list::List, never, tick::Tick, zero::Zero,
};
use crate::primitives::{Arc, Instant};
use crate::select::{RecvFuture, RecvParts, SendFuture, SendParts};
use core::task::{Context, Poll};

/// Creates a channel of capacity `cap`: Go's `make(chan T, cap)`.
///
/// With `cap == 0` the channel is unbuffered: a `send` returns only once a
/// receiver has taken the value (a rendezvous). Otherwise up to `cap`
/// values wait in the channel and `send` blocks only while it is full.
///
/// ```
/// let (tx, rx) = hoare_chan::bounded(1);
/// tx.send(1).unwrap();          // fits in the buffer
/// assert!(tx.try_send(2).is_err()); // full
/// assert_eq!(rx.recv(), Ok(1));
/// ```
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    if cap == 0 {
        let (s, r) = counter::new(Zero::new());
        (
            Sender::from_flavor(SenderFlavor::Zero(s)),
            Receiver::from_flavor(ReceiverFlavor::Zero(r)),
        )
    } else {
        let (s, r) = counter::new(Array::with_capacity(cap));
        (
            Sender::from_flavor(SenderFlavor::Array(s)),
            Receiver::from_flavor(ReceiverFlavor::Array(r)),
        )
    }
}

/// Creates a channel without a capacity limit: `send` never blocks.
///
/// ```
/// let (tx, rx) = hoare_chan::unbounded();
/// for i in 0..1000 {
///     tx.send(i).unwrap();
/// }
/// assert_eq!(rx.len(), 1000);
/// ```
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    let (s, r) = counter::new(List::new());
    (
        Sender::from_flavor(SenderFlavor::List(s)),
        Receiver::from_flavor(ReceiverFlavor::List(r)),
    )
}

/// A channel that delivers the current instant once, after `d` (Go's
/// `time.After`). It is never closed; after its one value it stays empty.
///
/// ```
/// use std::time::Duration;
/// let timeout = hoare_chan::after(Duration::from_millis(10));
/// let fired = timeout.recv().unwrap();
/// assert!(timeout.try_recv().is_err());
/// # let _ = fired;
/// ```
pub fn after(d: Duration) -> Receiver<Instant> {
    let due = Instant::now().checked_add(d);
    Receiver::from_flavor(match due {
        Some(due) => ReceiverFlavor::At(Arc::new(At::new(due)), core::convert::identity),
        None => ReceiverFlavor::Never,
    })
}

/// A channel that delivers the current instant every `period` (Go's
/// `time.Tick`). Ticks nobody receives are dropped, not queued. It is never
/// closed.
///
/// # Panics
/// If `period` is zero (as Go's `time.NewTicker`).
///
/// ```
/// use std::time::Duration;
/// let ticker = hoare_chan::tick(Duration::from_millis(5));
/// ticker.recv().unwrap();
/// ticker.recv().unwrap();
/// ```
pub fn tick(period: Duration) -> Receiver<Instant> {
    assert!(!period.is_zero(), "tick: the period must be above zero");
    Receiver::from_flavor(ReceiverFlavor::Tick(
        Arc::new(Tick::new(period)),
        core::convert::identity,
    ))
}

/// A channel that never delivers and never closes: Go's `nil` channel,
/// useful to switch off a `select!` case.
///
/// ```
/// use std::time::Duration;
/// let rx = hoare_chan::never::<i32>();
/// assert!(rx.recv_timeout(Duration::from_millis(1)).is_err());
/// ```
pub fn never<T>() -> Receiver<T> {
    Receiver::from_flavor(ReceiverFlavor::Never)
}

pub(crate) enum SenderFlavor<T> {
    Array(Handle<Array<T>>),
    List(Handle<List<T>>),
    Zero(Handle<Zero<T>>),
}

pub(crate) enum ReceiverFlavor<T> {
    Array(Handle<Array<T>>),
    List(Handle<List<T>>),
    Zero(Handle<Zero<T>>),
    /// `after`: the function turns the instant into `T` (it is the identity;
    /// `T` is `Instant` for every receiver of this flavor).
    At(Arc<At>, fn(Instant) -> T),
    /// `tick`: as `At`.
    Tick(Arc<Tick>, fn(Instant) -> T),
    Never,
}

/// The sending half of a channel: Go's `chan<- T`.
///
/// Clone it for more producers. The channel closes when [`Sender::close`]
/// is called or the last `Sender` is dropped.
pub struct Sender<T> {
    pub(crate) flavor: SenderFlavor<T>,
    /// The `Sink` implementation's queued value, if it is used.
    sink: SinkSlot<T>,
}

/// The `Sink` state of a [`Sender`]: reachable only through `&mut`
/// ([`SinkSlot::get_mut`]), so a shared `&Sender` gives no access to the
/// value it may hold, and the sender may be `Sync` when `T` is only
/// `Send` (a `Cell`, a `RefCell`), as std's and crossbeam's are. Without it, a `T` that is not
/// `Sync` would make `Sender<T>` not `Sync` and `send_async`'s future,
/// which holds a `&Sender`, not `Send`.
struct SinkSlot<T>(Option<Box<SendParts<T>>>);

impl<T> SinkSlot<T> {
    fn get_mut(&mut self) -> &mut Option<Box<SendParts<T>>> {
        &mut self.0
    }
}

// SAFETY: `&SinkSlot` exposes nothing (its only accessor takes `&mut
// self`), so sharing one between threads shares no `T`; a `T` moves
// between threads only with the slot itself, which requires `T: Send`
// (the auto `Send`).
unsafe impl<T: Send> Sync for SinkSlot<T> {}

/// The receiving half of a channel: Go's `<-chan T`.
///
/// Clone it for more consumers; each value goes to exactly one of them.
pub struct Receiver<T> {
    pub(crate) flavor: ReceiverFlavor<T>,
    /// [`Receiver::poll_recv`]'s pending receive, if it is used.
    pending: Option<Box<RecvParts>>,
}

impl<T> Sender<T> {
    fn from_flavor(flavor: SenderFlavor<T>) -> Self {
        Sender {
            flavor,
            sink: SinkSlot(None),
        }
    }

    /// The `Sink` state, created on first use.
    pub(crate) fn sink_parts(&mut self) -> &mut SendParts<T> {
        self.sink
            .get_mut()
            .get_or_insert_with(|| Box::new(SendParts::new()))
    }

    /// Drives the value queued by the `Sink` implementation.
    pub(crate) fn poll_sink(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), SendError<T>>> {
        match self.sink.get_mut().take() {
            None => Poll::Ready(Ok(())),
            Some(mut parts) => {
                let r = parts.poll(self, cx);
                *self.sink.get_mut() = Some(parts);
                r
            }
        }
    }
}

impl<T> Receiver<T> {
    fn from_flavor(flavor: ReceiverFlavor<T>) -> Self {
        Receiver {
            flavor,
            pending: None,
        }
    }

    /// Polls for the next value, for hand-written futures and streams:
    /// `Ready(Some(v))` for a value, `Ready(None)` once the channel is
    /// closed and drained, `Pending` (with the task's waker registered)
    /// otherwise. A pending receive is withdrawn when the receiver is
    /// dropped; nothing is lost.
    ///
    /// After `Pending` the receiver stays registered until it is polled
    /// again or dropped, and takes its turn for wake-ups like any pending
    /// receive: a send may wake this task rather than another receiver of
    /// the channel. So keep polling a stream you started (as any `Stream`
    /// consumer does), or drop the receiver; for a one-off receive that
    /// may be abandoned, use [`Receiver::recv_async`], whose future
    /// withdraws itself when dropped.
    ///
    /// ```
    /// use std::future::poll_fn;
    /// # futures::executor::block_on(async {
    /// let (tx, mut rx) = hoare_chan::unbounded();
    /// tx.send(3).unwrap();
    /// assert_eq!(poll_fn(|cx| rx.poll_recv(cx)).await, Some(3));
    /// # });
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut parts = self
            .pending
            .take()
            .unwrap_or_else(|| Box::new(RecvParts::new()));
        let r = parts.poll(self, cx);
        self.pending = Some(parts);
        r.map(Result::ok)
    }
}

fn deadline_after(d: Duration) -> Option<Instant> {
    // An overflowing deadline is no deadline: wait forever.
    Instant::now().checked_add(d)
}

impl<T> Sender<T> {
    /// Sends `value`, blocking while the channel is full (or, unbuffered,
    /// until a receiver takes it). Fails, giving the value back, if the
    /// channel is closed.
    ///
    /// ```
    /// let (tx, rx) = hoare_chan::bounded(0);
    /// let t = std::thread::spawn(move || tx.send("hi").unwrap());
    /// assert_eq!(rx.recv(), Ok("hi"));
    /// t.join().unwrap();
    /// ```
    #[inline]
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        // The common case inline; everything else, including a retry of
        // that attempt, goes through `send_until`.
        let value = match self.send_quick(value) {
            Ok(()) => return Ok(()),
            Err(v) => v,
        };
        self.send_until(value, None).map_err(|e| match e {
            SendTimeoutError::Closed(v) => SendError(v),
            SendTimeoutError::Timeout(_) => unreachable!("no deadline"),
        })
    }

    /// Sends without blocking: fails with `Full` if the value cannot be
    /// placed now. On an unbuffered channel that means no receiver is
    /// waiting: in a blocking receive, a pending `recv_async` or a
    /// `select!` receive case (a `Stream` is woken instead, and would take
    /// the value only from a waiting sender).
    #[inline]
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match &self.flavor {
            SenderFlavor::Array(c) => c.try_send(value),
            SenderFlavor::List(c) => c.try_send(value),
            SenderFlavor::Zero(c) => c.try_send(value, None),
        }
    }

    /// One attempt at the common case of a send, small enough to inline
    /// into `send` and the first poll of a `send_async` future: room in a
    /// buffered channel that no waiting receiver is owed (the flavor's own
    /// first step, `Array::send_inline`), or a slot inside the unbounded
    /// channel's current block. `Err` gives the value back for the full
    /// path, which tries again from the start.
    #[inline]
    pub(crate) fn send_quick(&self, value: T) -> Result<(), T> {
        match &self.flavor {
            SenderFlavor::Array(c) => c.send_inline(value),
            SenderFlavor::List(c) => c.send_fast(value),
            SenderFlavor::Zero(_) => Err(value),
        }
    }

    /// As [`Sender::send`], giving up after `timeout`.
    pub fn send_timeout(&self, value: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        self.send_until(value, deadline_after(timeout))
    }

    /// As [`Sender::send`], giving up at `deadline`.
    pub fn send_deadline(&self, value: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
        self.send_until(value, Some(deadline))
    }

    // Out of line: `send` inlines only its fast path.
    #[inline(never)]
    fn send_until(&self, value: T, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        match &self.flavor {
            SenderFlavor::Array(c) => c.send(value, deadline),
            SenderFlavor::List(c) => c.try_send(value).map_err(|e| match e {
                TrySendError::Closed(v) | TrySendError::Full(v) => SendTimeoutError::Closed(v),
            }),
            SenderFlavor::Zero(c) => c.send(value, deadline),
        }
    }

    /// Sends asynchronously; the future completes as [`Sender::send`]
    /// returns. Dropping it before completion sends nothing (a value
    /// already taken by a receiver stays delivered; nothing is ever half
    /// sent).
    ///
    /// While the future waits on a full buffered channel, a receive that
    /// makes room moves its value into the channel, as Go hands a blocked
    /// sender's value over: the send is then complete, even if the future
    /// is dropped before it is polled again.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, rx) = hoare_chan::bounded(1);
    /// tx.send_async(7).await.unwrap();
    /// assert_eq!(rx.recv_async().await, Ok(7));
    /// # });
    /// ```
    pub fn send_async(&self, value: T) -> SendFuture<'_, T> {
        SendFuture::new(self, value)
    }

    /// Closes the channel (Go's `close(ch)`): later sends fail, receivers
    /// drain what is buffered and then see the channel closed. Returns
    /// `false` if it was already closed; never panics.
    pub fn close(&self) -> bool {
        match &self.flavor {
            SenderFlavor::Array(c) => c.close(),
            SenderFlavor::List(c) => c.close(),
            SenderFlavor::Zero(c) => c.close(),
        }
    }

    /// Whether the channel is closed.
    pub fn is_closed(&self) -> bool {
        match &self.flavor {
            SenderFlavor::Array(c) => c.is_closed(),
            SenderFlavor::List(c) => c.is_closed(),
            SenderFlavor::Zero(c) => c.is_closed(),
        }
    }

    /// Values waiting in the channel.
    pub fn len(&self) -> usize {
        match &self.flavor {
            SenderFlavor::Array(c) => c.len(),
            SenderFlavor::List(c) => c.len(),
            SenderFlavor::Zero(c) => c.len(),
        }
    }

    /// Whether no value is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a send would block now for lack of room (always `true`
    /// when unbuffered, never when unbounded).
    pub fn is_full(&self) -> bool {
        match &self.flavor {
            SenderFlavor::Array(c) => c.len() >= c.capacity(),
            SenderFlavor::List(_) => false,
            SenderFlavor::Zero(_) => true,
        }
    }

    /// The capacity: `Some(0)` unbuffered, `None` unbounded.
    pub fn capacity(&self) -> Option<usize> {
        match &self.flavor {
            SenderFlavor::Array(c) => Some(c.capacity()),
            SenderFlavor::List(_) => None,
            SenderFlavor::Zero(_) => Some(0),
        }
    }

    /// Whether both senders belong to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        match (&self.flavor, &other.flavor) {
            (SenderFlavor::Array(a), SenderFlavor::Array(b)) => a.same(b),
            (SenderFlavor::List(a), SenderFlavor::List(b)) => a.same(b),
            (SenderFlavor::Zero(a), SenderFlavor::Zero(b)) => a.same(b),
            _ => false,
        }
    }
}

impl<T> Receiver<T> {
    /// Receives a value, blocking until one arrives. Fails once the channel
    /// is closed and every buffered value has been received.
    ///
    /// ```
    /// let (tx, rx) = hoare_chan::bounded(2);
    /// tx.send(1).unwrap();
    /// drop(tx); // closes
    /// assert_eq!(rx.recv(), Ok(1));
    /// assert!(rx.recv().is_err());
    /// ```
    #[inline]
    pub fn recv(&self) -> Result<T, RecvError> {
        // The common case inline, as in `Sender::send`.
        if let Some(v) = self.recv_quick() {
            return Ok(v);
        }
        self.recv_until(None).map_err(|_| RecvError)
    }

    /// Receives without blocking.
    #[inline]
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        match &self.flavor {
            ReceiverFlavor::Array(c) => c.try_recv(),
            ReceiverFlavor::List(c) => c.try_recv(),
            ReceiverFlavor::Zero(c) => c.try_recv(None),
            ReceiverFlavor::At(c, f) => c.try_recv().map(f),
            ReceiverFlavor::Tick(c, f) => c.try_recv().map(f),
            ReceiverFlavor::Never => Err(TryRecvError::Empty),
        }
    }

    /// One attempt at the common case of a receive, as
    /// [`Sender::send_quick`]: a value ready in a buffered or unbounded
    /// channel. `None` sends the caller to the full path.
    #[inline]
    pub(crate) fn recv_quick(&self) -> Option<T> {
        match &self.flavor {
            ReceiverFlavor::Array(c) => c.recv_fast(),
            ReceiverFlavor::List(c) => c.recv_fast(),
            _ => None,
        }
    }

    /// As [`Receiver::recv`], giving up after `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.recv_until(deadline_after(timeout))
    }

    /// As [`Receiver::recv`], giving up at `deadline`.
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.recv_until(Some(deadline))
    }

    // Out of line: `recv` inlines only its fast path.
    #[inline(never)]
    fn recv_until(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        match &self.flavor {
            ReceiverFlavor::Array(c) => c.recv(deadline),
            ReceiverFlavor::List(c) => c.recv(deadline),
            ReceiverFlavor::Zero(c) => c.recv(deadline),
            ReceiverFlavor::At(c, f) => c.recv(deadline).map(f),
            ReceiverFlavor::Tick(c, f) => c.recv(deadline).map(f),
            ReceiverFlavor::Never => Err(never::recv(deadline)),
        }
    }

    /// Receives asynchronously. Dropping the future before it completes
    /// loses no value: while it waits, a sender may hand it a value
    /// directly (as to a blocked thread), and a future dropped before it
    /// returned that value gives it back to the channel, where the next
    /// receive gets it before anything else.
    ///
    /// ```
    /// use std::task::{Context, Waker};
    ///
    /// let (tx, rx) = hoare_chan::bounded(0);
    /// let mut fut = Box::pin(rx.recv_async());
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(fut.as_mut().poll(&mut cx).is_pending());
    /// tx.try_send(1).unwrap(); // handed to the waiting future
    /// drop(fut); // ... which gives it back
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn recv_async(&self) -> RecvFuture<'_, T> {
        RecvFuture::new(self)
    }

    /// A blocking iterator over received values; ends when the channel is
    /// closed and drained (Go's `for v := range ch`).
    ///
    /// ```
    /// let (tx, rx) = hoare_chan::unbounded();
    /// std::thread::spawn(move || (0..3).for_each(|i| tx.send(i).unwrap()));
    /// assert_eq!(rx.iter().collect::<Vec<_>>(), [0, 1, 2]);
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// An iterator over the values available now, without blocking.
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }

    /// Whether the channel is closed (values may still be buffered).
    pub fn is_closed(&self) -> bool {
        match &self.flavor {
            ReceiverFlavor::Array(c) => c.is_closed(),
            ReceiverFlavor::List(c) => c.is_closed(),
            ReceiverFlavor::Zero(c) => c.is_closed(),
            _ => false,
        }
    }

    /// Values waiting in the channel.
    pub fn len(&self) -> usize {
        match &self.flavor {
            ReceiverFlavor::Array(c) => c.len(),
            ReceiverFlavor::List(c) => c.len(),
            ReceiverFlavor::At(c, _) => c.len(),
            ReceiverFlavor::Tick(c, _) => c.len(),
            ReceiverFlavor::Zero(c) => c.len(),
            ReceiverFlavor::Never => 0,
        }
    }

    /// Whether no value is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the buffer is full (always `true` when unbuffered, never
    /// when unbounded).
    pub fn is_full(&self) -> bool {
        match &self.flavor {
            ReceiverFlavor::Array(c) => c.len() >= c.capacity(),
            ReceiverFlavor::Zero(_) | ReceiverFlavor::Never => true,
            ReceiverFlavor::At(..) | ReceiverFlavor::Tick(..) => self.len() == 1,
            ReceiverFlavor::List(_) => false,
        }
    }

    /// The capacity: `Some(0)` unbuffered, `None` unbounded, `Some(1)` for
    /// the timer channels and `Some(0)` for `never()`.
    pub fn capacity(&self) -> Option<usize> {
        match &self.flavor {
            ReceiverFlavor::Array(c) => Some(c.capacity()),
            ReceiverFlavor::List(_) => None,
            ReceiverFlavor::Zero(_) | ReceiverFlavor::Never => Some(0),
            ReceiverFlavor::At(..) | ReceiverFlavor::Tick(..) => Some(1),
        }
    }

    /// Whether both receivers belong to the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        match (&self.flavor, &other.flavor) {
            (ReceiverFlavor::Array(a), ReceiverFlavor::Array(b)) => a.same(b),
            (ReceiverFlavor::List(a), ReceiverFlavor::List(b)) => a.same(b),
            (ReceiverFlavor::Zero(a), ReceiverFlavor::Zero(b)) => a.same(b),
            (ReceiverFlavor::At(a, _), ReceiverFlavor::At(b, _)) => Arc::ptr_eq(a, b),
            (ReceiverFlavor::Tick(a, _), ReceiverFlavor::Tick(b, _)) => Arc::ptr_eq(a, b),
            (ReceiverFlavor::Never, ReceiverFlavor::Never) => true,
            _ => false,
        }
    }

    /// The channel's identity, for `Select` to match a receiver to its case.
    pub(crate) fn addr(&self) -> usize {
        match &self.flavor {
            ReceiverFlavor::Array(c) => c.addr(),
            ReceiverFlavor::List(c) => c.addr(),
            ReceiverFlavor::Zero(c) => c.addr(),
            ReceiverFlavor::At(a, _) => Arc::as_ptr(a) as usize,
            ReceiverFlavor::Tick(a, _) => Arc::as_ptr(a) as usize,
            ReceiverFlavor::Never => 0,
        }
    }
}

impl<T> Sender<T> {
    /// The channel's identity, for `Select` to match a sender to its case.
    pub(crate) fn addr(&self) -> usize {
        match &self.flavor {
            SenderFlavor::Array(c) => c.addr(),
            SenderFlavor::List(c) => c.addr(),
            SenderFlavor::Zero(c) => c.addr(),
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender::from_flavor(match &self.flavor {
            SenderFlavor::Array(c) => SenderFlavor::Array(c.acquire_sender()),
            SenderFlavor::List(c) => SenderFlavor::List(c.acquire_sender()),
            SenderFlavor::Zero(c) => SenderFlavor::Zero(c.acquire_sender()),
        })
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        Receiver::from_flavor(match &self.flavor {
            ReceiverFlavor::Array(c) => ReceiverFlavor::Array(c.acquire_receiver()),
            ReceiverFlavor::List(c) => ReceiverFlavor::List(c.acquire_receiver()),
            ReceiverFlavor::Zero(c) => ReceiverFlavor::Zero(c.acquire_receiver()),
            ReceiverFlavor::At(c, f) => ReceiverFlavor::At(c.clone(), *f),
            ReceiverFlavor::Tick(c, f) => ReceiverFlavor::Tick(c.clone(), *f),
            ReceiverFlavor::Never => ReceiverFlavor::Never,
        })
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(mut parts) = self.sink.get_mut().take() {
            parts.cancel(self);
        }
        // SAFETY: each is a sender handle, released once, here.
        unsafe {
            match &self.flavor {
                SenderFlavor::Array(c) => c.release_sender(|c| {
                    c.close();
                }),
                SenderFlavor::List(c) => c.release_sender(|c| {
                    c.close();
                }),
                SenderFlavor::Zero(c) => c.release_sender(|c| {
                    c.close();
                }),
            }
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if let Some(mut parts) = self.pending.take() {
            parts.cancel(self);
        }
        // SAFETY: each is a receiver handle, released once, here.
        unsafe {
            match &self.flavor {
                ReceiverFlavor::Array(c) => c.release_receiver(|c| {
                    c.close();
                    discard_all(|| c.try_recv());
                }),
                ReceiverFlavor::List(c) => c.release_receiver(|c| {
                    c.close();
                    discard_all(|| c.try_recv());
                }),
                ReceiverFlavor::Zero(c) => c.release_receiver(|c| {
                    c.close();
                }),
                _ => {}
            }
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Blocking iterator returned by [`Receiver::iter`].
#[derive(Debug)]
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

/// Non-blocking iterator returned by [`Receiver::try_iter`].
#[derive(Debug)]
pub struct TryIter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

/// Owning blocking iterator (`for v in rx`).
#[derive(Debug)]
pub struct IntoIter<T> {
    rx: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}
