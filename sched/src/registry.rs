//! The registry of live tasks: what [`crate::Runtime::dump`] lists, what the
//! deadlock check inspects, and what shutdown cancels.
//!
//! A task is registered when it is spawned and leaves when it completes.
//! The registry holds one reference to each task (`task.rs`). It is split
//! into shards, each a slab (a vector of slots plus a free list) under its
//! own mutex, chosen by task id, so that workers spawning and finishing
//! tasks at the same time rarely meet on one lock. A task remembers its
//! slot index (`Header::slot`).
//!
//! Closing the registry (shutdown) takes every task out and refuses new
//! ones; a task spawned after that is cancelled at once.

use crate::primitives::{AtomicBool, AtomicUsize, Mutex, Ordering, lock};
use crate::task::{Header, TaskRef};

pub(crate) struct Registry {
    shards: Box<[Mutex<Shard>]>,
    closed: AtomicBool,
    live: AtomicUsize,
}

#[derive(Default)]
struct Shard {
    slots: Vec<Option<TaskRef>>,
    free: Vec<u32>,
}

impl Registry {
    pub(crate) fn new(shards: usize) -> Self {
        Registry {
            shards: (0..shards.max(1))
                .map(|_| Mutex::new(Shard::default()))
                .collect(),
            closed: AtomicBool::new(false),
            live: AtomicUsize::new(0),
        }
    }

    fn shard(&self, id: u64) -> &Mutex<Shard> {
        &self.shards[(id % self.shards.len() as u64) as usize]
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
        // Relaxed: a count for reports.
        self.live.fetch_add(1, Ordering::Relaxed);
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
                self.live.fetch_sub(1, Ordering::Relaxed);
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

    /// How many tasks are registered.
    pub(crate) fn len(&self) -> usize {
        self.live.load(Ordering::Relaxed)
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
        }
        self.live.store(0, Ordering::Relaxed);
        out
    }
}
