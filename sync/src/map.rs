//! [`Map`]: Go's `sync.Map`, a concurrent map whose reads take no lock.
//!
//! # Design
//!
//! The map follows the two-table scheme of Go's `sync.Map`:
//!
//! - **The read table** is an immutable `HashMap` behind an epoch-managed
//!   atomic pointer. A lookup pins the thread's epoch, loads the pointer
//!   and searches the table: no lock, no write to a shared cache line.
//!   Tables are replaced whole, never changed in place; a replaced table is
//!   freed by crossbeam-epoch once no pinned thread can still see it.
//! - **The dirty table**, under a [`Mutex`], holds every live key of the
//!   read table plus the keys stored since the read table was made. It
//!   exists only while the read table lacks some key; the read pointer's
//!   tag bit (*amended*) says so, so a lookup that misses in a table that
//!   is not amended ends there without the lock.
//! - **Promotion.** Every lookup that misses the read table and has to take
//!   the lock counts a miss. Once the misses reach the dirty table's
//!   length, the dirty table becomes the new read table (a pointer swap,
//!   no copy), so the cost of the misses pays for the copy that the next
//!   new key will make.
//!
//! Both tables map a key to the same shared [`Entry`], a cell holding an
//! epoch-managed pointer to the current value. So changing the value of a
//! key that is in the read table is a compare-and-swap on its entry, again
//! without the lock: only *new* keys go through the dirty table. An entry's
//! pointer is in one of three states:
//!
//! | pointer           | meaning                                                        |
//! |-------------------|----------------------------------------------------------------|
//! | a value           | the key is present                                             |
//! | null              | deleted; still in the dirty table, if there is one             |
//! | null, tag 1       | *expunged*: deleted and left out of the dirty table            |
//!
//! When a new dirty table is built from the read table, deleted entries
//! are expunged instead of copied, so keys deleted for good drop out at the
//! next promotion. A store to an expunged entry must take the lock and put
//! the entry back into the dirty table first; this is why the lock-free
//! paths give up on an expunged entry.
//!
//! # Reclamation
//!
//! A value replaced or deleted through an entry, and a read table replaced
//! by promotion or [`clear`](Map::clear), are handed to crossbeam-epoch, which frees them when every thread that
//! was pinned at that moment has unpinned. An entry itself is reference
//! counted by the tables that hold it; the last table to let it go frees
//! its current value at once, because by then no pinned thread can reach
//! it (a reader reaches an entry only through a table it pinned, or through
//! a counted reference of its own).
//!
//! # Differences from Go
//!
//! - Values are read by cloning ([`load`](Map::load)) or through a borrow
//!   inside a closure ([`load_with`](Map::load_with),
//!   [`range`](Map::range)); store an `Arc<T>` when a value is large.
//! - [`load_or_store`](Map::load_or_store) and the methods that return an
//!   old value clone it, since other threads may still be reading it.
//! - Keys, values and the hasher must be `Send + 'static`: a replaced table
//!   or value may be freed later, on another thread.
//! - As in Go, the map suits keys written once and read many times, or
//!   threads working on disjoint keys. A workload that keeps adding new
//!   keys pays a table copy per promotion; a sharded map under locks is
//!   faster there.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash};

use crossbeam_epoch::{self as epoch, Atomic, CompareExchangeError, Guard, Owned, Pointer, Shared};

use crate::Mutex;
use crate::primitives::{Arc, Ordering};

/// The read pointer's tag: the dirty table holds keys the read table lacks.
const AMENDED: usize = 1;
/// An entry pointer's tag on null: expunged (see the module docs).
const EXPUNGED: usize = 1;

/// A table: each key's shared entry.
type Table<K, V, S> = HashMap<K, Arc<Entry<V>>, S>;

/// A concurrent map with lock-free reads (Go's `sync.Map`); see the module
/// docs for the design and the differences from Go.
///
/// ```
/// use hoare_sync::Map;
///
/// // Go: var m sync.Map
/// let m = Map::new();
/// m.store("gopher", 1); // m.Store("gopher", 1)
/// assert_eq!(m.load("gopher"), Some(1)); // v, ok := m.Load("gopher")
///
/// // v, loaded := m.LoadOrStore("rustacean", 2)
/// assert_eq!(m.load_or_store("rustacean", 2), (2, false));
/// assert_eq!(m.load_or_store("rustacean", 3), (2, true));
///
/// assert!(m.compare_and_swap("gopher", &1, 10)); // m.CompareAndSwap("gopher", 1, 10)
/// assert_eq!(m.swap("gopher", 11), Some(10)); // previous, loaded := m.Swap("gopher", 11)
/// assert_eq!(m.load_and_delete("gopher"), Some(11)); // m.LoadAndDelete("gopher")
///
/// let mut keys = Vec::new();
/// m.range(|k, _| {
///     keys.push(*k);
///     true // keep going
/// });
/// assert_eq!(keys, ["rustacean"]);
/// ```
///
/// Share it as Go shares a `sync.Map`, by reference: through an `Arc`, a
/// `static` (with [`std::sync::LazyLock`]) or a scoped borrow.
pub struct Map<K, V, S = RandomState> {
    /// The read table (null when empty); tag [`AMENDED`].
    read: Atomic<Table<K, V, S>>,
    locked: Mutex<Dirty<K, V, S>>,
    /// Builds each new table's hasher.
    hasher: S,
}

/// The state under the map's lock.
struct Dirty<K, V, S> {
    /// The read table's live entries and the keys stored since; `None`
    /// when it would equal the read table.
    table: Option<Table<K, V, S>>,
    /// Lookups that missed the read table since it was made.
    misses: usize,
}

/// Entries expunged while a dirty table was being built; dropped while
/// still listing some (the build unwound), it turns them back to deleted.
struct Unexpunge<'a, V> {
    entries: Vec<&'a Arc<Entry<V>>>,
    guard: &'a Guard,
}

impl<V> Drop for Unexpunge<'_, V> {
    fn drop(&mut self) {
        for e in &self.entries {
            e.unexpunge_locked(self.guard);
        }
    }
}

/// One key's cell: an epoch-managed pointer to its current value.
struct Entry<V> {
    value: Atomic<Slot<V>>,
}

/// A value on the heap. The alignment leaves the pointer's low bit free for
/// the [`EXPUNGED`] tag, whatever `V` is.
#[repr(align(2))]
struct Slot<V>(V);

/// What [`Entry::try_load_or_store`] did.
enum LoadOrStore<'g, V> {
    /// The entry held this value; the one given comes back unused, for the
    /// caller to drop (outside the map's lock).
    Loaded(&'g V, V),
    /// The entry was deleted and now holds this value, the one given.
    Stored(&'g V),
}

/// An entry found by a lookup: borrowed from a read table the guard keeps
/// alive, or counted when it came from the dirty table (which may drop it
/// as soon as the lock is released).
enum Found<'g, V> {
    Read(&'g Arc<Entry<V>>),
    Dirty(Arc<Entry<V>>),
}

impl<V> std::ops::Deref for Found<'_, V> {
    type Target = Entry<V>;

    fn deref(&self) -> &Entry<V> {
        match self {
            Found::Read(entry) => entry,
            Found::Dirty(entry) => entry,
        }
    }
}

fn expunged<'g, V>() -> Shared<'g, Slot<V>> {
    Shared::null().with_tag(EXPUNGED)
}

/// Whether `p` holds no value: deleted or expunged.
fn is_absent<V>(p: Shared<'_, Slot<V>>) -> bool {
    p.is_null()
}

impl<V> Entry<V> {
    fn new(value: Owned<Slot<V>>) -> Self {
        Entry {
            value: Atomic::from(value),
        }
    }

    /// The one compare-and-swap on the value pointer: AcqRel, so that a
    /// new slot's contents are published (Release) and a replaced one's
    /// are seen (Acquire) by the thread that retires it; Acquire on
    /// failure, as the loaded pointer may be dereferenced.
    fn cas<'g, P: Pointer<Slot<V>>>(
        &self,
        current: Shared<'g, Slot<V>>,
        new: P,
        guard: &'g Guard,
    ) -> Result<Shared<'g, Slot<V>>, CompareExchangeError<'g, Slot<V>, P>> {
        self.value
            .compare_exchange(current, new, Ordering::AcqRel, Ordering::Acquire, guard)
    }

    /// The current value, if any.
    fn load<'g>(&self, guard: &'g Guard) -> Option<&'g V> {
        let p = self.value.load(Ordering::Acquire, guard);
        // SAFETY: a non-null value pointer was published with Release by
        // the store that put it there (Acquire above pairs with it), and is
        // freed only through `defer_destroy` after being unlinked, or by the
        // entry's drop; `guard` has been pinned since before the load, and
        // the caller holds the entry through a table `guard` keeps alive or
        // through a counted reference that outlives the borrow (see the
        // module docs), so neither has run yet.
        unsafe { p.as_ref() }.map(|slot| &slot.0)
    }

    /// Replaces the value unless the entry is expunged; returns the old
    /// pointer (null if the key was deleted), or `new` back if expunged.
    fn try_swap<'g>(
        &self,
        mut new: Owned<Slot<V>>,
        guard: &'g Guard,
    ) -> Result<Shared<'g, Slot<V>>, Owned<Slot<V>>> {
        let mut current = self.value.load(Ordering::Acquire, guard);
        loop {
            if current == expunged() {
                return Err(new);
            }
            match self.cas(current, new, guard) {
                Ok(_) => return Ok(current),
                Err(CompareExchangeError { current: c, new: n }) => (current, new) = (c, n),
            }
        }
    }

    /// Replaces the value of an entry known not to be expunged (the caller
    /// holds the lock, which is needed to expunge); returns the old pointer.
    fn swap_locked<'g>(&self, new: Owned<Slot<V>>, guard: &'g Guard) -> Shared<'g, Slot<V>> {
        self.value.swap(new, Ordering::AcqRel, guard)
    }

    /// Under the lock: turns an expunged entry into a deleted one, which
    /// the caller must then put into the dirty table. Whether it was
    /// expunged.
    fn unexpunge_locked(&self, guard: &Guard) -> bool {
        self.cas(expunged(), Shared::null(), guard).is_ok()
    }

    /// Under the lock, while building a dirty table: expunges a deleted
    /// entry. Whether the entry is now expunged (and so left out).
    fn try_expunge_locked(&self, guard: &Guard) -> bool {
        let mut current = self.value.load(Ordering::Acquire, guard);
        while current.is_null() && current.tag() == 0 {
            match self.cas(current, expunged(), guard) {
                Ok(_) => return true,
                Err(e) => current = e.current,
            }
        }
        current == expunged()
    }

    /// Loads the value, or stores `value` if the key is deleted. `Err`
    /// gives `value` back if the entry is expunged.
    fn try_load_or_store<'g>(&self, value: V, guard: &'g Guard) -> Result<LoadOrStore<'g, V>, V> {
        let mut current = self.value.load(Ordering::Acquire, guard);
        if current == expunged() {
            return Err(value);
        }
        if let Some(v) = self.load_from(current) {
            return Ok(LoadOrStore::Loaded(v, value));
        }
        let mut new = Owned::new(Slot(value));
        loop {
            match self.cas(current, new, guard) {
                Ok(stored) => {
                    // SAFETY: `stored` is the pointer just published from
                    // an `Owned`, so it is valid. It is freed either after
                    // being unlinked and deferred past `guard`, or by
                    // `Entry::drop`, which cannot run while the caller
                    // keeps this entry reachable (through a table `guard`
                    // protects, or an `Arc` it holds for as long as it
                    // uses the borrow).
                    return Ok(LoadOrStore::Stored(&unsafe { stored.deref() }.0));
                }
                Err(e) => {
                    (current, new) = (e.current, e.new);
                    if current == expunged() {
                        return Err(new.into_box().0);
                    }
                    if let Some(v) = self.load_from(current) {
                        return Ok(LoadOrStore::Loaded(v, new.into_box().0));
                    }
                }
            }
        }
    }

    /// The value behind a pointer loaded from this entry under `'g`.
    fn load_from<'g>(&self, p: Shared<'g, Slot<V>>) -> Option<&'g V> {
        // SAFETY: as in `load`: `p` was loaded (Acquire) from this entry
        // while the caller's guard was pinned, and the caller keeps the
        // entry reachable.
        unsafe { p.as_ref() }.map(|slot| &slot.0)
    }

    /// Deletes the value; returns the unlinked pointer, which the caller
    /// must hand to `defer_destroy`.
    fn delete<'g>(&self, guard: &'g Guard) -> Option<Shared<'g, Slot<V>>> {
        let mut current = self.value.load(Ordering::Acquire, guard);
        while !is_absent(current) {
            match self.cas(current, Shared::null(), guard) {
                Ok(_) => return Some(current),
                Err(e) => current = e.current,
            }
        }
        None
    }

    /// Replaces the value with `new` if it equals `old`; `Err` gives `new`
    /// back, for the caller to drop (outside the map's lock).
    fn try_compare_and_swap(&self, old: &V, new: V, guard: &Guard) -> Result<(), V>
    where
        V: PartialEq,
    {
        let mut current = self.value.load(Ordering::Acquire, guard);
        if self.load_from(current) != Some(old) {
            return Err(new);
        }
        let mut new = Owned::new(Slot(new));
        loop {
            match self.cas(current, new, guard) {
                Ok(_) => {
                    // SAFETY: `current` was just unlinked by this CAS, so
                    // no later load can return it; threads that loaded it
                    // before are pinned, and the epoch waits for them.
                    unsafe { guard.defer_destroy(current) };
                    return Ok(());
                }
                Err(e) => {
                    (current, new) = (e.current, e.new);
                    if self.load_from(current) != Some(old) {
                        return Err(new.into_box().0);
                    }
                }
            }
        }
    }

    /// Deletes the value if it equals `old`.
    fn try_compare_and_delete(&self, old: &V, guard: &Guard) -> bool
    where
        V: PartialEq,
    {
        let mut current = self.value.load(Ordering::Acquire, guard);
        while self.load_from(current) == Some(old) {
            match self.cas(current, Shared::null(), guard) {
                Ok(_) => {
                    // SAFETY: unlinked by this CAS; see
                    // `try_compare_and_swap`.
                    unsafe { guard.defer_destroy(current) };
                    return true;
                }
                Err(e) => current = e.current,
            }
        }
        false
    }
}

impl<V> Drop for Entry<V> {
    fn drop(&mut self) {
        // SAFETY: the last table or counted reference holding this entry
        // is gone, so no thread can load its pointer any more, and a thread
        // that loaded it earlier did so through a table freed only after it
        // unpinned, or through a counted reference already dropped (module
        // docs, "Reclamation"). So the current value is ours alone to free;
        // `unprotected` is sound with no concurrent access.
        unsafe {
            let p = self.value.load(Ordering::Relaxed, epoch::unprotected());
            if !p.is_null() {
                drop(p.into_owned());
            }
        }
    }
}

impl<K, V> Map<K, V, RandomState> {
    /// An empty map. It allocates nothing until the first store.
    pub fn new() -> Self {
        Self::with_hasher(RandomState::new())
    }
}

impl<K, V> Default for Map<K, V, RandomState> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V, S> Map<K, V, S> {
    /// An empty map whose tables hash keys with `hasher`.
    ///
    /// ```
    /// use std::hash::BuildHasherDefault;
    /// use std::collections::hash_map::DefaultHasher;
    ///
    /// let m: hoare_sync::Map<u64, u64, BuildHasherDefault<DefaultHasher>> =
    ///     hoare_sync::Map::with_hasher(Default::default());
    /// m.store(1, 2);
    /// assert_eq!(m.load(&1), Some(2));
    /// ```
    pub fn with_hasher(hasher: S) -> Self {
        Map {
            read: Atomic::null(),
            locked: Mutex::new(Dirty {
                table: None,
                misses: 0,
            }),
            hasher,
        }
    }
}

impl<K, V, S> Map<K, V, S>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Send + 'static,
    S: BuildHasher + Clone + Send + 'static,
{
    /// The read table (`None` when empty) and whether it is amended.
    fn read<'g>(&self, guard: &'g Guard) -> (Option<&'g Table<K, V, S>>, bool) {
        let p = self.read.load(Ordering::Acquire, guard);
        // SAFETY: read tables are published with Release (Acquire above
        // pairs with it) and never changed afterwards; a replaced table is
        // freed through `defer_destroy`, after `guard` unpins.
        (unsafe { p.as_ref() }, p.tag() == AMENDED)
    }

    /// The entry of `key`: from the read table without the lock, else from
    /// the dirty table under it (counting a miss).
    fn find<'g, Q>(&self, key: &Q, guard: &'g Guard) -> Option<Found<'g, V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let (read, amended) = self.read(guard);
        if let Some(entry) = read.and_then(|t| t.get(key)) {
            return Some(Found::Read(entry));
        }
        if !amended {
            return None;
        }
        let mut locked = self.locked.lock();
        // Promoted meanwhile? The read table is current while we hold the
        // lock.
        let (read, amended) = self.read(guard);
        if let Some(entry) = read.and_then(|t| t.get(key)) {
            return Some(Found::Read(entry));
        }
        if !amended {
            return None;
        }
        let entry = locked
            .table
            .as_ref()
            .and_then(|t| t.get(key))
            .map(|e| Found::Dirty(e.clone()));
        self.miss_locked(&mut locked, guard);
        entry
    }

    /// Counts a lookup that had to take the lock; promotes the dirty table
    /// once the misses have paid for its copy.
    fn miss_locked(&self, locked: &mut Dirty<K, V, S>, guard: &Guard) {
        locked.misses += 1;
        if locked.misses >= locked.table.as_ref().map_or(0, HashMap::len) {
            self.promote_locked(locked, guard);
        }
    }

    /// Makes the dirty table the read table.
    fn promote_locked(&self, locked: &mut Dirty<K, V, S>, guard: &Guard) {
        let table = locked.table.take().map(Owned::new);
        let old = match table {
            Some(t) => self.read.swap(t, Ordering::AcqRel, guard),
            None => self.read.swap(Shared::null(), Ordering::AcqRel, guard),
        };
        locked.misses = 0;
        self.retire_table(old, guard);
    }

    /// Frees an unlinked read table once no pinned thread can see it.
    fn retire_table(&self, old: Shared<'_, Table<K, V, S>>, guard: &Guard) {
        if !old.is_null() {
            // SAFETY: `old` was just unlinked from `read` under the lock, so
            // no later load returns it; earlier readers are pinned and the
            // epoch waits for them. `K`, `V` and `S` are `Send + 'static`,
            // so the table may be dropped later on another thread.
            unsafe { guard.defer_destroy(old) };
        }
    }

    /// Under the lock: makes sure a dirty table exists, copying the read
    /// table's live entries into it (and expunging the deleted ones).
    fn dirty_locked<'a>(
        &self,
        locked: &'a mut Dirty<K, V, S>,
        guard: &Guard,
    ) -> &'a mut Table<K, V, S> {
        let (read, _) = self.read(guard);
        locked.table.get_or_insert_with(|| {
            let read_len = read.map_or(0, HashMap::len);
            let mut table = HashMap::with_capacity_and_hasher(read_len + 1, self.hasher.clone());
            // If a key's `clone` or `hash` panics halfway, the entries
            // expunged so far go back to plain deleted: an expunged entry
            // must be in no dirty table while one exists, and without one
            // nothing may be expunged.
            let mut expunged = Unexpunge {
                entries: Vec::new(),
                guard,
            };
            for (k, e) in read.into_iter().flatten() {
                if e.try_expunge_locked(guard) {
                    expunged.entries.push(e);
                } else {
                    table.insert(k.clone(), e.clone());
                }
            }
            expunged.entries.clear(); // built: they stay expunged
            table
        })
    }

    /// Under the lock: sets the read pointer's amended tag.
    fn set_amended_locked(&self, guard: &Guard) {
        let p = self.read.load(Ordering::Relaxed, guard);
        self.read.store(p.with_tag(AMENDED), Ordering::Release);
    }

    /// Under the lock: adds a key that neither table holds, with its new
    /// `entry`, to the dirty table (made first if need be) and marks the
    /// read table amended.
    fn insert_new_locked(
        &self,
        locked: &mut Dirty<K, V, S>,
        key: K,
        entry: Arc<Entry<V>>,
        amended: bool,
        guard: &Guard,
    ) {
        let table = self.dirty_locked(locked, guard);
        table.insert(key, entry);
        if !amended {
            self.set_amended_locked(guard);
        }
    }

    /// Stores `value` under `key`; returns the old pointer (null if the key
    /// was absent), which the caller must hand to `defer_destroy`.
    fn swap_inner<'g>(&self, key: K, value: V, guard: &'g Guard) -> Shared<'g, Slot<V>> {
        let mut new = Owned::new(Slot(value));
        let (read, _) = self.read(guard);
        if let Some(entry) = read.and_then(|t| t.get(&key)) {
            match entry.try_swap(new, guard) {
                Ok(old) => return old,
                Err(back) => new = back,
            }
        }
        let mut locked = self.locked.lock();
        let (read, amended) = self.read(guard);
        if let Some(entry) = read.and_then(|t| t.get(&key)) {
            Self::restore_locked(&mut locked, key, entry, guard);
            return entry.swap_locked(new, guard);
        }
        if let Some(entry) = locked.table.as_ref().and_then(|t| t.get(&key)) {
            return entry.swap_locked(new, guard);
        }
        self.insert_new_locked(&mut locked, key, Arc::new(Entry::new(new)), amended, guard);
        Shared::null()
    }

    /// Under the lock, for an entry of the read table about to take a
    /// value: if it is expunged, puts it back into the dirty table and
    /// then makes it plain deleted. In that order, so that a panicking
    /// `K::hash` leaves it expunged (and out of the dirty table) rather
    /// than deleted and missing from the dirty table, where a lock-free
    /// store would put a value the next promotion drops. Nobody else
    /// changes an expunged entry while the lock is held.
    fn restore_locked(locked: &mut Dirty<K, V, S>, key: K, entry: &Arc<Entry<V>>, guard: &Guard) {
        if entry.value.load(Ordering::Acquire, guard) != expunged() {
            return;
        }
        // An expunged entry is in no dirty table, and one exists
        // (expunging happens only while building it).
        let table = locked
            .table
            .as_mut()
            .expect("an expunged entry implies a dirty table");
        table.insert(key, entry.clone());
        let unexpunged = entry.unexpunge_locked(guard);
        debug_assert!(unexpunged, "only the lock holder unexpunges");
    }

    /// Hands an unlinked value pointer to the epoch, returning the value
    /// it points to for the rest of `guard`'s life.
    fn retire_value<'g>(&self, old: Shared<'g, Slot<V>>, guard: &'g Guard) -> Option<&'g V> {
        if old.is_null() {
            return None;
        }
        // SAFETY: `old` was unlinked from its entry by the caller's swap or
        // CAS, so no later load returns it; threads that loaded it earlier
        // are pinned and the epoch waits for them, and so does the
        // returned borrow, which lives no longer than `guard`. `V: Send +
        // 'static`, so the slot may be dropped later on another thread.
        unsafe {
            guard.defer_destroy(old);
            Some(&old.deref().0)
        }
    }

    /// The value of `key`, cloned (Go's `Load`). Takes no lock unless the
    /// key was stored since the last promotion.
    ///
    /// ```
    /// let m = hoare_sync::Map::new();
    /// m.store(String::from("a"), vec![1, 2]);
    /// assert_eq!(m.load("a"), Some(vec![1, 2])); // a &str finds a String key
    /// assert_eq!(m.load("b"), None);
    /// ```
    pub fn load<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        self.load_with(key, V::clone)
    }

    /// Calls `f` with a borrow of the value of `key`, without cloning it.
    ///
    /// `f` may use the map; the borrowed value stays valid during `f` even
    /// if another thread replaces or deletes it meanwhile (it is freed
    /// after `f` returns).
    ///
    /// ```
    /// let m = hoare_sync::Map::new();
    /// m.store(1, String::from("gopher"));
    /// assert_eq!(m.load_with(&1, |s| s.len()), Some(6));
    /// ```
    pub fn load_with<Q, R>(&self, key: &Q, f: impl FnOnce(&V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let guard = &epoch::pin();
        let entry = self.find(key, guard)?;
        entry.load(guard).map(f)
    }

    /// Sets the value of `key` (Go's `Store`).
    ///
    /// Changing the value of a key that is in the read table takes no lock;
    /// a new key takes the lock.
    pub fn store(&self, key: K, value: V) {
        let guard = &epoch::pin();
        let old = self.swap_inner(key, value, guard);
        self.retire_value(old, guard);
    }

    /// Sets the value of `key` and returns the previous one, cloned (Go's
    /// `Swap`).
    pub fn swap(&self, key: K, value: V) -> Option<V>
    where
        V: Clone,
    {
        let guard = &epoch::pin();
        let old = self.swap_inner(key, value, guard);
        self.retire_value(old, guard).cloned()
    }

    /// The value of `key` if it has one; else stores `value` (Go's
    /// `LoadOrStore`). Returns the value now under `key`, cloned, and
    /// whether it was loaded (`true`) or `value` was stored (`false`).
    pub fn load_or_store(&self, key: K, value: V) -> (V, bool)
    where
        V: Clone,
    {
        let guard = &epoch::pin();
        let mut value = value;
        let (read, _) = self.read(guard);
        if let Some(entry) = read.and_then(|t| t.get(&key)) {
            match entry.try_load_or_store(value, guard) {
                Ok(done) => return Self::load_or_store_result(done),
                Err(back) => value = back,
            }
        }
        let mut locked = self.locked.lock();
        let (read, amended) = self.read(guard);
        // The entry's operation runs under the lock (an entry in the dirty
        // table only cannot be expunged meanwhile); the clone, and the drop
        // of an unused `value`, after it, outside the lock (user code), with
        // the entry held by `keep` when no protected table holds it.
        let (done, keep) = if let Some(entry) = read.and_then(|t| t.get(&key)) {
            Self::restore_locked(&mut locked, key, entry, guard);
            let Ok(done) = entry.try_load_or_store(value, guard) else {
                unreachable!("the entry is not expunged under the lock")
            };
            (done, None)
        } else if let Some(entry) = locked.table.as_ref().and_then(|t| t.get(&key)) {
            let entry = entry.clone();
            let Ok(done) = entry.try_load_or_store(value, guard) else {
                unreachable!("an entry of the dirty table is never expunged")
            };
            self.miss_locked(&mut locked, guard);
            (done, Some(entry))
        } else {
            let slot = Owned::new(Slot(value)).into_shared(guard);
            let entry = Arc::new(Entry {
                value: Atomic::from(slot),
            });
            // SAFETY: `slot` was just made from an `Owned` and is published
            // by the insert below; it is freed either after being unlinked
            // and deferred past `guard`, or by `Entry::drop`, which cannot
            // run while `keep` holds the entry.
            let stored = &unsafe { slot.deref() }.0;
            self.insert_new_locked(&mut locked, key, entry.clone(), amended, guard);
            (LoadOrStore::Stored(stored), Some(entry))
        };
        drop(locked);
        let result = Self::load_or_store_result(done);
        drop(keep);
        result
    }

    fn load_or_store_result(done: LoadOrStore<'_, V>) -> (V, bool)
    where
        V: Clone,
    {
        match done {
            LoadOrStore::Loaded(v, _unused) => (v.clone(), true),
            LoadOrStore::Stored(v) => (v.clone(), false),
        }
    }

    /// Unlinks the value of `key`, if any, for the caller to clone.
    fn delete_inner<'g, Q>(&self, key: &Q, guard: &'g Guard) -> Option<&'g V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let (read, amended) = self.read(guard);
        let entry = match read.and_then(|t| t.get(key)) {
            Some(entry) => Found::Read(entry),
            None if !amended => return None,
            None => {
                let mut locked = self.locked.lock();
                let (read, amended) = self.read(guard);
                match read.and_then(|t| t.get(key)) {
                    Some(entry) => Found::Read(entry),
                    None if !amended => return None,
                    None => {
                        // Not in the read table: drop it from the dirty one
                        // for good. Its value is deleted below; the entry
                        // was never in a read table, so nobody else can
                        // store into it except through a counted reference
                        // taken under this lock.
                        let entry = locked.table.as_mut().and_then(|t| t.remove(key));
                        self.miss_locked(&mut locked, guard);
                        Found::Dirty(entry?)
                    }
                }
            }
        };
        let old = entry.delete(guard)?;
        self.retire_value(old, guard)
    }

    /// Deletes `key` and returns its value, cloned (Go's `LoadAndDelete`).
    pub fn load_and_delete<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        let guard = &epoch::pin();
        self.delete_inner(key, guard).cloned()
    }

    /// Deletes `key` (Go's `Delete`). Deleting an absent key does nothing.
    pub fn delete<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let guard = &epoch::pin();
        self.delete_inner(key, guard);
    }

    /// Sets the value of `key` to `new` if it is `old` (Go's
    /// `CompareAndSwap`). Whether it did. An absent key equals no `old`.
    pub fn compare_and_swap<Q>(&self, key: &Q, old: &V, new: V) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: PartialEq,
    {
        self.compare_and(key, |entry, guard| {
            match entry.try_compare_and_swap(old, new, guard) {
                Ok(()) => (true, None),
                Err(unused) => (false, Some(unused)),
            }
        })
    }

    /// Deletes `key` if its value is `old` (Go's `CompareAndDelete`).
    /// Whether it did.
    pub fn compare_and_delete<Q>(&self, key: &Q, old: &V) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: PartialEq,
    {
        self.compare_and(key, |entry, guard| {
            (entry.try_compare_and_delete(old, guard), None)
        })
    }

    /// Runs a compare-and-… on the entry of `key`: on a read-table entry
    /// without the lock, on a dirty-table entry under it (where the entry
    /// is the key's current one). `op` returns whether it changed the
    /// entry, and a value it did not use, dropped after the lock is
    /// released.
    fn compare_and<Q>(
        &self,
        key: &Q,
        op: impl FnOnce(&Entry<V>, &Guard) -> (bool, Option<V>),
    ) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let guard = &epoch::pin();
        let (read, amended) = self.read(guard);
        if let Some(entry) = read.and_then(|t| t.get(key)) {
            return op(entry, guard).0;
        }
        if !amended {
            return false;
        }
        let mut locked = self.locked.lock();
        let (read, _) = self.read(guard);
        if let Some(entry) = read.and_then(|t| t.get(key)) {
            drop(locked);
            // In the read table: no lock needed, as on the fast path.
            return op(entry, guard).0;
        }
        let Some(entry) = locked.table.as_ref().and_then(|t| t.get(key)).cloned() else {
            return false;
        };
        let (done, unused) = op(&entry, guard);
        self.miss_locked(&mut locked, guard);
        drop(locked);
        drop(unused);
        done
    }

    /// Calls `f` on each key and value until it returns `false` (Go's
    /// `Range`).
    ///
    /// As in Go, `range` sees no consistent snapshot of the whole map: it
    /// visits each key present for its whole run exactly once, with the
    /// value the key had at the moment it was visited; a key stored or
    /// deleted meanwhile may be visited or not. `f` may use the map. The
    /// thread stays pinned for the whole call, which holds back the freeing
    /// of replaced values: keep `f` short on a busy map.
    ///
    /// ```
    /// let m = hoare_sync::Map::new();
    /// for i in 0..4 {
    ///     m.store(i, i * 10);
    /// }
    /// let mut sum = 0;
    /// m.range(|_, v| {
    ///     sum += v;
    ///     true
    /// });
    /// assert_eq!(sum, 60);
    /// ```
    pub fn range(&self, mut f: impl FnMut(&K, &V) -> bool) {
        let guard = &epoch::pin();
        let (mut read, amended) = self.read(guard);
        if amended {
            // Keys only the dirty table holds must be visited too: promote
            // it, as a miss streak would, and walk the new read table.
            let mut locked = self.locked.lock();
            if self.read(guard).1 {
                self.promote_locked(&mut locked, guard);
            }
            read = self.read(guard).0;
        }
        for (key, entry) in read.into_iter().flatten() {
            if let Some(value) = entry.load(guard) {
                if !f(key, value) {
                    break;
                }
            }
        }
    }

    /// Deletes every key (Go's `Clear`).
    pub fn clear(&self) {
        let guard = &epoch::pin();
        let (read, amended) = self.read(guard);
        if read.is_none_or(HashMap::is_empty) && !amended {
            return;
        }
        let mut locked = self.locked.lock();
        let old = self.read.swap(Shared::null(), Ordering::AcqRel, guard);
        self.retire_table(old, guard);
        let dirty = locked.table.take();
        locked.misses = 0;
        drop(locked);
        // The values of entries only the dirty table held are dropped here,
        // outside the lock.
        drop(dirty);
    }
}

impl<K, V, S> Drop for Map<K, V, S> {
    fn drop(&mut self) {
        // SAFETY: `&mut self`: no thread is using this map, so none can be
        // reading the current read table, which is therefore freed at
        // once. (Tables replaced earlier were deferred and are freed by the
        // epoch.)
        unsafe {
            let p = self.read.load(Ordering::Relaxed, epoch::unprotected());
            if !p.is_null() {
                drop(p.into_owned());
            }
        }
    }
}

impl<K, V, S> fmt::Debug for Map<K, V, S>
where
    K: Eq + Hash + Clone + Send + 'static + fmt::Debug,
    V: Send + 'static + fmt::Debug,
    S: BuildHasher + Clone + Send + 'static,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        self.range(|k, v| {
            map.entry(k, v);
            true
        });
        map.finish()
    }
}

impl<K, V, S> FromIterator<(K, V)> for Map<K, V, S>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Send + 'static,
    S: BuildHasher + Clone + Send + 'static + Default,
{
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let map = Map::with_hasher(S::default());
        for (k, v) in iter {
            map.store(k, v);
        }
        map
    }
}
