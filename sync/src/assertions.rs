//! Compile-time checks of the public types' auto traits and sizes.

use static_assertions::{assert_eq_size, assert_impl_all, assert_not_impl_any};

use crate::*;

// The whole mutex is one futex word, as Go's and std's.
assert_eq_size!(Mutex<()>, u32);

assert_impl_all!(Mutex<u8>: Send, Sync, Default);
assert_impl_all!(MutexGuard<'static, u8>: Send, Sync);
assert_impl_all!(MutexLockFuture<'static, u8>: Send, Sync);
assert_not_impl_any!(Mutex<std::rc::Rc<u8>>: Send, Sync);
assert_not_impl_any!(MutexGuard<'static, std::cell::Cell<u8>>: Sync);

assert_impl_all!(RwMutex<u8>: Send, Sync, Default);
assert_impl_all!(RwMutexReadGuard<'static, u8>: Send, Sync);
assert_impl_all!(RwMutexWriteGuard<'static, u8>: Send, Sync);
assert_impl_all!(RwMutexReadFuture<'static, u8>: Send, Sync);
assert_impl_all!(RwMutexWriteFuture<'static, u8>: Send, Sync);
// Readers share `&T`, so a `!Sync` payload must not be shared.
assert_not_impl_any!(RwMutex<std::cell::Cell<u8>>: Sync);

assert_impl_all!(WaitGroup: Send, Sync, Default);
assert_impl_all!(WaitGroupToken<'static>: Send, Sync, Clone);
assert_impl_all!(WaitFuture<'static>: Send, Sync);

assert_impl_all!(Once: Send, Sync, Default);
assert_impl_all!(OnceCell<u8>: Send, Sync, Default);
assert_not_impl_any!(OnceCell<std::cell::Cell<u8>>: Sync);

assert_impl_all!(Cond: Send, Sync, Default);
assert_impl_all!(CondWaitFuture<'static, u8>: Send, Sync);

assert_impl_all!(Semaphore: Send, Sync);
assert_impl_all!(Permit<'static>: Send, Sync);
assert_impl_all!(AcquireFuture<'static>: Send, Sync);

assert_impl_all!(AtomicCounter: Send, Sync, Default);
assert_impl_all!(ShardedCounter: Send, Sync, Default);

assert_impl_all!(waiter::Waiter: Send, Sync);
assert_impl_all!(waiter::WaitQueue: Send, Sync, Default);
assert_impl_all!(waiter::Parker: Send, Sync, Default);

// Idle values move between threads through the shards: `Send` values only.
assert_impl_all!(Pool<Vec<u8>>: Send, Sync);
assert_not_impl_any!(Pool<std::rc::Rc<u8>>: Send, Sync);

// Readers on many threads share `&V` and `&K`, and replaced values and
// tables may be freed on another thread: `Send + Sync` parts only.
assert_impl_all!(Map<String, Vec<u8>>: Send, Sync, Default);
assert_not_impl_any!(Map<u8, std::cell::Cell<u8>>: Sync);
assert_not_impl_any!(Map<std::rc::Rc<u8>, u8>: Send, Sync);
