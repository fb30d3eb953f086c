//! Compile-time checks of the public types' auto traits.

use static_assertions::{assert_impl_all, assert_not_impl_any};

use crate::{Receiver, RecvFuture, Select, SendFuture, Sender};

assert_impl_all!(Sender<u8>: Send, Sync, Clone, Unpin);
assert_impl_all!(Receiver<u8>: Send, Sync, Clone, Unpin);
assert_impl_all!(RecvFuture<'static, u8>: Send, Sync, Unpin);
assert_impl_all!(SendFuture<'static, u8>: Send, Unpin);
// Payloads that may not cross threads make handles that may not either.
assert_not_impl_any!(Sender<std::rc::Rc<u8>>: Send, Sync);
assert_not_impl_any!(Receiver<std::rc::Rc<u8>>: Send, Sync);
assert_not_impl_any!(Select<'static>: Send);

// Sending needs `T: Send` only, as with std's and crossbeam's channels: a
// value that is `Send` but not `Sync` can be sent from a task on a
// multi-threaded executor (`SinkSlot` in `channel.rs`).
assert_impl_all!(Sender<std::cell::Cell<u8>>: Send, Sync, Clone);
assert_impl_all!(Receiver<std::cell::Cell<u8>>: Send, Sync, Clone);
assert_impl_all!(SendFuture<'static, std::cell::Cell<u8>>: Send, Unpin);
assert_impl_all!(RecvFuture<'static, std::cell::Cell<u8>>: Send, Unpin);
assert_not_impl_any!(Sender<std::rc::Rc<u8>>: Send, Sync);
