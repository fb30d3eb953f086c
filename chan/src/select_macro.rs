//! The `select!` and `select_async!` macros. They only parse; the protocol
//! is in `select.rs`, reached through the hidden `__private` module.
//!
//! Parsing is a token muncher: each case is moved into a list together
//! with a fresh identifier taken from a fixed supply (which bounds a macro
//! select to 32 cases; [`Select`](crate::Select) has no bound). Then the
//! cases become locals, a slice of `&mut dyn Case` is handed to the
//! protocol, and the fired case's outcome is bound to the user's pattern
//! before its body runs. Every case is dropped before any body runs, so a
//! body may move or drop the channels freely.

/// Waits on several channel operations and runs the one that fires first
/// (Go's `select`).
///
/// ```
/// use hoare_chan::{bounded, select};
/// use std::time::Duration;
///
/// let (tx1, rx1) = bounded::<i32>(1);
/// let (tx2, rx2) = bounded::<&str>(1);
/// tx1.send(1).unwrap();
///
/// select! {
///     recv(rx1) -> v => assert_eq!(v, Ok(1)),
///     send(tx2, "hi") -> res => res.unwrap(),
///     default(Duration::from_secs(1)) => panic!("both cases were ready"),
/// }
/// # drop((tx1, rx2));
/// ```
///
/// Cases:
/// - `recv(rx) -> v => body`: `v` is `Result<T, RecvError>`; `Err` once
///   the channel is closed and drained (a closed channel is always ready,
///   as in Go).
/// - `send(tx, value) -> res => body`: `res` is `Result<(), SendError<T>>`.
///   `value` is evaluated once, before selecting, as in Go; if the case
///   does not fire, the value is dropped with the select.
/// - `default => body`: run if no case is ready now (non-blocking select).
/// - `default(timeout) => body`: run if no case fires within `timeout`.
///
/// Exactly one case fires, atomically: a value is never taken by a case
/// that does not run. When several cases are ready, one is chosen
/// uniformly at random. A channel may appear in several cases; a case on
/// [`never()`](crate::never) never fires. Without `default` and with every
/// case on `never()`, the select blocks forever, as Go's does.
///
/// Bodies are expressions; `break`, `continue` and `return` in them act on
/// the enclosing loop or function.
#[macro_export]
macro_rules! select {
    ($($tokens:tt)*) => {
        $crate::__select_parse!(
            block [] []
            [__c0 __c1 __c2 __c3 __c4 __c5 __c6 __c7 __c8 __c9 __c10 __c11 __c12 __c13
             __c14 __c15 __c16 __c17 __c18 __c19 __c20 __c21 __c22 __c23 __c24 __c25
             __c26 __c27 __c28 __c29 __c30 __c31]
            $($tokens)*
        )
    };
}

/// `select!` for async code: used inside an `async` block or function, it
/// awaits internally and evaluates to the chosen arm (like
/// `tokio::select!`). Same cases as [`select!`]. Dropping the enclosing
/// future while it waits withdraws every case: nothing is received and
/// nothing is sent.
///
/// ```
/// use hoare_chan::{bounded, select_async};
///
/// # futures::executor::block_on(async {
/// let (tx, rx) = bounded::<u8>(1);
/// tx.send_async(5).await.unwrap();
/// let got = select_async! {
///     recv(rx) -> v => v.unwrap(),
///     default(std::time::Duration::from_secs(1)) => 0,
/// };
/// assert_eq!(got, 5);
/// # });
/// ```
#[macro_export]
macro_rules! select_async {
    ($($tokens:tt)*) => {
        $crate::__select_parse!(
            async [] []
            [__c0 __c1 __c2 __c3 __c4 __c5 __c6 __c7 __c8 __c9 __c10 __c11 __c12 __c13
             __c14 __c15 __c16 __c17 __c18 __c19 __c20 __c21 __c22 __c23 __c24 __c25
             __c26 __c27 __c28 __c29 __c30 __c31]
            $($tokens)*
        )
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_parse {
    // recv(rx) -> pat => { block } [,]
    ($m:tt [$($c:tt)*] [$($d:tt)*] [$id:ident $($ids:ident)*]
        recv($rx:expr) -> $res:pat => $body:block $(, $($rest:tt)*)?) => {
        $crate::__select_parse!($m [$($c)* (recv $id ($rx) $res => $body)] [$($d)*] [$($ids)*] $($($rest)*)?)
    };
    // recv(rx) -> pat => expr, ...
    ($m:tt [$($c:tt)*] [$($d:tt)*] [$id:ident $($ids:ident)*]
        recv($rx:expr) -> $res:pat => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__select_parse!($m [$($c)* (recv $id ($rx) $res => $body)] [$($d)*] [$($ids)*] $($($rest)*)?)
    };
    // send(tx, value) -> pat => { block } [,]
    ($m:tt [$($c:tt)*] [$($d:tt)*] [$id:ident $($ids:ident)*]
        send($tx:expr, $v:expr) -> $res:pat => $body:block $(, $($rest:tt)*)?) => {
        $crate::__select_parse!($m [$($c)* (send $id ($tx, $v) $res => $body)] [$($d)*] [$($ids)*] $($($rest)*)?)
    };
    // send(tx, value) -> pat => expr, ...
    ($m:tt [$($c:tt)*] [$($d:tt)*] [$id:ident $($ids:ident)*]
        send($tx:expr, $v:expr) -> $res:pat => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__select_parse!($m [$($c)* (send $id ($tx, $v) $res => $body)] [$($d)*] [$($ids)*] $($($rest)*)?)
    };
    // default(timeout) => body
    ($m:tt [$($c:tt)*] [] [$($ids:ident)*] default($t:expr) => $body:block $(, $($rest:tt)*)?) => {
        $crate::__select_parse!($m [$($c)*] [(timeout ($t) $body)] [$($ids)*] $($($rest)*)?)
    };
    ($m:tt [$($c:tt)*] [] [$($ids:ident)*] default($t:expr) => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__select_parse!($m [$($c)*] [(timeout ($t) $body)] [$($ids)*] $($($rest)*)?)
    };
    // default => body
    ($m:tt [$($c:tt)*] [] [$($ids:ident)*] default => $body:block $(, $($rest:tt)*)?) => {
        $crate::__select_parse!($m [$($c)*] [(now () $body)] [$($ids)*] $($($rest)*)?)
    };
    ($m:tt [$($c:tt)*] [] [$($ids:ident)*] default => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__select_parse!($m [$($c)*] [(now () $body)] [$($ids)*] $($($rest)*)?)
    };
    // errors
    ($m:tt [$($c:tt)*] [$($d:tt)+] [$($ids:ident)*] default $($rest:tt)*) => {
        ::core::compile_error!("select!: more than one `default` case")
    };
    ($m:tt [$($c:tt)*] [$($d:tt)*] [] $($rest:tt)+) => {
        ::core::compile_error!("select!: at most 32 cases; use hoare_chan::Select for more")
    };
    // done
    ($m:tt [$($c:tt)*] [$($d:tt)*] [$($ids:ident)*]) => {
        $crate::__select_emit!($m [$($c)*] [$($d)*])
    };
    ($m:tt [$($c:tt)*] [$($d:tt)*] [$($ids:ident)*] $($rest:tt)+) => {
        ::core::compile_error!(
            "select!: expected `recv(rx) -> v => body`, `send(tx, value) -> r => body`, `default => body` or `default(timeout) => body`"
        )
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_emit {
    ($m:tt [$(($kind:ident $id:ident ($($args:tt)*) $res:pat => $body:expr))*] [$($d:tt)*]) => {{
        // The cases live in this block and are gone at its end, before any
        // arm runs, so that an arm may use the channels freely.
        let ($($id,)*) = {
            $( let mut $id = $crate::__select_case!($kind $($args)*); )*
            let __fired = $crate::__select_run!($m [$($id)*] [$($d)*]);
            let mut __k = 0usize;
            let __outcomes = ($( $crate::__private::take_if(&mut __k, __fired, &mut $id), )*);
            $( $crate::__private::dispose($id); )*
            __outcomes
        };
        $crate::__select_arms!([$(($id $res => $body))*] [$($d)*])
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_case {
    (recv $rx:expr) => {
        $crate::__private::RecvCase::new(&$rx)
    };
    (send $tx:expr, $v:expr) => {
        $crate::__private::SendCase::new(&$tx, $v)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_mode {
    () => {
        $crate::__private::Mode::Block
    };
    ((now () $body:expr)) => {
        $crate::__private::Mode::NonBlocking
    };
    ((timeout ($t:expr) $body:expr)) => {
        $crate::__private::Mode::timeout($t)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_run {
    (block [$($id:ident)*] [$($d:tt)*]) => {
        $crate::__private::run_blocking(
            &mut [$(&mut $id as &mut dyn $crate::__private::Case),*],
            $crate::__select_mode!($($d)*),
        )
    };
    (async [$($id:ident)*] [$($d:tt)*]) => {{
        let mut __state = $crate::__private::AsyncSelect::new($crate::__select_mode!($($d)*));
        ::core::future::poll_fn(|__cx| {
            __state.poll(&mut [$(&mut $id as &mut dyn $crate::__private::Case),*], __cx)
        })
        .await
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_arms {
    ([$(($id:ident $res:pat => $body:expr))*] []) => {
        $( if let ::core::option::Option::Some(__outcome) = $id { let $res = __outcome; $body } else )* {
            ::core::unreachable!("a blocking select always fires a case")
        }
    };
    ([$(($id:ident $res:pat => $body:expr))*] [($kind:ident ($($t:tt)*) $dbody:expr)]) => {
        $( if let ::core::option::Option::Some(__outcome) = $id { let $res = __outcome; $body } else )* { $dbody }
    };
}
