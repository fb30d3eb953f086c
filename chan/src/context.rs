//! Cancellation contexts: Go's `context` package, without `WithValue`.
//!
//! A [`Context`] says when work done on its behalf should stop. It is
//! cancelled by its [`Cancel`] handle, when its deadline passes, or when its
//! parent is cancelled; once cancelled, its [`done`](Context::done) channel
//! is closed, so a `recv(ctx.done())` case in [`select!`](crate::select)
//! fires, and [`err`](Context::err) says why.
//!
//! | Go                                   | hoare-chan                              |
//! |--------------------------------------|-----------------------------------------|
//! | `context.Background()`               | [`Context::background()`]               |
//! | `ctx, cancel := context.WithCancel(p)` | [`let (ctx, cancel) = p.with_cancel()`](Context::with_cancel) |
//! | `context.WithTimeout(p, d)`          | [`p.with_timeout(d)`](Context::with_timeout) |
//! | `context.WithDeadline(p, t)`         | [`p.with_deadline(t)`](Context::with_deadline) |
//! | `cancel()`                           | [`cancel.cancel()`](Cancel::cancel)      |
//! | `<-ctx.Done()`                       | [`ctx.done()`](Context::done), a `&Receiver<()>` |
//! | `ctx.Err()`                          | [`ctx.err()`](Context::err), an `Option<ContextError>` |
//! | `ctx.Deadline()`                     | [`ctx.deadline()`](Context::deadline)   |
//!
//! ```
//! use hoare_chan::context::{Context, ContextError};
//! use hoare_chan::{select, tick};
//! use std::{thread, time::Duration};
//!
//! let (ctx, cancel) = Context::background().with_cancel();
//! let worker = thread::spawn(move || {
//!     let ticks = tick(Duration::from_millis(1));
//!     let mut work = 0;
//!     loop {
//!         select! {
//!             recv(ctx.done()) -> _ => return (work, ctx.err()),
//!             recv(ticks) -> _ => work += 1,
//!         }
//!     }
//! });
//! thread::sleep(Duration::from_millis(5));
//! cancel.cancel();
//! let (_work, err) = worker.join().unwrap();
//! assert_eq!(err, Some(ContextError::Canceled));
//! ```
//!
//! # Decisions
//!
//! - Dropping a [`Cancel`] does not cancel (Go's `cancel` is a function
//!   that is simply never called). Call [`Cancel::cancel`] when the work is
//!   over, as Go's `defer cancel()` does: it also releases a pending
//!   timeout's timer at once instead of at the deadline.
//! - `done()` returns a reference, so that `recv(ctx.done())` works in
//!   `select!`; clone it for an owned `Receiver<()>`. The channel never
//!   carries a value: a receive on it returns `Err(RecvError)` once the
//!   context is cancelled and blocks until then. For
//!   [`Context::background()`] it is [`never()`](crate::never).
//! - The channel closes only by cancellation, never because handles were
//!   dropped: a thread that holds only a clone of `done()` waits as long as
//!   someone (a `Cancel`, a timer, an ancestor) may still cancel, and
//!   forever if nobody can, as in Go.
//! - Cancellation reaches a child's descendants on the cancelling thread
//!   (for a deadline: on the timer thread) before `cancel` returns, each
//!   with the error of the context that was cancelled.

// # Implementation
//
// Each cancellable context is one `Node` behind an `Arc`, shared by every
// clone of its `Context`, by its `Cancel`, by its parent's child list and by
// its pending timer. A node's mutable state sits behind one lock:
//
// | field      | meaning                                                  |
// |------------|----------------------------------------------------------|
// | `tx`       | the only `Sender` of the done channel (unbuffered, never |
// |            | sent on); `Some` until cancelled                         |
// | `err`      | `None` until cancelled; set in the same critical section |
// |            | that takes `tx`, so the first cancellation wins          |
// | `children` | strong references to the children to cancel with it      |
// | `timer`    | the timer-thread slot of its own deadline, if armed      |
//
// Invariants: `tx.is_none() == err.is_some()`; a cancelled node has no
// children and no timer. Locks are taken parent before child and never the
// other way; only pruning (`adopt` calling `observed`) holds more than one.
//
// Cancelling (`cancel`) is iterative: under the node's lock take `tx`, set
// `err`, take `children` and `timer`; release the lock; withdraw the timer
// and close the channel; then do the same for each child, with the same
// error. A node created under a cancelled parent is cancelled at birth.
//
// Keeping the done channel open as long as someone may cancel. The done
// channel closes when its `Sender` drops, so a node must not die while it
// can still be cancelled and somebody waits on its channel. Hence the
// strong references: from a `Cancel`, from the parent (which may cascade),
// from the armed timer (whose waker holds the node; the node-to-slot-to-
// waker cycle is broken when the timer fires or the node is cancelled). A
// node that dies uncancelled while receivers remain (nobody can cancel it
// any more) hands its `Sender` to the `ORPHANS` list, which releases it once
// the last receiver has gone: its channel then never closes, as in Go.
//
// Not leaking children. A long-lived parent must not keep every child it
// ever had. A child is worth keeping while its cancellation can still be
// seen: it is not cancelled, and either its channel has receivers (a
// `Context` clone or a `done()` clone; the channel reports itself closed
// when the last receiver drops) or some descendant is worth keeping
// (`observed`). The parent drops the others when its list reaches
// `prune_at`, which then becomes twice the survivors (at least
// `MIN_PRUNE`): the list never exceeds twice the children that were live
// at the last pruning (or `MIN_PRUNE`), and pruning costs O(1) amortized
// per child added, plus a walk below a dropped child that still has
// observed descendants (a dropped child is pruned as soon as it has none).

use core::fmt;
use core::time::Duration;
use std::sync::Arc;
use std::task::{Wake, Waker};
use std::time::Instant;

use hoare_sync::Mutex;

use crate::channel::{Receiver, Sender, bounded, never};
use crate::primitives::StdMutex;
use crate::timer::{self, Slot};

/// A list below this length is not pruned.
const MIN_PRUNE: usize = 8;

/// Why a context was cancelled (Go's `context.Canceled` and
/// `context.DeadlineExceeded`).
///
/// ```
/// use hoare_chan::context::ContextError;
/// assert_eq!(ContextError::Canceled.to_string(), "context canceled");
/// assert_eq!(
///     ContextError::DeadlineExceeded.to_string(),
///     "context deadline exceeded"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContextError {
    /// Cancelled by a [`Cancel`] (its own or an ancestor's).
    Canceled,
    /// Its deadline (its own or an ancestor's) passed.
    DeadlineExceeded,
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContextError::Canceled => "context canceled",
            ContextError::DeadlineExceeded => "context deadline exceeded",
        })
    }
}

impl std::error::Error for ContextError {}

/// A cancellation signal with an optional deadline, passed to work that
/// should stop when it fires (Go's `context.Context`).
///
/// Cloning is cheap, and every clone observes the same cancellation.
/// Derive children with [`with_cancel`](Context::with_cancel),
/// [`with_timeout`](Context::with_timeout) and
/// [`with_deadline`](Context::with_deadline); a child is cancelled with its
/// parent, never the other way round.
///
/// ```
/// use hoare_chan::context::{Context, ContextError};
///
/// let (parent, cancel_parent) = Context::background().with_cancel();
/// let (child, _cancel_child) = parent.with_cancel();
/// cancel_parent.cancel();
/// assert_eq!(child.err(), Some(ContextError::Canceled));
/// assert!(child.done().recv().is_err()); // closed: does not block
/// ```
#[derive(Clone)]
pub struct Context {
    /// `None` for `background()`, which can never be cancelled.
    node: Option<Arc<Node>>,
    /// The node's done channel, or `never()` for `background()`.
    done: Receiver<()>,
}

/// Cancels the [`Context`] it was created with, and all of that context's
/// descendants (Go's `context.CancelFunc`).
///
/// Dropping it does not cancel. Cancelling twice, or cancelling a context
/// that already timed out, does nothing: the first cancellation's error
/// stays.
///
/// ```
/// use hoare_chan::context::{Context, ContextError};
///
/// let (ctx, cancel) = Context::background().with_cancel();
/// let cancel2 = cancel.clone(); // e.g. for another thread
/// cancel.cancel();
/// cancel2.cancel(); // fine
/// assert_eq!(ctx.err(), Some(ContextError::Canceled));
/// ```
#[derive(Clone)]
pub struct Cancel {
    node: Arc<Node>,
}

struct Node {
    /// The earlier of the own deadline and the parent's.
    deadline: Option<Instant>,
    state: Mutex<State>,
}

struct State {
    tx: Option<Sender<()>>,
    err: Option<ContextError>,
    children: Vec<Arc<Node>>,
    prune_at: usize,
    timer: Option<Slot>,
}

static_assertions::assert_impl_all!(Context: Clone, Send, Sync, fmt::Debug);
static_assertions::assert_impl_all!(Cancel: Clone, Send, Sync, fmt::Debug);

impl Context {
    /// The root context: never cancelled, no deadline (Go's
    /// `context.Background()`). Also [`Context::default()`].
    ///
    /// ```
    /// use hoare_chan::context::Context;
    /// use std::time::Duration;
    ///
    /// let ctx = Context::background();
    /// assert_eq!(ctx.err(), None);
    /// assert_eq!(ctx.deadline(), None);
    /// assert!(ctx.done().recv_timeout(Duration::from_millis(1)).is_err()); // timed out
    /// ```
    pub fn background() -> Context {
        Context {
            node: None,
            done: never(),
        }
    }

    /// A child that is cancelled by the returned [`Cancel`] or with this
    /// context (Go's `context.WithCancel`).
    ///
    /// ```
    /// use hoare_chan::context::{Context, ContextError};
    ///
    /// let (parent, _cancel_parent) = Context::background().with_cancel();
    /// let (child, cancel_child) = parent.with_cancel();
    /// cancel_child.cancel();
    /// assert_eq!(child.err(), Some(ContextError::Canceled));
    /// assert_eq!(parent.err(), None); // never the other way round
    /// ```
    pub fn with_cancel(&self) -> (Context, Cancel) {
        self.derive(self.deadline(), None)
    }

    /// A child that is also cancelled, with
    /// [`ContextError::DeadlineExceeded`], at `deadline` (Go's
    /// `context.WithDeadline`). Its [`deadline`](Context::deadline) is the
    /// earlier of `deadline` and this context's. A deadline already past
    /// cancels the child at once.
    ///
    /// ```
    /// use hoare_chan::context::{Context, ContextError};
    /// use std::time::{Duration, Instant};
    ///
    /// let at = Instant::now() + Duration::from_millis(5);
    /// let (ctx, _cancel) = Context::background().with_deadline(at);
    /// assert_eq!(ctx.deadline(), Some(at));
    /// assert!(ctx.done().recv().is_err()); // blocks until `at`
    /// assert!(Instant::now() >= at);
    /// assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
    /// ```
    pub fn with_deadline(&self, deadline: Instant) -> (Context, Cancel) {
        match self.deadline() {
            // The parent's deadline comes first and will cancel the child
            // through the parent: no timer of its own (as Go).
            Some(earlier) if earlier <= deadline => self.derive(Some(earlier), None),
            _ => self.derive(Some(deadline), Some(deadline)),
        }
    }

    /// A child that is also cancelled, with
    /// [`ContextError::DeadlineExceeded`], once `timeout` has passed (Go's
    /// `context.WithTimeout`): `with_deadline(Instant::now() + timeout)`.
    /// A timeout too large for an `Instant` means no deadline.
    ///
    /// ```
    /// use hoare_chan::context::{Context, ContextError};
    /// use hoare_chan::{bounded, select};
    /// use std::time::Duration;
    ///
    /// let (ctx, cancel) = Context::background().with_timeout(Duration::from_millis(5));
    /// let (_tx, replies) = bounded::<u32>(0); // nobody answers
    /// select! {
    ///     recv(replies) -> r => println!("reply {r:?}"),
    ///     recv(ctx.done()) -> _ => assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded)),
    /// }
    /// cancel.cancel(); // releases the timer if the reply came first
    /// ```
    pub fn with_timeout(&self, timeout: Duration) -> (Context, Cancel) {
        match Instant::now().checked_add(timeout) {
            Some(deadline) => self.with_deadline(deadline),
            None => self.with_cancel(),
        }
    }

    /// A channel that is closed when this context is cancelled (Go's
    /// `ctx.Done()`). Nothing is ever sent on it: a receive returns
    /// `Err(RecvError)` once cancelled and waits until then, so it fits a
    /// `recv(ctx.done()) -> _ => ...` case of [`select!`](crate::select).
    /// For [`Context::background()`] it is [`never()`](crate::never).
    /// Clone it for an owned receiver.
    ///
    /// ```
    /// use hoare_chan::context::Context;
    /// use hoare_chan::TryRecvError;
    ///
    /// let (ctx, cancel) = Context::background().with_cancel();
    /// assert_eq!(ctx.done().try_recv(), Err(TryRecvError::Empty));
    /// cancel.cancel();
    /// assert_eq!(ctx.done().try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn done(&self) -> &Receiver<()> {
        &self.done
    }

    /// `None` while the context is live; after cancellation, why (Go's
    /// `ctx.Err()`). Once `done()` is closed, `err()` is `Some`.
    ///
    /// ```
    /// use hoare_chan::context::{Context, ContextError};
    ///
    /// let (ctx, cancel) = Context::background().with_cancel();
    /// assert_eq!(ctx.err(), None);
    /// cancel.cancel();
    /// assert_eq!(ctx.err(), Some(ContextError::Canceled));
    /// ```
    pub fn err(&self) -> Option<ContextError> {
        self.node.as_ref().and_then(|n| n.state.lock().err)
    }

    /// Whether the context is cancelled: `err().is_some()`.
    ///
    /// ```
    /// use hoare_chan::context::Context;
    ///
    /// let (ctx, cancel) = Context::background().with_cancel();
    /// assert!(!ctx.is_done());
    /// cancel.cancel();
    /// assert!(ctx.is_done());
    /// ```
    pub fn is_done(&self) -> bool {
        self.err().is_some()
    }

    /// When the context will be cancelled at the latest, if it has a
    /// deadline (Go's `ctx.Deadline()`): the earliest deadline on its way
    /// from the root.
    ///
    /// ```
    /// use hoare_chan::context::Context;
    /// use std::time::Duration;
    ///
    /// let (outer, _c1) = Context::background().with_timeout(Duration::from_secs(1));
    /// let (inner, _c2) = outer.with_timeout(Duration::from_secs(60));
    /// assert_eq!(inner.deadline(), outer.deadline()); // the parent's is earlier
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        self.node.as_ref().and_then(|n| n.deadline)
    }

    /// A new child node with `deadline`, registered with this context and
    /// with a timer at `arm` if given.
    fn derive(&self, deadline: Option<Instant>, arm: Option<Instant>) -> (Context, Cancel) {
        let (tx, rx) = bounded(0);
        let node = Arc::new(Node {
            deadline,
            state: Mutex::new(State {
                tx: Some(tx),
                err: None,
                children: Vec::new(),
                prune_at: MIN_PRUNE,
                timer: None,
            }),
        });
        if let Some(parent) = &self.node {
            if let Some(err) = parent.adopt(&node) {
                cancel(&node, err);
            }
        }
        if let Some(at) = arm {
            arm_timer(&node, at);
        }
        let ctx = Context {
            node: Some(node.clone()),
            done: rx,
        };
        (ctx, Cancel { node })
    }
}

impl Default for Context {
    /// [`Context::background()`].
    fn default() -> Self {
        Context::background()
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("err", &self.err())
            .field("deadline", &self.deadline())
            .finish()
    }
}

impl Cancel {
    /// Cancels the context with [`ContextError::Canceled`], unless it is
    /// already cancelled, and then its descendants with the same error;
    /// closes their `done()` channels and stops a pending deadline timer.
    /// Returns once all of that is done.
    ///
    /// ```
    /// use hoare_chan::context::Context;
    ///
    /// let (ctx, cancel) = Context::background().with_cancel();
    /// let (grandchild, _) = ctx.with_cancel().0.with_cancel();
    /// cancel.cancel();
    /// assert!(grandchild.is_done());
    /// ```
    pub fn cancel(&self) {
        cancel(&self.node, ContextError::Canceled);
    }
}

impl fmt::Debug for Cancel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancel")
            .field("err", &self.node.state.lock().err)
            .finish()
    }
}

impl Node {
    /// Adds `child` to the children, pruning the list if it is due; or, if
    /// this node is already cancelled, returns the error to cancel the
    /// child with.
    fn adopt(&self, child: &Arc<Node>) -> Option<ContextError> {
        let mut s = self.state.lock();
        if s.tx.is_none() {
            return s.err;
        }
        if s.children.len() >= s.prune_at {
            s.children.retain(|c| observed(c));
            s.prune_at = (2 * s.children.len()).max(MIN_PRUNE);
        }
        s.children.push(child.clone());
        None
    }
}

/// Whether cancelling `node` could still be seen by anyone: it is live,
/// and its channel has receivers or one of its descendants is observed.
/// Prunes `node`'s own children on the way; locks `node` while it locks
/// them (parent before child).
fn observed(node: &Node) -> bool {
    let mut s = node.state.lock();
    match &s.tx {
        None => false,
        // Closed but not cancelled: the last receiver has gone.
        Some(tx) if tx.is_closed() => {
            s.children.retain(|c| observed(c));
            !s.children.is_empty()
        }
        Some(_) => true,
    }
}

/// Cancels `node` with `err` unless it is cancelled already, then its
/// descendants with the same error (iteratively: depth costs no stack).
fn cancel(node: &Node, err: ContextError) {
    let mut pending = cancel_one(node, err);
    while let Some(child) = pending.pop() {
        pending.extend(cancel_one(&child, err));
    }
}

/// Cancels `node` alone and returns its children, for the caller to cancel.
fn cancel_one(node: &Node, err: ContextError) -> Vec<Arc<Node>> {
    let mut s = node.state.lock();
    let Some(tx) = s.tx.take() else {
        return Vec::new(); // the first cancellation won
    };
    s.err = Some(err);
    let children = core::mem::take(&mut s.children);
    let timer = s.timer.take();
    drop(s);
    if let Some(slot) = timer {
        withdraw(&slot);
    }
    // `err` is set before the channel closes, so whoever sees `done()`
    // closed and then calls `err()` finds it (the channel's lock orders
    // the two).
    tx.close();
    children
}

/// Arms `node`'s deadline timer for `at`, or cancels it now if `at` has
/// passed.
fn arm_timer(node: &Arc<Node>, at: Instant) {
    if at <= Instant::now() {
        cancel(node, ContextError::DeadlineExceeded);
        return;
    }
    let slot = timer::wake_at(at, Waker::from(Arc::new(Expire(node.clone()))));
    let mut s = node.state.lock();
    if s.tx.is_some() {
        s.timer = Some(slot);
    } else {
        // Cancelled meanwhile (or the timer already fired): no timer.
        drop(s);
        withdraw(&slot);
    }
}

/// Takes the waker out of a timer slot, so the timer thread finds it empty
/// and the node it holds is released now rather than at the deadline.
fn withdraw(slot: &Slot) {
    let waker = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
    drop(waker); // outside the slot's lock: it may drop the last node handle
}

/// The timer's waker for a deadline: waking it cancels the node. It holds
/// the node strongly, because a timer that can still cancel must keep the
/// done channel's `Sender` alive (see the file comment).
struct Expire(Arc<Node>);

impl Wake for Expire {
    fn wake(self: Arc<Self>) {
        cancel(&self.0, ContextError::DeadlineExceeded);
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let s = self.state.get_mut();
        if let Some(tx) = s.tx.take() {
            // Uncancelled and now uncancellable: if somebody still holds a
            // clone of `done()`, its channel must stay open.
            if !tx.is_closed() {
                ORPHANS.lock().unwrap_or_else(|e| e.into_inner()).keep(tx);
            }
        }
    }
}

/// Senders of done channels that nobody can cancel any more but somebody
/// still receives on; each is released once its last receiver has gone.
static ORPHANS: StdMutex<Orphans> = StdMutex::new(Orphans {
    senders: Vec::new(),
    prune_at: MIN_PRUNE,
});

struct Orphans {
    senders: Vec<Sender<()>>,
    prune_at: usize,
}

impl Orphans {
    /// Keeps `tx`, first dropping the senders whose receivers are all gone
    /// when the list is due for pruning (amortized O(1), as for children).
    fn keep(&mut self, tx: Sender<()>) {
        if self.senders.len() >= self.prune_at {
            self.senders.retain(|s| !s.is_closed());
            self.prune_at = (2 * self.senders.len()).max(MIN_PRUNE);
        }
        self.senders.push(tx);
    }
}
