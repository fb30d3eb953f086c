//! The registry of live tasks: what [`crate::Runtime::dump`] lists, what the
//! deadlock check inspects, and what shutdown cancels.
//!
//! A task is registered when it is spawned and leaves when it completes.
//! The registry holds one reference to each task (`task.rs`). It is split
//! into a power of two of shards, each a slab (a vector of slots plus a
//! free list, and its own count of tasks) under its own mutex on its own
//! cache line, chosen by the task id's batch (`Registry::shard`), so that
//! workers spawning and finishing tasks at the same time rarely meet on
//! one lock or one cache line. A task remembers its slot index
//! (`Header::slot`).
//!
//! Closing the registry (shutdown) takes every task out and refuses new
//! ones; a task spawned after that is cancelled at once.

use crossbeam_utils::CachePadded;

use crate::primitives::{AtomicBool, Mutex, Ordering, lock};
use crate::runtime::ID_BATCH;
use crate::task::{Header, TaskRef};

pub(crate) struct Registry {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    /// `shards.len() - 1`; the length is a power of two.
    mask: u64,
    closed: AtomicBool,
}

#[derive(Default)]
struct Shard {
    slots: Vec<Option<TaskRef>>,
    free: Vec<u32>,
    /// Tasks registered in this shard.
    live: usize,
}

impl Registry {
    /// A registry of at least `shards` shards (rounded up to a power of two).
    pub(crate) fn new(shards: usize) -> Self {
        let n = shards.max(1).next_power_of_two();
        Registry {
            shards: (0..n)
                .map(|_| CachePadded::new(Mutex::new(Shard::default())))
                .collect(),
            mask: n as u64 - 1,
            closed: AtomicBool::new(false),
        }
    }

    /// The shard of task `id`: by its batch of [`ID_BATCH`] ids, so that
    /// the tasks one thread spawns in a row (it takes ids a batch at a
    /// time) share a shard whose lock and slots stay in that thread's
    /// cache, while two threads' batches land on different shards.
    fn shard(&self, id: u64) -> &Mutex<Shard> {
        // The cast keeps the masked value, which is below `shards.len()`.
        &self.shards[((id / ID_BATCH) & self.mask) as usize]
    }

    /// Registers a new task; gives it back if the registry is closed.
    pub(crate) fn insert(&self, task: TaskRef) -> Result<(), TaskRef> {
        let h = task.header();
        let mut s = lock(self.shard(h.id));
        // Relaxed: `close` sets the flag before it takes each shard lock,
        // which orders it with this check under the same lock.
        if self.closed.load(Ordering::Relaxed) {
            return Err(task);
        }
        let i = match s.free.pop() {
            Some(i) => i,
            None => {
                s.slots.push(None);
                u32::try_from(s.slots.len() - 1).expect("more than 2^32 tasks in one shard")
            }
        };
        // Relaxed: read by the task's completer, which runs after the task
        // was queued (a Release/Acquire chain through the state word).
        h.slot.store(i, Ordering::Relaxed);
        s.slots[i as usize] = Some(task);
        s.live += 1;
        Ok(())
    }

    /// Unregisters a completed task (a no-op once the registry is closed:
    /// shutdown took the reference already).
    pub(crate) fn remove(&self, h: &Header) {
        let taken = {
            let mut s = lock(self.shard(h.id));
            let i = h.slot.load(Ordering::Relaxed);
            let taken = s.slots.get_mut(i as usize).and_then(|slot| {
                if slot.as_ref().is_some_and(|t| core::ptr::eq(t.header(), h)) {
                    slot.take()
                } else {
                    None
                }
            });
            if taken.is_some() {
                s.free.push(i);
                s.live -= 1;
            }
            taken
        };
        // The reference goes after the lock is released: it may be the
        // last, and freeing the task must not run under the lock.
        drop(taken);
    }

    /// Runs `f` on every registered task.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Header)) {
        for shard in self.shards.iter() {
            let s = lock(shard);
            for t in s.slots.iter().flatten() {
                f(t.header());
            }
        }
    }

    /// How many tasks are registered (a sum over the shards, each counted
    /// under its lock: exact when nothing spawns or completes meanwhile).
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|shard| lock(shard).live).sum()
    }

    /// Closes the registry and takes every task out.
    pub(crate) fn close(&self) -> Vec<TaskRef> {
        // Relaxed: ordered with `insert` by the shard locks below.
        self.closed.store(true, Ordering::Relaxed);
        let mut out = Vec::new();
        for shard in self.shards.iter() {
            let mut s = lock(shard);
            out.extend(s.slots.drain(..).flatten());
            s.free.clear();
            s.live = 0;
        }
        out
    }
}
