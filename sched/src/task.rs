//! Tasks ("goroutines"): one allocation per task, a state word, and the
//! handles that point at it.
//!
//! # Layout
//!
//! A task is a `Task<F>`: a [`Header`] followed by the future's `Stage`
//! (the future while it runs, then its output, then nothing). Run queues,
//! wakers and join handles hold a thin pointer to the header; the header's
//! `vtable` leads back to the typed functions for `F`. `#[repr(C)]` puts the
//! header at offset 0, so the two pointers are the same address.
//!
//! # The state word
//!
//! | bits            | meaning                                                   |
//! |-----------------|-----------------------------------------------------------|
//! | `RUNNING`       | a worker is polling (or cancelling) the future             |
//! | `NOTIFIED`      | the task is in a run queue, or must go back into one when the running poll ends |
//! | `COMPLETE`      | the stage holds the output (or nothing); the future is gone |
//! | `CANCELLED`     | `abort` or shutdown asked for the future to be dropped     |
//! | `JOIN_INTEREST` | the `JoinHandle` is alive                                 |
//! | `JOIN_WAKER`    | the join waker cell is set and belongs to the completer (below) |
//! | `REF_ONE` × n   | the reference count, in the bits above                     |
//!
//! Each of these holds one reference: the `JoinHandle`, the registry entry
//! (`registry.rs`: every live task, for the dump and for shutdown), each
//! `Waker`, and the one [`Notified`] handle that a set `NOTIFIED` bit
//! stands for (queued, or being run). The last reference frees the task.
//!
//! Invariants:
//!
//! 1. Only the holder of `RUNNING` touches the future. `RUNNING` is taken
//!    by one CAS from a state with `NOTIFIED` set and `RUNNING` clear, by
//!    the worker that popped the `Notified`. So a task is polled by at most
//!    one thread at a time, and only after a wake-up.
//! 2. A wake-up sets `NOTIFIED` at most once per run: if it is already set,
//!    or the task is complete, the wake does nothing; if the task is
//!    running, the wake sets `NOTIFIED` and the running worker queues the
//!    task again when the poll returns (a wake-up during a poll is never
//!    lost); otherwise the waker queues a new `Notified`.
//! 3. The output is written before `COMPLETE` is set (Release), and read
//!    by the `JoinHandle` only after it sees `COMPLETE` (Acquire). Exactly
//!    one side drops the output: the completer if `JOIN_INTEREST` was gone
//!    when it set `COMPLETE`, the handle otherwise.
//! 4. The join waker cell is written only by the `JoinHandle`, and only
//!    while `JOIN_WAKER` is clear and the task is not complete; while
//!    `JOIN_WAKER` is set both sides may read it (tokio's protocol).

use core::any::Any;
use core::future::Future;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::panic::{AssertUnwindSafe, Location};
use core::pin::Pin;
use core::ptr::NonNull;
use core::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use std::panic::catch_unwind;

use crate::primitives::{Arc, AtomicU32, AtomicUsize, Ordering, UnsafeCell};
use crate::runtime::Shared;

const RUNNING: usize = 1;
const NOTIFIED: usize = 1 << 1;
const COMPLETE: usize = 1 << 2;
const CANCELLED: usize = 1 << 3;
const JOIN_INTEREST: usize = 1 << 4;
const JOIN_WAKER: usize = 1 << 5;
const REF_SHIFT: u32 = 6;
const REF_ONE: usize = 1 << REF_SHIFT;

/// The type-independent part of a task.
pub(crate) struct Header {
    state: AtomicUsize,
    vtable: &'static Vtable,
    /// The runtime that schedules the task. Held strongly: a waker may
    /// outlive the runtime handle, and must still find somewhere to go
    /// (after shutdown it only drops its reference).
    pub(crate) shared: Arc<Shared>,
    /// Where the task's slot in the registry is (set once, before the task
    /// is first queued).
    pub(crate) slot: AtomicU32,
    pub(crate) id: u64,
    pub(crate) location: &'static Location<'static>,
    pub(crate) name: Option<Box<str>>,
    join_waker: UnsafeCell<Option<Waker>>,
}

struct Vtable {
    /// Polls (or cancels) the task; the caller gives up one `Notified`
    /// reference, whose `NOTIFIED` bit it has not consumed yet.
    run: unsafe fn(NonNull<Header>),
    /// Moves the output into `*mut Poll<Result<T, JoinError>>`.
    read_output: unsafe fn(NonNull<Header>, *mut ()),
    /// Drops the output (or what is left of the stage).
    drop_stage: unsafe fn(NonNull<Header>),
    /// Drops the future in place of polling it, leaving `Err(Cancelled)`.
    cancel: unsafe fn(NonNull<Header>),
    dealloc: unsafe fn(NonNull<Header>),
}

#[repr(C)]
struct Task<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
}

enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

/// Why a task has no output for its [`JoinHandle`].
pub enum JoinError {
    /// The task panicked; the payload is what `panic!` was given.
    Panicked(Box<dyn Any + Send + 'static>),
    /// The task was cancelled ([`JoinHandle::abort`] or the runtime shut
    /// down) before it finished.
    Cancelled,
}

impl JoinError {
    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, JoinError::Panicked(_))
    }

    /// Whether the task was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, JoinError::Cancelled)
    }

    /// The panic payload, or `self` back if the task was cancelled; pass it
    /// to `std::panic::resume_unwind` to continue the panic in the joiner.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self {
            JoinError::Panicked(p) => Ok(p),
            e => Err(e),
        }
    }
}

impl core::fmt::Debug for JoinError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            JoinError::Panicked(p) => f
                .debug_tuple("Panicked")
                .field(&panic_message(p.as_ref()))
                .finish(),
            JoinError::Cancelled => f.write_str("Cancelled"),
        }
    }
}

impl core::fmt::Display for JoinError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            JoinError::Panicked(p) => write!(f, "task panicked: {}", panic_message(p.as_ref())),
            JoinError::Cancelled => f.write_str("task was cancelled"),
        }
    }
}

impl std::error::Error for JoinError {}

/// The text of a panic payload, when it is a string.
pub(crate) fn panic_message(p: &(dyn Any + Send)) -> &str {
    if let Some(s) = p.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = p.downcast_ref::<String>() {
        s
    } else {
        "<non-string panic payload>"
    }
}

/// An owned reference to a task whose `NOTIFIED` bit is set on its behalf:
/// the thing run queues hold. Running it consumes it.
pub(crate) struct Notified(NonNull<Header>);

// SAFETY: a `Notified` is a counted reference to a task whose future is
// `Send` (`spawn` requires it); the header is shared through atomics.
unsafe impl Send for Notified {}

impl Notified {
    /// Polls the task once (or cancels it, if asked to).
    pub(crate) fn run(self) {
        let ptr = ManuallyDrop::new(self).0;
        // SAFETY: the vtable belongs to the task's type; we hand over our
        // reference, as `run` expects.
        unsafe { (ptr.as_ref().vtable.run)(ptr) }
    }

    /// The raw pointer, for a run queue slot; undo with [`Notified::from_raw`].
    pub(crate) fn into_raw(self) -> *mut Header {
        ManuallyDrop::new(self).0.as_ptr()
    }

    /// # Safety
    /// `ptr` came from [`Notified::into_raw`] and is turned back only once.
    pub(crate) unsafe fn from_raw(ptr: *mut Header) -> Notified {
        // SAFETY: the caller's duty; `into_raw` never gives a null pointer.
        Notified(unsafe { NonNull::new_unchecked(ptr) })
    }
}

impl Drop for Notified {
    fn drop(&mut self) {
        // A queued task that is never run (shutdown drains the queues):
        // only the reference goes.
        // SAFETY: we own one reference.
        unsafe { drop_ref(self.0) }
    }
}

/// A counted reference that is neither the join handle nor a `Notified`:
/// the registry's.
pub(crate) struct TaskRef(NonNull<Header>);

// SAFETY: as for `Notified`.
unsafe impl Send for TaskRef {}

impl TaskRef {
    pub(crate) fn header(&self) -> &Header {
        // SAFETY: we hold a reference.
        unsafe { self.0.as_ref() }
    }

    /// Cancels the task at shutdown, once no worker runs any more: drops
    /// the future unless it already finished or is being polled.
    pub(crate) fn shutdown(&self) {
        let h = self.header();
        let mut s = h.state.load(Ordering::Acquire);
        loop {
            if s & (RUNNING | COMPLETE) != 0 {
                return;
            }
            // Acquire: we are about to drop the future another worker may
            // have polled last.
            match h.state.compare_exchange_weak(
                s,
                s | RUNNING | CANCELLED,
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(a) => s = a,
            }
        }
        // SAFETY: we hold `RUNNING` (invariant 1); `cancel` completes the
        // task and releases it, but gives up no reference: ours stays.
        unsafe { (h.vtable.cancel)(self.0) }
    }
}

impl Drop for TaskRef {
    fn drop(&mut self) {
        // SAFETY: we own one reference.
        unsafe { drop_ref(self.0) }
    }
}

/// What a task is doing, as [`crate::Runtime::dump`] shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskState {
    /// Queued, waiting for a worker.
    Runnable,
    /// Being polled by a worker.
    Running,
    /// Waiting for a wake-up (a channel, a timer, another task).
    Waiting,
    /// Finished; its output waits for the `JoinHandle`.
    Done,
}

impl Header {
    pub(crate) fn task_state(&self) -> TaskState {
        let s = self.state.load(Ordering::Relaxed);
        if s & COMPLETE != 0 {
            TaskState::Done
        } else if s & RUNNING != 0 {
            TaskState::Running
        } else if s & NOTIFIED != 0 {
            TaskState::Runnable
        } else {
            TaskState::Waiting
        }
    }

    /// Wakes the task without giving up a reference (invariant 2).
    fn wake_by_ref(&self, ptr: NonNull<Header>) {
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            if s & (COMPLETE | NOTIFIED) != 0 {
                return;
            }
            let (next, queue) = if s & RUNNING != 0 {
                (s | NOTIFIED, false)
            } else {
                ((s | NOTIFIED) + REF_ONE, true)
            };
            // AcqRel: Release publishes what the waker did before waking
            // to the next poll (which takes `RUNNING` with Acquire).
            match self
                .state
                .compare_exchange_weak(s, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    if queue {
                        self.shared.schedule(Notified(ptr));
                    } else {
                        self.shared.note_wake();
                    }
                    return;
                }
                Err(a) => s = a,
            }
        }
    }

    /// Increments the reference count.
    fn ref_inc(&self) {
        // Relaxed: a new reference is made from an existing one, which
        // keeps the task alive meanwhile (as `Arc::clone`).
        let prev = self.state.fetch_add(REF_ONE, Ordering::Relaxed);
        assert!(
            prev >> REF_SHIFT < usize::MAX >> (REF_SHIFT + 1),
            "task reference count overflow"
        );
    }
}

/// Drops one reference; the last one frees the task.
///
/// # Safety
/// The caller owns the reference and does not use `ptr` afterwards.
unsafe fn drop_ref(ptr: NonNull<Header>) {
    // SAFETY: the caller owns a reference: the task is alive.
    let h = unsafe { ptr.as_ref() };
    // AcqRel: every earlier use of the task (Release) happens before the
    // free (Acquire), as in `Arc::drop`.
    let prev = h.state.fetch_sub(REF_ONE, Ordering::AcqRel);
    debug_assert!(prev >= REF_ONE, "task reference count underflow");
    if prev >> REF_SHIFT == 1 {
        // SAFETY: that was the last reference.
        unsafe { (h.vtable.dealloc)(ptr) }
    }
}

/// Allocates a task for `future`, in state `NOTIFIED | JOIN_INTEREST` with
/// three references: the returned `Notified`, `JoinHandle` and `TaskRef`.
pub(crate) fn new_task<F>(
    future: F,
    shared: Arc<Shared>,
    id: u64,
    location: &'static Location<'static>,
    name: Option<Box<str>>,
) -> (Notified, JoinHandle<F::Output>, TaskRef)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let task = Box::new(Task {
        header: Header {
            state: AtomicUsize::new(NOTIFIED | JOIN_INTEREST | (3 * REF_ONE)),
            vtable: &Vtables::<F>::VTABLE,
            shared,
            slot: AtomicU32::new(u32::MAX),
            id,
            location,
            name,
            join_waker: UnsafeCell::new(None),
        },
        stage: UnsafeCell::new(Stage::Running(future)),
    });
    let ptr = NonNull::from(Box::leak(task)).cast::<Header>();
    (
        Notified(ptr),
        JoinHandle {
            ptr,
            _out: PhantomData,
        },
        TaskRef(ptr),
    )
}

struct Vtables<F>(PhantomData<F>);

impl<F> Vtables<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    const VTABLE: Vtable = Vtable {
        run: run::<F>,
        read_output: read_output::<F>,
        drop_stage: drop_stage::<F>,
        cancel: cancel::<F>,
        dealloc: dealloc::<F>,
    };
}

/// # Safety (all the typed functions)
/// `ptr` points to a live `Task<F>` of this very `F`.
unsafe fn task<'a, F: Future>(ptr: NonNull<Header>) -> &'a Task<F> {
    // SAFETY: the caller's duty; `repr(C)` puts the header first.
    unsafe { ptr.cast::<Task<F>>().as_ref() }
}

unsafe fn run<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the vtable's duty: `ptr` is a `Task<F>`; we hold a reference.
    let t = unsafe { task::<F>(ptr) };
    let h = &t.header;
    // Take RUNNING, consume NOTIFIED (invariant 1).
    let mut s = h.state.load(Ordering::Acquire);
    loop {
        debug_assert!(
            s & NOTIFIED != 0 && s & RUNNING == 0,
            "run of an unqueued task"
        );
        if s & COMPLETE != 0 {
            // Cancelled by shutdown while queued: nothing to run; the queue's
            // reference goes. (Shutdown cancels only once no worker runs, so
            // this is a safeguard.)
            match h.state.compare_exchange_weak(
                s,
                s & !NOTIFIED,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    // SAFETY: our reference, no longer used.
                    unsafe { drop_ref(ptr) };
                    return;
                }
                Err(a) => {
                    s = a;
                    continue;
                }
            }
        }
        // Acquire: the previous poll's writes to the future, and what
        // wakers did before waking, are visible to this poll.
        match h.state.compare_exchange_weak(
            s,
            (s | RUNNING) & !NOTIFIED,
            Ordering::Acquire,
            Ordering::Acquire,
        ) {
            Ok(_) => break,
            Err(a) => s = a,
        }
    }
    if s & CANCELLED != 0 {
        // SAFETY: we hold RUNNING; then our reference goes.
        unsafe {
            cancel::<F>(ptr);
            drop_ref(ptr);
        }
        return;
    }
    let waker = ManuallyDrop::new(
        // SAFETY: a borrowed waker: it does not own a reference (it is never
        // dropped); our reference keeps the task alive while it is in use,
        // and its clones take their own.
        unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr().cast(), &WAKER_VTABLE)) },
    );
    let mut cx = Context::from_waker(&waker);
    let polled = catch_unwind(AssertUnwindSafe(|| {
        t.stage.with_mut(|stage| {
            // SAFETY: RUNNING gives us the stage (invariant 1).
            match unsafe { &mut *stage } {
                // SAFETY: the task never moves (it is boxed and freed only
                // by `dealloc`), so the future is pinned.
                Stage::Running(f) => unsafe { Pin::new_unchecked(f) }.poll(&mut cx),
                _ => unreachable!("a running task has its future"),
            }
        })
    }));
    match polled {
        Ok(Poll::Pending) => {
            let mut s = h.state.load(Ordering::Relaxed);
            loop {
                if s & NOTIFIED != 0 {
                    // Woken during the poll: run again, keeping our
                    // reference as the new `Notified` (a yield).
                    // Release: our writes to the future before the next
                    // poll, which may be on another worker.
                    match h.state.compare_exchange_weak(
                        s,
                        s & !RUNNING,
                        Ordering::AcqRel,
                        Ordering::Relaxed,
                    ) {
                        Ok(_) => {
                            h.shared.schedule_yield(Notified(ptr));
                            return;
                        }
                        Err(a) => s = a,
                    }
                } else {
                    // Release: as above, for whoever wakes and runs it.
                    match h.state.compare_exchange_weak(
                        s,
                        (s & !RUNNING) - REF_ONE,
                        Ordering::AcqRel,
                        Ordering::Relaxed,
                    ) {
                        Ok(_) => {
                            debug_assert!(
                                s >> REF_SHIFT > 1,
                                "a waiting task keeps other references"
                            );
                            return;
                        }
                        Err(a) => s = a,
                    }
                }
            }
        }
        Ok(Poll::Ready(v)) => {
            // SAFETY: we hold RUNNING.
            unsafe { complete::<F>(ptr, Ok(v)) };
        }
        Err(payload) => {
            // SAFETY: we hold RUNNING.
            unsafe { complete::<F>(ptr, Err(JoinError::Panicked(payload))) };
        }
    }
    // SAFETY: our reference, no longer used.
    unsafe { drop_ref(ptr) };
}

/// Stores the output, sets `COMPLETE`, wakes the joiner, leaves the
/// registry. The caller holds `RUNNING` and a reference, which it keeps.
unsafe fn complete<F: Future>(ptr: NonNull<Header>, out: Result<F::Output, JoinError>) {
    // SAFETY: the caller's duty.
    let t = unsafe { task::<F>(ptr) };
    let h = &t.header;
    t.stage.with_mut(|stage| {
        // The future is dropped where it is: it is pinned, and an async
        // block may hold references into itself (moving it out first, to
        // drop it elsewhere, breaks those; the stress tests caught it).
        // Dropping may panic; that panic is the task's to report only if
        // it has no other.
        // SAFETY: RUNNING gives us the stage, which holds a live value
        // (the future, or `Consumed` after a cancelled run).
        let dropped = catch_unwind(AssertUnwindSafe(|| unsafe {
            core::ptr::drop_in_place(stage)
        }));
        let out = match (out, dropped) {
            (Ok(v), Err(p)) => {
                // The output goes too; a panic in its drop is swallowed:
                // the task already reports one.
                let _ = catch_unwind(AssertUnwindSafe(move || drop(v)));
                Err(JoinError::Panicked(p))
            }
            (out, _) => out,
        };
        // SAFETY: the old value is gone (dropped, or abandoned mid-drop by
        // a panic), so the slot is written without dropping it again.
        unsafe { core::ptr::write(stage, Stage::Finished(out)) };
    });
    // Leave the registry first, so that a joiner that saw the output no
    // longer finds the task in a dump.
    h.shared.task_done(h);
    // Release: the output is written before `COMPLETE` (invariant 3).
    let prev = h.state.fetch_xor(RUNNING | COMPLETE, Ordering::AcqRel);
    debug_assert!(prev & RUNNING != 0 && prev & COMPLETE == 0);
    if prev & JOIN_INTEREST == 0 {
        // Nobody will read the output (invariant 3): drop it now.
        // SAFETY: the handle is gone and will not touch the stage.
        let _ = catch_unwind(AssertUnwindSafe(|| unsafe { drop_stage::<F>(ptr) }));
    } else if prev & JOIN_WAKER != 0 {
        h.join_waker.with(|w| {
            // SAFETY: JOIN_WAKER was set when we completed: the handle no
            // longer writes the cell (invariant 4).
            if let Some(w) = unsafe { &*w } {
                // A foreign executor's waker may panic; it must not unwind
                // through the worker.
                let _ = catch_unwind(AssertUnwindSafe(|| w.wake_by_ref()));
            }
        });
    }
}

unsafe fn cancel<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the caller holds RUNNING and a reference.
    unsafe { complete::<F>(ptr, Err(JoinError::Cancelled)) }
}

unsafe fn read_output<F: Future>(ptr: NonNull<Header>, dst: *mut ()) {
    // SAFETY: the caller (the join handle) saw COMPLETE (invariant 3), and
    // `dst` is a `Poll<Result<F::Output, JoinError>>`.
    let t = unsafe { task::<F>(ptr) };
    let out = t.stage.with_mut(|stage| {
        // SAFETY: the handle owns the stage after COMPLETE.
        match unsafe { core::ptr::replace(stage, Stage::Consumed) } {
            Stage::Finished(out) => out,
            _ => panic!("JoinHandle polled after it returned its output"),
        }
    });
    // SAFETY: the caller's duty.
    unsafe { *dst.cast::<Poll<Result<F::Output, JoinError>>>() = Poll::Ready(out) };
}

unsafe fn drop_stage<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the caller owns the stage (invariant 3).
    let t = unsafe { task::<F>(ptr) };
    t.stage.with_mut(|stage| {
        // SAFETY: as above; dropped in place, then marked empty, so the
        // stage never holds a value twice even if the drop panics (the
        // write happens in the guard).
        struct Consume<F: Future>(*mut Stage<F>);
        impl<F: Future> Drop for Consume<F> {
            fn drop(&mut self) {
                // SAFETY: the value was dropped (or abandoned by a panic).
                unsafe { core::ptr::write(self.0, Stage::Consumed) };
            }
        }
        let _consume = Consume(stage);
        // SAFETY: the caller owns the stage, which holds a live value.
        unsafe { core::ptr::drop_in_place(stage) };
    });
}

unsafe fn dealloc<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the last reference is gone: nobody else can reach the task;
    // it came from `Box::leak` in `new_task`.
    drop(unsafe { Box::from_raw(ptr.cast::<Task<F>>().as_ptr()) });
}

static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(waker_clone, waker_wake, waker_wake_by_ref, waker_drop);

/// # Safety (the four waker functions)
/// `p` is a task header, kept alive by the waker's reference (or, for the
/// borrowed waker of a poll, by the worker's).
unsafe fn waker_clone(p: *const ()) -> RawWaker {
    // SAFETY: the waker functions' duty.
    let h = unsafe { &*p.cast::<Header>() };
    h.ref_inc();
    RawWaker::new(p, &WAKER_VTABLE)
}

unsafe fn waker_wake(p: *const ()) {
    // The waker's reference is kept until the wake-up is queued and only
    // then given up: once queued, the task may run, finish and lose every
    // other reference on another worker while `schedule` still runs here,
    // and the task's `Arc<Shared>` may be what keeps the runtime alive.
    // SAFETY: as in `waker_clone`.
    unsafe { waker_wake_by_ref(p) };
    // SAFETY: the waker's reference, given up; no borrow of the task is
    // live any more.
    unsafe { drop_ref(NonNull::new_unchecked(p.cast_mut().cast::<Header>())) };
}

unsafe fn waker_wake_by_ref(p: *const ()) {
    // SAFETY: as in `waker_clone`.
    let ptr = unsafe { NonNull::new_unchecked(p.cast_mut().cast::<Header>()) };
    // SAFETY: as above.
    unsafe { ptr.as_ref() }.wake_by_ref(ptr);
}

unsafe fn waker_drop(p: *const ()) {
    // SAFETY: as in `waker_clone`; the waker's reference goes.
    unsafe { drop_ref(NonNull::new_unchecked(p.cast_mut().cast::<Header>())) }
}

/// A handle to a spawned task: await it (or [`JoinHandle::join`] it from a
/// thread outside the runtime) for the task's output.
///
/// Dropping the handle detaches the task: it keeps running, and its output
/// is dropped when it finishes.
///
/// ```
/// let rt = hoare_sched::Runtime::builder().procs(2).build();
/// let h = rt.spawn(async { 6 * 7 });
/// assert_eq!(rt.block_on(h).unwrap(), 42);
/// ```
pub struct JoinHandle<T> {
    ptr: NonNull<Header>,
    _out: PhantomData<T>,
}

// SAFETY: the handle only moves the output (`T: Send`) out of the task; the
// header is shared through atomics.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` allows only `abort` and `is_finished`, which touch
// the state word alone.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> core::fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.header().id)
            .finish()
    }
}

impl<T> JoinHandle<T> {
    fn header(&self) -> &Header {
        // SAFETY: the handle holds a reference.
        unsafe { self.ptr.as_ref() }
    }

    /// The task's id, as [`crate::Runtime::dump`] shows it: unique within
    /// its runtime, not in spawn order (each thread takes ids in batches).
    pub fn id(&self) -> u64 {
        self.header().id
    }

    /// Whether the task has finished (its output, a panic, or a
    /// cancellation is ready).
    pub fn is_finished(&self) -> bool {
        self.header().state.load(Ordering::Acquire) & COMPLETE != 0
    }

    /// Cancels the task: its future is dropped at its next scheduling
    /// point (at once if it is waiting), and the handle then returns
    /// `Err(JoinError::Cancelled)`. A task that already finished keeps its
    /// output.
    pub fn abort(&self) {
        let h = self.header();
        let mut s = h.state.load(Ordering::Acquire);
        loop {
            if s & (COMPLETE | CANCELLED) != 0 {
                return;
            }
            let (next, queue) = if s & (RUNNING | NOTIFIED) != 0 {
                // The running worker, or the queued run, sees CANCELLED.
                (s | CANCELLED | NOTIFIED, false)
            } else {
                ((s | CANCELLED | NOTIFIED) + REF_ONE, true)
            };
            // AcqRel: as a wake-up.
            match h
                .state
                .compare_exchange_weak(s, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    if queue {
                        h.shared.schedule(Notified(self.ptr));
                    }
                    return;
                }
                Err(a) => s = a,
            }
        }
    }

    /// Blocks the calling thread until the task finishes and returns its
    /// output.
    ///
    /// # Panics
    /// When called on one of the runtime's worker threads or inside
    /// `block_on` (it would stop the goroutines it waits for): use
    /// `.await` there.
    pub fn join(self) -> Result<T, JoinError> {
        assert!(
            !crate::runtime::in_runtime(),
            "JoinHandle::join blocks its thread and cannot be called inside a hoare-sched runtime; use `.await`"
        );
        crate::runtime::block_on_thread(self)
    }

    /// Sets the join waker; `true` if the task completed meanwhile (the
    /// output is ready). Invariant 4.
    fn set_join_waker(&self, waker: &Waker) -> bool {
        let h = self.header();
        let s = h.state.load(Ordering::Acquire);
        if s & COMPLETE != 0 {
            return true;
        }
        if s & JOIN_WAKER != 0 {
            // SAFETY: while JOIN_WAKER is set the cell is only read.
            let same = h
                .join_waker
                .with(|w| unsafe { &*w }.as_ref().is_some_and(|w| w.will_wake(waker)));
            if same {
                return false;
            }
            // Take the cell back: clear JOIN_WAKER unless complete.
            if self.update(|s| (s & COMPLETE == 0).then_some(s & !JOIN_WAKER)) {
                return true;
            }
        }
        // SAFETY: JOIN_WAKER is clear and we are the only handle: the cell
        // is ours (invariant 4).
        h.join_waker
            .with_mut(|w| unsafe { *w = Some(waker.clone()) });
        if self.update(|s| (s & COMPLETE == 0).then_some(s | JOIN_WAKER)) {
            // Completed before we could publish the waker: drop it again.
            // SAFETY: JOIN_WAKER stayed clear: still ours.
            h.join_waker.with_mut(|w| unsafe { *w = None });
            return true;
        }
        false
    }

    /// Applies `f` to the state by CAS until it returns `None` (then
    /// `true`: the task is complete) or the CAS succeeds (`false`).
    fn update(&self, f: impl Fn(usize) -> Option<usize>) -> bool {
        let h = self.header();
        let mut s = h.state.load(Ordering::Acquire);
        loop {
            let Some(next) = f(s) else { return true };
            // AcqRel: Release publishes the waker cell to the completer;
            // Acquire on failure sees the output if it completed.
            match h
                .state
                .compare_exchange_weak(s, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return false,
                Err(a) => s = a,
            }
        }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if !self.set_join_waker(cx.waker()) {
            return Poll::Pending;
        }
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        // SAFETY: COMPLETE seen (Acquire) by the only handle; `out` has the
        // type the task's vtable writes (`T` is the task's output type).
        unsafe { (self.header().vtable.read_output)(self.ptr, (&raw mut out).cast()) };
        out
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        /// Releases the handle's reference even if dropping the output
        /// panics.
        struct Release(NonNull<Header>);
        impl Drop for Release {
            fn drop(&mut self) {
                // SAFETY: the handle's reference, released once.
                unsafe { drop_ref(self.0) };
            }
        }
        let _release = Release(self.ptr);
        let h = self.header();
        if self.update(|s| (s & COMPLETE == 0).then_some(s & !JOIN_INTEREST)) {
            // Complete with our interest set: the output is ours to drop
            // (invariant 3).
            // SAFETY: as above; a panic in the output's drop is ours.
            unsafe { (h.vtable.drop_stage)(self.ptr) };
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn header_fits_the_idle_task_budget() {
        // The design's target: at most 128 bytes of per-task scheduling
        // state besides the future itself.
        assert!(core::mem::size_of::<Header>() <= 128 - 16);
    }
}
