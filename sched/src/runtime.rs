//! The runtime: Go's M, P and G, the worker loop, parking, handoff and the
//! monitor thread.
//!
//! # M, P, G
//!
//! A **G** is a task (`task.rs`). A **P** is a scheduling context: one of
//! `procs` slots, each with its own local run queue (`queue.rs`); at most
//! `procs` goroutines are polled at any moment, as `GOMAXPROCS` bounds Go.
//! An **M** is an OS thread that runs the worker loop while it holds a P.
//! Normally each P keeps its M for the runtime's lifetime; the handoff below
//! gives a P another M.
//!
//! # The worker loop
//!
//! An M repeatedly takes a task from its P (every [`GLOBAL_EVERY`] ticks
//! the global queue first, then `runnext`, the ring, the global queue) and
//! polls it. With nothing local it becomes a *searcher* and steals from
//! other Ps, if fewer than half of the Ps are searching already (Go's
//! `nmspinning` limit: more thieves would only contend). A searcher that
//! finds work stops searching, and if it was the last searcher it wakes an
//! idle worker to take over the search, so a burst of new tasks spreads
//! over the Ps (Go's `resetspinning`). A worker with nothing to do parks.
//!
//! # Parking without lost wake-ups
//!
//! A worker about to park stops searching, puts its P on the idle list and
//! increments `num_idle`, issues a SeqCst fence, and looks at every queue
//! once more. Whoever queues a task does so before a SeqCst fence and then
//! reads `searching` and `num_idle`: if nobody searches and some worker is
//! idle, it takes one off the idle list (counting it as searching) and
//! unparks it. By the fences' total order either the parking worker's
//! re-check sees the task, or the pusher sees the idle worker (or a
//! searcher that will see the task). Tasks that go to `runnext` do not
//! wake anybody: they are for the waker's own P, and the waker is about to
//! return to its scheduler loop.
//!
//! # Handoff (Go's sysmon and `retake`)
//!
//! A P's `status` word holds an epoch and two flags, `IN_POLL` (its M is
//! polling a task) and `PUSHING` (that M is pushing onto the P's queue from
//! inside the poll). The monitor thread retakes a P whose M has been in the
//! same poll for [`STUCK_AFTER`] (a goroutine that blocks its thread), and
//! [`crate::block_in_place`] gives its own P away: both by one CAS from
//! `epoch | IN_POLL` to `epoch + 1`, after which another M runs the P. The
//! old M finds out when its poll returns (its CAS back to `epoch` fails)
//! and becomes a *spare* M (Go's idle M list): it waits, up to
//! [`SPARE_M_IDLE`], for a later retake to hand it a P, and exits after
//! that. A retake gives the P to a waiting spare M if there is one and
//! starts a new thread only otherwise. If no thread can be started, the P
//! waits in the spare list for the next M that becomes spare (at the
//! latest, the stuck M itself when its poll returns), so it is never left
//! without an M for good. A push from inside a poll first CASes `PUSHING`
//! in (failing if the P was retaken, and then the task goes to the global
//! queue), so the ring always has a single pusher: the retaking CAS cannot
//! succeed during a push.
//!
//! # Shutdown
//!
//! Dropping the [`Runtime`] stops the workers, waits for them, closes the
//! queues and the registry, and cancels every unfinished task: its future
//! is dropped exactly once, and its `JoinHandle` returns
//! `Err(JoinError::Cancelled)`.

use core::cell::{Cell, RefCell};
use core::future::Future;
use core::panic::Location;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use std::time::Duration;

use crossbeam_utils::CachePadded;

use crate::dump::{Deadlock, Dump, TaskInfo};
#[cfg(doc)]
use crate::policy::GLOBAL_EVERY;
use crate::policy::{GlobalFifo, Scheduling, WorkStealing};
use crate::primitives::{
    Arc, AtomicBool, AtomicU64, AtomicUsize, Condvar, JoinHandle as ThreadHandle, Mutex, Ordering,
    Parker, Unparked, fence, lock, spawn_thread, yield_thread,
};
use crate::registry::Registry;
use crate::task::{Header, JoinHandle, Notified, TaskState, new_task};
use crate::timer::Timers;

const IN_POLL: u64 = 1;
const PUSHING: u64 = 2;
const EPOCH_SHIFT: u32 = 2;

/// How long a poll may hold its P before the monitor hands the P to a new
/// M (Go's sysmon preempts after 10 ms as well).
#[cfg_attr(loom, allow(dead_code))]
pub(crate) const STUCK_AFTER: Duration = Duration::from_millis(10);

/// How long a spare M (one whose P was retaken) waits to be handed another
/// P before its thread exits.
#[cfg_attr(loom, allow(dead_code))]
pub(crate) const SPARE_M_IDLE: Duration = Duration::from_secs(10);

/// The monitor's period while some P is polling (and its longest sleep
/// while none is).
#[cfg(not(loom))]
const MONITOR_BUSY_TICK: Duration = Duration::from_millis(2);
#[cfg(not(loom))]
const MONITOR_IDLE_TICK: Duration = Duration::from_millis(10);

/// Steal attempts of a searching worker before it parks.
const SEARCH_ROUNDS: u32 = 2;

/// The queueing policy of a runtime (see [`Builder::policy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Policy {
    /// Go's GMP policy: a local queue and `runnext` slot per P, a global
    /// queue, work stealing. The default.
    #[default]
    WorkStealing,
    /// One global FIFO shared by every worker: a baseline for benchmarks.
    GlobalFifo,
}

/// Configures a [`Runtime`]: `Runtime::builder().procs(4).build()`.
#[derive(Debug, Clone)]
pub struct Builder {
    procs: usize,
    name: String,
    policy: Policy,
    deadlock_grace: Option<Duration>,
    park: Option<ParkHook>,
}

/// A park hook ([`Builder::park_with`]); not called under loom.
#[derive(Clone)]
#[cfg_attr(loom, allow(dead_code))]
struct ParkHook(Arc<dyn Fn(Unparked<'_>) + Send + Sync>);

impl std::fmt::Debug for ParkHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ParkHook(..)")
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            procs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            name: "hoare-sched".into(),
            policy: Policy::WorkStealing,
            deadlock_grace: None,
            park: None,
        }
    }
}

impl Builder {
    /// How many goroutines may be polled at once (Go's `GOMAXPROCS`): the
    /// number of Ps and worker threads. Default: the available cores.
    ///
    /// # Panics
    /// If `n` is 0.
    pub fn procs(mut self, n: usize) -> Self {
        assert!(
            n > 0,
            "hoare_sched::Builder::procs: a runtime needs at least one P (procs >= 1)"
        );
        assert!(
            n <= 1 << 16,
            "hoare_sched::Builder::procs: {n} Ps is more than the supported 65536"
        );
        self.procs = n;
        self
    }

    /// The worker threads' name prefix.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The queueing policy (default [`Policy::WorkStealing`]).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Turns on the deadlock check of [`Runtime::block_on`]: when every
    /// task, and the future `block_on` runs, has waited for `grace` with no
    /// wake-up, no armed timer and no [`crate::block_in_place`] running,
    /// nothing can make progress any more (Go's "all goroutines are
    /// asleep"): `block_on` panics with a report naming the waiting tasks
    /// and [`Runtime::try_block_on`] returns it.
    ///
    /// Off by default. A task may wait for something outside the runtime
    /// (another thread, a socket), which this check cannot see; choose a
    /// grace period longer than such waits.
    ///
    /// # Panics
    /// If `grace` is zero.
    pub fn detect_deadlock(mut self, grace: Duration) -> Self {
        assert!(
            !grace.is_zero(),
            "hoare_sched::Builder::detect_deadlock: the grace period must be above zero"
        );
        self.deadlock_grace = Some(grace);
        self
    }

    /// How an idle worker waits for work: `hook` is called with an
    /// [`Unparked`] future and must block the thread until that future is
    /// ready (new work, or shutdown), which is exactly what a reactor's
    /// `block_on` does. By default a worker sleeps on a futex.
    ///
    /// This is where an I/O reactor plugs in, as Go's idle Ms poll the
    /// network: with `async_io::block_on` as the hook, an idle worker waits
    /// in the reactor's epoll and handles its readiness events itself,
    /// waking the goroutines whose sockets are ready, instead of leaving
    /// that to the reactor's own thread and being woken by it.
    ///
    /// ```
    /// let rt = hoare_sched::Runtime::builder()
    ///     .procs(2)
    ///     // Any `block_on` that parks the thread until the future's waker
    ///     // is called works; a reactor's `block_on` also runs its reactor.
    ///     .park_with(|unparked| futures::executor::block_on(unparked))
    ///     .build();
    /// assert_eq!(rt.block_on(rt.spawn(async { 6 * 7 })).unwrap(), 42);
    /// ```
    ///
    /// The hook runs on the worker threads only while they have nothing to
    /// do, with no lock held; it should return soon after the future is
    /// ready. A hook that returns before the future is ready, or panics,
    /// makes the worker wait on its futex as usual. (Under loom the hook is not
    /// called.)
    pub fn park_with(mut self, hook: impl Fn(Unparked<'_>) + Send + Sync + 'static) -> Self {
        self.park = Some(ParkHook(Arc::new(hook)));
        self
    }

    /// Starts the runtime: `procs` worker threads and the monitor thread.
    ///
    /// # Panics
    /// If the OS refuses to start a thread.
    pub fn build(self) -> Runtime {
        let procs = self.procs;
        let policy: Box<dyn Scheduling> = match self.policy {
            Policy::WorkStealing => Box::new(WorkStealing::new(procs)),
            Policy::GlobalFifo => Box::new(GlobalFifo::new()),
        };
        let shared = Arc::new(Shared {
            policy,
            ps: (0..procs).map(|_| P::new(self.park.is_some())).collect(),
            idle: Idle {
                searching: CachePadded::new(AtomicUsize::new(0)),
                num_idle: CachePadded::new(AtomicUsize::new(0)),
                sleepers: Mutex::new(Vec::with_capacity(procs)),
            },
            registry: Registry::new(procs * 4),
            timers: Timers::new(),
            next_id: CachePadded::new(AtomicU64::new(1)),
            serial: RUNTIMES.fetch_add(1, core::sync::atomic::Ordering::Relaxed),
            activity: AtomicU64::new(0),
            shutdown: AtomicBool::new(false),
            blocking: AtomicUsize::new(0),
            main_waiting: AtomicBool::new(false),
            procs,
            name: self.name,
            deadlock_grace: self.deadlock_grace,
            park: self.park,
            threads: Mutex::new(Vec::new()),
            spare: SpareMs {
                state: Mutex::new(Spare::default()),
                wake: Condvar::new(),
            },
        });
        for p in 0..procs {
            shared
                .start_worker(p, 0)
                .expect("hoare_sched: could not start a worker thread");
        }
        #[cfg(not(loom))]
        {
            let s = shared.clone();
            let h = spawn_thread(format!("{}-monitor", shared.name), move || monitor_main(s))
                .expect("hoare_sched: could not start the monitor thread");
            lock(&shared.threads).push(h);
        }
        Runtime { shared }
    }
}

/// A Go-style runtime: `procs` workers that run goroutines (futures).
///
/// ```
/// use hoare_sched::{Runtime, go};
///
/// let rt = Runtime::builder().procs(2).build();
/// let sum = rt.block_on(async {
///     let handles: Vec<_> = (0..10u64).map(|i| go(async move { i * i })).collect();
///     let mut sum = 0;
///     for h in handles {
///         sum += h.await.unwrap();
///     }
///     sum
/// });
/// assert_eq!(sum, 285);
/// ```
pub struct Runtime {
    shared: Arc<Shared>,
}

impl core::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Runtime")
            .field("procs", &self.shared.procs)
            .field("tasks", &self.shared.registry.len())
            .finish()
    }
}

impl Runtime {
    /// A builder with the defaults (procs = available cores, work
    /// stealing, no deadlock check).
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// A runtime with the defaults.
    pub fn new() -> Runtime {
        Builder::default().build()
    }

    /// The number of Ps.
    pub fn procs(&self) -> usize {
        self.shared.procs
    }

    /// Starts `future` as a goroutine.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.spawn(future, None, Location::caller())
    }

    /// Starts `future` as a goroutine with a name, shown by [`Runtime::dump`].
    #[track_caller]
    pub fn spawn_named<F>(&self, name: &str, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared
            .spawn(future, Some(name.into()), Location::caller())
    }

    /// Runs `future` on the calling thread to completion, while the
    /// workers run the goroutines; inside it, [`crate::go`] and the timers
    /// work.
    ///
    /// # Panics
    /// When called inside a runtime (from a goroutine or another
    /// `block_on`), and with the deadlock report when the deadlock check
    /// ([`Builder::detect_deadlock`]) finds that nothing can progress.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        match self.try_block_on(future) {
            Ok(v) => v,
            Err(d) => panic!("{d}"),
        }
    }

    /// As [`Runtime::block_on`], but a deadlock found by the deadlock check
    /// is returned as `Err` (the future is dropped) instead of a panic.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = hoare_sched::Runtime::builder()
    ///     .procs(1)
    ///     .detect_deadlock(Duration::from_millis(50))
    ///     .build();
    /// let (_tx, rx) = hoare_chan::bounded::<u32>(0);
    /// let err = rt.try_block_on(async move { rx.recv_async().await }).unwrap_err();
    /// assert!(err.to_string().contains("deadlock"));
    /// ```
    pub fn try_block_on<F: Future>(&self, future: F) -> Result<F::Output, Deadlock> {
        assert!(
            !in_runtime(),
            "hoare_sched: Runtime::block_on cannot be called inside a runtime (it would block a worker); use .await"
        );
        let _enter = Enter::new(&self.shared);
        let shared = &self.shared;
        run_on_thread(future, |main| {
            let Some(grace) = shared.deadlock_grace else {
                main.park();
                return Ok(());
            };
            loop {
                let before = shared.activity.load(Ordering::SeqCst);
                shared.main_waiting.store(true, Ordering::SeqCst);
                let woken = main.park_timeout(grace);
                shared.main_waiting.store(false, Ordering::SeqCst);
                if woken {
                    return Ok(());
                }
                if shared.quiescent(before) {
                    return Err(Deadlock::new(shared.dump()));
                }
            }
        })
    }

    /// Every live task: id, state, spawn location, name (Go's goroutine
    /// dump).
    ///
    /// ```
    /// let rt = hoare_sched::Runtime::builder().procs(1).build();
    /// let (tx, rx) = hoare_chan::bounded::<()>(0);
    /// let h = rt.spawn_named("waiter", async move { rx.recv_async().await });
    /// std::thread::sleep(std::time::Duration::from_millis(20));
    /// let dump = rt.dump();
    /// assert!(dump.tasks().iter().any(|t| t.name() == Some("waiter")));
    /// drop(tx);
    /// rt.block_on(h).unwrap().unwrap_err();
    /// ```
    pub fn dump(&self) -> Dump {
        self.shared.dump()
    }
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime::new()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if core::ptr::eq(CURRENT.with(Cell::get).shared, &*self.shared) {
            // Dropped inside one of its own goroutines: this worker cannot
            // wait for itself, and no task may be cancelled while a worker
            // could still run it. A thread of its own does the shutdown,
            // once this worker has returned to its loop and stopped.
            let shared = self.shared.clone();
            shared.shutdown.store(true, Ordering::SeqCst);
            let _ = spawn_thread(format!("{}-shutdown", shared.name), move || {
                shared.shut_down();
            });
            return;
        }
        self.shared.shut_down();
    }
}

/// The runtime's state shared by its threads, tasks and wakers.
pub(crate) struct Shared {
    policy: Box<dyn Scheduling>,
    ps: Box<[P]>,
    idle: Idle,
    registry: Registry,
    pub(crate) timers: Timers,
    /// The next id no thread has taken yet; threads take [`ID_BATCH`] at
    /// a time (see [`Shared::new_id`]).
    next_id: CachePadded<AtomicU64>,
    /// This runtime's number among the process's runtimes: the key of a
    /// thread's cached ids.
    #[cfg_attr(loom, allow(dead_code))]
    serial: u64,
    /// Wake-ups and spawns, counted only when the deadlock check is on.
    activity: AtomicU64,
    shutdown: AtomicBool,
    /// `block_in_place` calls running.
    blocking: AtomicUsize,
    /// `block_on`'s future is waiting (deadlock check).
    main_waiting: AtomicBool,
    procs: usize,
    name: String,
    deadlock_grace: Option<Duration>,
    /// How idle workers wait ([`Builder::park_with`]).
    park: Option<ParkHook>,
    threads: Mutex<Vec<ThreadHandle>>,
    /// Ms whose P was retaken, waiting for another (module docs).
    spare: SpareMs,
}

/// The spare Ms (Go's idle M list) and the Ps handed to them.
struct SpareMs {
    state: Mutex<Spare>,
    /// Signalled when a P is handed over, and at shutdown.
    wake: Condvar,
}

#[derive(Default)]
struct Spare {
    /// Spare Ms waiting on `wake`.
    waiting: usize,
    /// Retaken Ps (with their new epoch) not yet taken by an M.
    handoffs: Vec<(usize, u64)>,
}

/// One P's shared state (its run queue lives in the policy).
struct P {
    /// `epoch << EPOCH_SHIFT | IN_POLL | PUSHING` (module docs).
    status: CachePadded<AtomicU64>,
    /// Polls started by the P's M; the monitor watches for one that does
    /// not change.
    polls: AtomicU64,
    parker: Parker,
}

impl P {
    /// A P whose M parks through a hook if `hooked`.
    fn new(hooked: bool) -> Self {
        P {
            status: CachePadded::new(AtomicU64::new(0)),
            polls: AtomicU64::new(0),
            parker: if hooked {
                Parker::driven()
            } else {
                Parker::new()
            },
        }
    }
}

struct Idle {
    searching: CachePadded<AtomicUsize>,
    num_idle: CachePadded<AtomicUsize>,
    /// Ps whose M is parked (or about to park).
    sleepers: Mutex<Vec<usize>>,
}

impl Shared {
    /// Starts an M for P `p` in `epoch`.
    fn start_worker(self: &Arc<Self>, p: usize, epoch: u64) -> std::io::Result<()> {
        let s = self.clone();
        let h = spawn_thread(format!("{}-worker-{p}", self.name), move || {
            worker_main(s, p, epoch);
        })?;
        lock(&self.threads).push(h);
        Ok(())
    }

    /// Gives P `p` in `epoch` (just retaken) to an M: a waiting spare M,
    /// else a new thread, else the next M to become spare.
    fn hand_p(self: &Arc<Self>, p: usize, epoch: u64) {
        {
            let mut spare = lock(&self.spare.state);
            if spare.waiting > spare.handoffs.len() {
                spare.handoffs.push((p, epoch));
                drop(spare);
                self.spare.wake.notify_one();
                return;
            }
        }
        if let Err(e) = self.start_worker(p, epoch) {
            eprintln!(
                "hoare_sched: could not start a worker thread for P {p} ({e}); the P waits \
                 for the next worker whose P was handed off"
            );
            lock(&self.spare.state).handoffs.push((p, epoch));
            self.spare.wake.notify_one();
        }
    }

    /// The calling M's P was retaken: waits as a spare M for a P to be
    /// handed to it; `None` at shutdown or after [`SPARE_M_IDLE`] without
    /// one (the thread then exits).
    fn wait_for_p(&self) -> Option<(usize, u64)> {
        let mut spare = lock(&self.spare.state);
        loop {
            // Under the lock: `shut_down` sets the flag before it takes the
            // lock to notify, so the flag or the notification reaches us.
            if self.is_shutdown() {
                return None;
            }
            if let Some(handoff) = spare.handoffs.pop() {
                return Some(handoff);
            }
            spare.waiting += 1;
            #[cfg(not(loom))]
            let (guard, timeout) = self
                .spare
                .wake
                .wait_timeout(spare, SPARE_M_IDLE)
                .unwrap_or_else(|e| e.into_inner());
            #[cfg(loom)]
            let (guard, timeout) = (
                self.spare
                    .wake
                    .wait(spare)
                    .unwrap_or_else(|e| e.into_inner()),
                false,
            );
            #[cfg(not(loom))]
            let timeout = timeout.timed_out();
            spare = guard;
            spare.waiting -= 1;
            if timeout && spare.handoffs.is_empty() && !self.is_shutdown() {
                return None;
            }
        }
    }

    pub(crate) fn spawn<F>(
        self: &Arc<Self>,
        future: F,
        name: Option<Box<str>>,
        location: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let id = self.new_id();
        let (notified, join, task) = new_task(future, self.clone(), id, location, name);
        if let Err(task) = self.registry.insert(task) {
            // Shut down: the task is cancelled before it ever runs.
            task.shutdown();
            drop(notified);
            return join;
        }
        self.schedule(notified);
        join
    }

    /// A task id unique in this runtime. Each thread takes [`ID_BATCH`]
    /// ids from the shared counter at a time and hands them out from a
    /// thread-local cache keyed by the runtime's serial number, so that
    /// workers spawning at once do not pass the counter's cache line back
    /// and forth on every spawn (Go's per-P `goidcache` does the same).
    /// Ids are therefore unique, not in spawn order across threads.
    #[cfg(not(loom))]
    fn new_id(&self) -> u64 {
        ID_CACHE.with(|c| {
            let mut cache = c.get();
            if cache.runtime != self.serial || cache.next == cache.end {
                // Relaxed: ids only need to be unique.
                let start = self.next_id.fetch_add(ID_BATCH, Ordering::Relaxed);
                cache = IdCache {
                    runtime: self.serial,
                    next: start,
                    end: start + ID_BATCH,
                };
            }
            let id = cache.next;
            cache.next += 1;
            c.set(cache);
            id
        })
    }

    /// Under loom: one id at a time (the cache is an optimisation only).
    #[cfg(loom)]
    fn new_id(&self) -> u64 {
        // Relaxed: ids only need to be unique.
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Counts a wake-up for the deadlock check.
    #[inline]
    pub(crate) fn note_wake(&self) {
        if self.deadlock_grace.is_some() {
            self.activity.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Queues a woken (or new) task: into the current P's `runnext` when
    /// called from a poll on one of our workers, else the global queue.
    pub(crate) fn schedule(&self, task: Notified) {
        self.note_wake();
        self.push(task, true);
    }

    /// Queues a task that was woken while it ran (it yielded): behind the
    /// others of its P.
    pub(crate) fn schedule_yield(&self, task: Notified) {
        self.push(task, false);
    }

    fn push(&self, task: Notified, next: bool) {
        let cur = CURRENT.with(Cell::get);
        let task = if core::ptr::eq(cur.shared, self) && cur.p != NO_P {
            match self.push_local(cur.p, cur.epoch, task, next) {
                Ok(false) => return,
                Ok(true) => {
                    self.notify_work();
                    return;
                }
                Err(task) => task,
            }
        } else {
            task
        };
        self.policy.push_remote(task);
        self.notify_work();
    }

    /// Pushes onto P `p`'s queue from inside a poll of its M (module docs,
    /// handoff); gives the task back if the P was retaken. `Ok(true)`: the
    /// push left work in the ring, for which an idle worker may be woken.
    fn push_local(
        &self,
        p: usize,
        epoch: u64,
        task: Notified,
        next: bool,
    ) -> Result<bool, Notified> {
        let status = &self.ps[p].status;
        let polling = epoch << EPOCH_SHIFT | IN_POLL;
        // Acquire: after a failed retake nothing to order; the CAS only has
        // to exclude the monitor's (which needs `polling` exactly).
        if status
            .compare_exchange(
                polling,
                polling | PUSHING,
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .is_err()
        {
            return Err(task);
        }
        let spread = self.policy.push_local(p, task, next);
        // Release: our ring writes precede a retaker's use of the P.
        status.store(polling, Ordering::Release);
        Ok(spread)
    }

    /// Wakes an idle worker if work was queued and nobody is searching.
    fn notify_work(&self) {
        // SeqCst fence: the pusher's half of the parking protocol (module
        // docs): the push above is ordered before the loads below.
        fence(Ordering::SeqCst);
        if self.idle.searching.load(Ordering::SeqCst) != 0
            || self.idle.num_idle.load(Ordering::SeqCst) == 0
        {
            return;
        }
        self.wake_idle();
    }

    fn wake_idle(&self) {
        let mut s = lock(&self.idle.sleepers);
        if let Some(p) = s.pop() {
            self.idle.num_idle.fetch_sub(1, Ordering::SeqCst);
            // The woken worker starts as a searcher.
            self.idle.searching.fetch_add(1, Ordering::SeqCst);
            drop(s);
            self.ps[p].parker.unpark();
        }
    }

    fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    /// A task completed: it leaves the registry.
    pub(crate) fn task_done(&self, h: &Header) {
        self.registry.remove(h);
    }

    /// Gives P `p`, held by an M in its `epoch`, to another M; `false` if
    /// it was retaken already.
    fn retake(self: &Arc<Self>, p: usize, epoch: u64) -> bool {
        let status = &self.ps[p].status;
        let polling = epoch << EPOCH_SHIFT | IN_POLL;
        loop {
            // AcqRel: Acquire sees the old M's ring writes (its Release
            // after each push); Release hands the P to the new M.
            match status.compare_exchange(
                polling,
                (epoch + 1) << EPOCH_SHIFT,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                // The old M is mid-push: a few instructions.
                Err(s) if s == polling | PUSHING => yield_thread(),
                Err(_) => return false,
            }
        }
        if !self.is_shutdown() {
            self.hand_p(p, epoch + 1);
        }
        true
    }

    /// No task can make progress: nothing ran or was woken since
    /// `before`, no task is queued or running, no timer is armed, no
    /// `block_in_place` runs, and `block_on`'s future waits.
    fn quiescent(&self, before: u64) -> bool {
        if self.timers.pending() != 0
            || self.blocking.load(Ordering::SeqCst) != 0
            || self.policy.has_work()
            || self.activity.load(Ordering::SeqCst) != before
        {
            return false;
        }
        let mut busy = false;
        self.registry.for_each(|h| {
            busy |= matches!(h.task_state(), TaskState::Running | TaskState::Runnable);
        });
        !busy && self.activity.load(Ordering::SeqCst) == before
    }

    fn dump(&self) -> Dump {
        let mut tasks = Vec::with_capacity(self.registry.len());
        self.registry.for_each(|h| {
            tasks.push(TaskInfo::new(
                h.id,
                h.task_state(),
                h.location,
                h.name.as_deref(),
            ));
        });
        tasks.sort_by_key(TaskInfo::id);
        Dump::new(tasks, self.main_waiting.load(Ordering::SeqCst))
    }

    fn shut_down(self: &Arc<Self>) {
        self.shutdown.store(true, Ordering::SeqCst);
        for p in self.ps.iter() {
            p.parker.unpark();
        }
        drop(lock(self.timers.heap()));
        self.timers.changed.notify_all();
        drop(lock(&self.spare.state));
        self.spare.wake.notify_all();
        // Never on a thread of this runtime (`Runtime::drop`). A retake may
        // start an M meanwhile: join until none is left.
        loop {
            let threads = core::mem::take(&mut *lock(&self.threads));
            if threads.is_empty() {
                break;
            }
            for t in threads {
                let _ = t.join();
            }
        }
        let mut queued = Vec::new();
        self.policy.close_and_drain(&mut queued);
        drop(queued);
        for task in self.registry.close() {
            task.shutdown();
        }
        self.timers.clear();
    }
}

/// Ids a thread takes from a runtime's counter at a time.
pub(crate) const ID_BATCH: u64 = 64;

/// Runtimes made so far in this process, plus one: the next
/// [`Shared::serial`]. A std atomic even under loom: a number, not a
/// synchronisation the models explore.
static RUNTIMES: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(1);

/// A thread's cached task ids: `next..end` of runtime `runtime`.
#[derive(Clone, Copy)]
#[cfg_attr(loom, allow(dead_code))]
struct IdCache {
    runtime: u64,
    next: u64,
    end: u64,
}

#[cfg(not(loom))]
std::thread_local! {
    static ID_CACHE: Cell<IdCache> = const { Cell::new(IdCache { runtime: 0, next: 0, end: 0 }) };
}

/// Marks P slots in [`Current`] as "none".
const NO_P: usize = usize::MAX;

/// What the calling thread is to the runtime: which runtime (by address),
/// and which P it holds, if it is a worker.
#[derive(Clone, Copy)]
struct Current {
    shared: *const Shared,
    p: usize,
    epoch: u64,
}

#[cfg(not(loom))]
std::thread_local! {
    static CURRENT: Cell<Current> = const {
        Cell::new(Current { shared: core::ptr::null(), p: NO_P, epoch: 0 })
    };
    static CURRENT_SHARED: RefCell<Option<Arc<Shared>>> = const { RefCell::new(None) };
}

#[cfg(loom)]
loom::thread_local! {
    static CURRENT: Cell<Current> = Cell::new(Current { shared: core::ptr::null(), p: NO_P, epoch: 0 });
    static CURRENT_SHARED: RefCell<Option<Arc<Shared>>> = RefCell::new(None);
}

/// The runtime the calling thread belongs to (a worker, or `block_on`).
pub(crate) fn current_shared() -> Option<Arc<Shared>> {
    CURRENT_SHARED.with(|c| c.borrow().clone())
}

/// Runs `f` on the runtime the calling thread belongs to, without taking a
/// reference to it (`go` on a hot path: a clone and a drop of the `Arc`
/// would pass its count's cache line between the workers at every spawn);
/// `None` outside a runtime.
pub(crate) fn with_current_shared<R>(f: impl FnOnce(&Arc<Shared>) -> R) -> Option<R> {
    let ptr = CURRENT.with(Cell::get).shared;
    if ptr.is_null() {
        return None;
    }
    // SAFETY: `ptr` is `Arc::as_ptr` of the `Arc<Shared>` that the
    // thread's innermost `Enter` stored in `CURRENT_SHARED` when it set
    // `CURRENT`; that `Arc` stays alive until the `Enter` is dropped, which
    // restores `CURRENT` first, and an `Enter` nested inside `f` (a
    // `block_on` in a drop) moves it into its `prev_shared`, which keeps it
    // alive too. So the count is at least one for as long as `f` runs, and
    // the `ManuallyDrop` never decrements it.
    let shared = core::mem::ManuallyDrop::new(unsafe { Arc::from_raw(ptr) });
    Some(f(&shared))
}

/// Whether the calling thread is a worker of some runtime or inside
/// `block_on`.
pub(crate) fn in_runtime() -> bool {
    !CURRENT.with(Cell::get).shared.is_null()
}

/// Sets the thread's [`Current`] for its lifetime; restores on drop.
struct Enter {
    prev: Current,
    prev_shared: Option<Arc<Shared>>,
}

impl Enter {
    fn new(shared: &Arc<Shared>) -> Enter {
        Enter::worker(shared, NO_P, 0)
    }

    fn worker(shared: &Arc<Shared>, p: usize, epoch: u64) -> Enter {
        let prev = CURRENT.with(|c| {
            c.replace(Current {
                shared: Arc::as_ptr(shared),
                p,
                epoch,
            })
        });
        let prev_shared = CURRENT_SHARED.with(|c| c.replace(Some(shared.clone())));
        Enter { prev, prev_shared }
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.prev));
        let prev = self.prev_shared.take();
        let mine = CURRENT_SHARED.with(|c| c.replace(prev));
        drop(mine);
    }
}

/// Starts `future` as a goroutine on the current runtime: Go's `go`
/// statement.
///
/// # Panics
/// Outside a hoare-sched runtime (a goroutine, or the future of
/// `block_on`).
///
/// ```
/// let rt = hoare_sched::Runtime::builder().procs(2).build();
/// let v = rt.block_on(async { hoare_sched::go(async { 1 + 1 }).await.unwrap() });
/// assert_eq!(v, 2);
/// ```
#[track_caller]
pub fn go<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let location = Location::caller();
    with_current_shared(|shared| shared.spawn(future, None, location))
        .expect("hoare_sched::go must be called inside a hoare-sched runtime (a goroutine or Runtime::block_on)")
}

/// As [`go`], with a name shown by [`Runtime::dump`].
///
/// # Panics
/// As [`go`].
#[track_caller]
pub fn go_named<F>(name: &str, future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let location = Location::caller();
    with_current_shared(|shared| shared.spawn(future, Some(name.into()), location))
        .expect("hoare_sched::go_named must be called inside a hoare-sched runtime (a goroutine or Runtime::block_on)")
}

/// Lets the other goroutines of this P run before the calling one goes on
/// (Go's `runtime.Gosched`): the task goes to the back of its P's queue.
///
/// ```
/// let rt = hoare_sched::Runtime::builder().procs(1).build();
/// rt.block_on(async { hoare_sched::yield_now().await });
/// ```
pub async fn yield_now() {
    let mut yielded = false;
    core::future::poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await;
}

/// Runs `f`, which may block its thread (a blocking syscall, a long
/// computation), without stopping the other goroutines: the calling
/// worker's P, with its queue, goes to another worker thread first (a
/// spare one if one waits, else a new one), as Go does for a goroutine
/// that enters a blocking syscall. The calling thread finishes its current
/// poll without a P and then waits as a spare for the next handoff.
///
/// Outside a worker (in `block_on`, or on any other thread) it just runs
/// `f`.
///
/// ```
/// let rt = hoare_sched::Runtime::builder().procs(1).build();
/// let v = rt.block_on(rt.spawn(async {
///     hoare_sched::block_in_place(|| {
///         std::thread::sleep(std::time::Duration::from_millis(5));
///         7
///     })
/// }));
/// assert_eq!(v.unwrap(), 7);
/// ```
pub fn block_in_place<R>(f: impl FnOnce() -> R) -> R {
    let Some(shared) = current_shared() else {
        return f();
    };
    shared.blocking.fetch_add(1, Ordering::SeqCst);
    struct Done<'a>(&'a Shared);
    impl Drop for Done<'_> {
        fn drop(&mut self) {
            self.0.blocking.fetch_sub(1, Ordering::SeqCst);
        }
    }
    let _done = Done(&shared);
    let cur = CURRENT.with(Cell::get);
    if cur.p != NO_P && core::ptr::eq(cur.shared, &*shared) {
        // From now on this thread pushes to the global queue.
        CURRENT.with(|c| {
            c.set(Current {
                p: NO_P,
                epoch: 0,
                ..cur
            })
        });
        shared.retake(cur.p, cur.epoch);
    }
    f()
}

/// The life of an M: the worker loop while it holds P `p` in `epoch`,
/// then, once that P was retaken, as a spare M that may be handed another
/// (module docs).
fn worker_main(shared: Arc<Shared>, mut p: usize, mut epoch: u64) {
    loop {
        {
            let _enter = Enter::worker(&shared, p, epoch);
            let mut w = Worker {
                shared: &shared,
                p,
                epoch,
                tick: 0,
                streak: 0,
                searching: false,
            };
            w.run();
        }
        match shared.wait_for_p() {
            Some((q, e)) => (p, epoch) = (q, e),
            None => return,
        }
    }
}

struct Worker<'a> {
    shared: &'a Arc<Shared>,
    p: usize,
    epoch: u64,
    tick: u32,
    streak: u32,
    searching: bool,
}

impl Worker<'_> {
    fn run(&mut self) {
        let ps = &self.shared.ps[self.p];
        let idle = self.epoch << EPOCH_SHIFT;
        loop {
            if self.shared.is_shutdown() {
                break;
            }
            let Some(task) = self.find_task() else {
                self.park();
                continue;
            };
            if self.searching {
                self.stop_searching();
            }
            self.tick = self.tick.wrapping_add(1);
            // Relaxed: the monitor only compares successive values.
            ps.polls.store(u64::from(self.tick), Ordering::Relaxed);
            // Release: a retaking CAS that reads this (AcqRel) sees our
            // ring writes made before the poll (a Relaxed store would end
            // the release sequence of the last CAS).
            ps.status.store(idle | IN_POLL, Ordering::Release);
            task.run();
            // AcqRel: Acquire pairs with a retake's Release.
            if ps
                .status
                .compare_exchange(idle | IN_POLL, idle, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
            {
                // Retaken while we polled: the P has a new M. Leave. (Not
                // searching: a worker stops searching before it polls.)
                return;
            }
        }
        if self.searching {
            self.searching = false;
            self.shared.idle.searching.fetch_sub(1, Ordering::SeqCst);
        }
    }

    fn find_task(&mut self) -> Option<Notified> {
        let policy = &self.shared.policy;
        if let Some(t) = policy.pop(self.p, self.tick, &mut self.streak) {
            return Some(t);
        }
        if !self.searching {
            let searching = self.shared.idle.searching.load(Ordering::SeqCst);
            if searching > 0 && 2 * searching >= self.shared.procs {
                return None;
            }
            self.shared.idle.searching.fetch_add(1, Ordering::SeqCst);
            self.searching = true;
        }
        let shared = self.shared;
        let busy = |q: usize| shared.ps[q].status.load(Ordering::Relaxed) & IN_POLL != 0;
        for _ in 0..SEARCH_ROUNDS {
            if let Some(t) = policy.steal(self.p, &busy) {
                return Some(t);
            }
            if self.shared.is_shutdown() {
                return None;
            }
            yield_thread();
        }
        None
    }

    fn stop_searching(&mut self) {
        self.searching = false;
        if self.shared.idle.searching.fetch_sub(1, Ordering::SeqCst) == 1 {
            // The last searcher found work: there may be more; wake
            // another worker to look (Go's `resetspinning`).
            self.shared.notify_work();
        }
    }

    /// Parks until woken (module docs); the re-check may return at once.
    fn park(&mut self) {
        let idle = &self.shared.idle;
        let was_searching = self.searching;
        if self.searching {
            self.searching = false;
            idle.searching.fetch_sub(1, Ordering::SeqCst);
        }
        {
            let mut s = lock(&idle.sleepers);
            s.push(self.p);
            idle.num_idle.fetch_add(1, Ordering::SeqCst);
        }
        // SeqCst fence: the parker's half of the protocol.
        fence(Ordering::SeqCst);
        // A worker that was not allowed to search leaves queued work to
        // the searchers while there is one (Go's non-spinning M drops its
        // P the same way): that searcher takes the work, or gives up and
        // parks after this point, and then its own re-check below (it
        // was searching) sees the work; a searcher that finds work while
        // others wait wakes one (`stop_searching`). Without this a
        // non-searcher would go round `find_task` and this re-check until
        // the searcher took the task.
        let leave_to_searchers = !was_searching && idle.searching.load(Ordering::SeqCst) > 0;
        if (leave_to_searchers || !self.shared.policy.has_work()) && !self.shared.is_shutdown() {
            let parker = &self.shared.ps[self.p].parker;
            match &self.shared.park {
                #[cfg(not(loom))]
                Some(hook) => parker.park_driven(&*hook.0),
                _ => parker.park(),
            }
        }
        let mut s = lock(&idle.sleepers);
        if let Some(i) = s.iter().position(|&q| q == self.p) {
            s.swap_remove(i);
            idle.num_idle.fetch_sub(1, Ordering::SeqCst);
        } else {
            // A pusher took us off the list and counted us as searching.
            self.searching = true;
        }
    }
}

/// The monitor thread (Go's sysmon): fires timers and hands the P of a
/// worker stuck in one poll to a new worker.
#[cfg(not(loom))]
fn monitor_main(shared: Arc<Shared>) {
    use std::time::Instant;
    // Per P: the (status, polls) pair last seen, and since when.
    let mut seen: Vec<((u64, u64), Instant)> = vec![((0, 0), Instant::now()); shared.procs];
    let mut heap = lock(shared.timers.heap());
    loop {
        if shared.is_shutdown() {
            return;
        }
        let now = Instant::now();
        let (next_timer, due) = shared.timers.fire_due(&mut heap, now);
        if !due.is_empty() {
            drop(heap);
            for w in due {
                w.wake();
            }
            heap = lock(shared.timers.heap());
            continue;
        }
        let mut retake = Vec::new();
        let mut polling = false;
        for (p, ps) in shared.ps.iter().enumerate() {
            let key = (
                ps.status.load(Ordering::Relaxed),
                ps.polls.load(Ordering::Relaxed),
            );
            if key.0 & IN_POLL == 0 {
                seen[p] = (key, now);
                continue;
            }
            polling = true;
            if key != seen[p].0 {
                seen[p] = (key, now);
            } else if now - seen[p].1 >= STUCK_AFTER {
                retake.push((p, key.0 >> EPOCH_SHIFT));
                seen[p] = (key, now);
            }
        }
        if !retake.is_empty() {
            drop(heap);
            for (p, epoch) in retake {
                shared.retake(p, epoch);
            }
            heap = lock(shared.timers.heap());
            continue;
        }
        let tick = if polling {
            MONITOR_BUSY_TICK
        } else {
            MONITOR_IDLE_TICK
        };
        let wait = next_timer.map_or(tick, |t| t.saturating_duration_since(now).min(tick));
        heap = shared
            .timers
            .changed
            .wait_timeout(heap, wait)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}

/// The calling thread's side of `block_on` and `JoinHandle::join`.
pub(crate) struct MainThread {
    #[cfg_attr(loom, allow(dead_code))]
    notified: std::sync::atomic::AtomicBool,
    #[cfg(not(loom))]
    thread: std::thread::Thread,
    #[cfg(loom)]
    parker: Parker,
}

impl MainThread {
    fn new() -> Self {
        MainThread {
            notified: std::sync::atomic::AtomicBool::new(false),
            #[cfg(not(loom))]
            thread: std::thread::current(),
            #[cfg(loom)]
            parker: Parker::new(),
        }
    }

    /// Blocks until woken.
    fn park(&self) {
        #[cfg(not(loom))]
        while !self
            .notified
            .swap(false, std::sync::atomic::Ordering::Acquire)
        {
            std::thread::park();
        }
        #[cfg(loom)]
        self.parker.park();
    }

    /// Blocks until woken (`true`) or until `d` passed (`false`).
    fn park_timeout(&self, d: Duration) -> bool {
        #[cfg(not(loom))]
        {
            let deadline = std::time::Instant::now() + d;
            loop {
                if self
                    .notified
                    .swap(false, std::sync::atomic::Ordering::Acquire)
                {
                    return true;
                }
                let now = std::time::Instant::now();
                if now >= deadline {
                    return false;
                }
                std::thread::park_timeout(deadline - now);
            }
        }
        #[cfg(loom)]
        {
            let _ = d;
            self.parker.park();
            true
        }
    }
}

impl std::task::Wake for MainThread {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        #[cfg(not(loom))]
        {
            self.notified
                .store(true, std::sync::atomic::Ordering::Release);
            self.thread.unpark();
        }
        #[cfg(loom)]
        self.parker.unpark();
    }
}

/// Polls `future` on the calling thread; between polls `wait` blocks until
/// the waker fires (or returns an error to give up).
fn run_on_thread<F: Future, E>(
    future: F,
    mut wait: impl FnMut(&MainThread) -> Result<(), E>,
) -> Result<F::Output, E> {
    let main = std::sync::Arc::new(MainThread::new());
    let waker = Waker::from(main.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return Ok(v);
        }
        wait(&main)?;
    }
}

/// Blocks the calling thread on `future` (`JoinHandle::join`).
pub(crate) fn block_on_thread<F: Future>(future: F) -> F::Output {
    match run_on_thread(future, |m| {
        m.park();
        Ok::<(), core::convert::Infallible>(())
    }) {
        Ok(v) => v,
    }
}
