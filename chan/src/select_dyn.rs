//! [`Select`]: a select over a set of cases built at run time (Go's
//! `reflect.Select`), for when the number of cases is not known when
//! writing the code. The `select!` macro is the everyday form.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use crate::channel::{Receiver, Sender};
use crate::err::{RecvError, SendError};
use crate::select::{AsyncSelect, Case, Mode, RecvCase, SendCase, run_blocking};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Recv,
    Send,
}

/// A select over cases added at run time.
///
/// Exactly one case fires per selection; when several are ready the
/// choice is uniformly random. Read the outcome from the returned
/// [`SelectedOperation`] with the same handle the case was added with.
///
/// ```
/// use hoare_chan::{Select, bounded};
///
/// let channels: Vec<_> = (0..4).map(|_| bounded::<usize>(1)).collect();
/// channels[2].0.send(42).unwrap();
///
/// let mut sel = Select::new();
/// for (_, rx) in &channels {
///     sel.recv(rx);
/// }
/// let oper = sel.select();
/// assert_eq!(oper.index(), 2);
/// assert_eq!(oper.recv(&channels[2].1), Ok(42));
/// ```
pub struct Select<'a> {
    cases: Vec<(Kind, usize, Box<dyn Case + 'a>)>,
}

impl core::fmt::Debug for Select<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Select")
            .field("cases", &self.cases.len())
            .finish()
    }
}

impl Default for Select<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Select<'a> {
    /// An empty select.
    pub fn new() -> Self {
        Select { cases: Vec::new() }
    }

    /// Adds a receive case on `rx`; returns its index.
    pub fn recv<T: 'a>(&mut self, rx: &'a Receiver<T>) -> usize {
        self.cases
            .push((Kind::Recv, rx.addr(), Box::new(RecvCase::new(rx))));
        self.cases.len() - 1
    }

    /// Adds a case sending `value` on `tx`; returns its index. If the case
    /// does not fire, [`Select::take_unsent`] gives the value back.
    pub fn send<T: 'a>(&mut self, tx: &'a Sender<T>, value: T) -> usize {
        self.cases
            .push((Kind::Send, tx.addr(), Box::new(SendCase::new(tx, value))));
        self.cases.len() - 1
    }

    fn run(&mut self, mode: Mode) -> Option<usize> {
        let mut cases: Vec<&mut dyn Case> = self
            .cases
            .iter_mut()
            .map(|c| &mut *c.2 as &mut dyn Case)
            .collect();
        run_blocking(&mut cases, mode)
    }

    /// Blocks until a case fires.
    ///
    /// # Panics
    /// With no cases: like Go's empty `select {}` it could never return.
    pub fn select(&mut self) -> SelectedOperation<'_, 'a> {
        assert!(
            !self.cases.is_empty(),
            "Select::select with no cases would block forever"
        );
        let index = self.run(Mode::Block).expect("blocking select fires a case");
        SelectedOperation { sel: self, index }
    }

    /// Fires a ready case, if any, without blocking.
    pub fn try_select(&mut self) -> Option<SelectedOperation<'_, 'a>> {
        let index = self.run(Mode::NonBlocking)?;
        Some(SelectedOperation { sel: self, index })
    }

    /// Waits at most `timeout` for a case to fire.
    pub fn select_timeout(&mut self, timeout: Duration) -> Option<SelectedOperation<'_, 'a>> {
        let index = self.run(Mode::timeout(timeout))?;
        Some(SelectedOperation { sel: self, index })
    }

    /// Waits asynchronously until a case fires; returns its index. Read
    /// its outcome with [`Select::recv_result`] / [`Select::send_result`].
    /// Dropping the future withdraws every case; nothing is consumed.
    pub fn select_async(&mut self) -> impl Future<Output = usize> + '_ {
        SelectAsync {
            sel: self,
            state: AsyncSelect::new(Mode::Block),
        }
    }

    /// The concrete case at `index`, checked to be a `kind` case on the
    /// channel `addr`.
    fn case<C>(&mut self, index: usize, kind: Kind, addr: usize) -> &mut C {
        let (k, a, case) = self
            .cases
            .get_mut(index)
            .expect("Select: no case with this index");
        // Every `never()` receiver has address 0 whatever its payload type,
        // so an address of 0 proves nothing; such a case never fires and
        // has no outcome to read anyway.
        assert!(
            *k == kind && *a == addr && addr != 0,
            "Select: the handle does not belong to case {index}"
        );
        // SAFETY: a case of this kind on this channel was created by
        // `recv`/`send` from a handle of the very channel (the address is
        // the live channel allocation, and no two live channels share one),
        // so its concrete type is `RecvCase<'a, T>` / `SendCase<'a, T>`
        // with the caller's `T`. (Address 0, shared by every `never()`
        // receiver, was refused above.)
        unsafe { &mut *(&mut **case as *mut dyn Case).cast::<C>() }
    }

    /// The outcome of the receive case `index` after it fired.
    ///
    /// # Panics
    /// If `rx` is not the receiver of that case or the case did not fire.
    pub fn recv_result<T: 'a>(&mut self, index: usize, rx: &Receiver<T>) -> Result<T, RecvError> {
        self.case::<RecvCase<'a, T>>(index, Kind::Recv, rx.addr())
            .take_result_pub()
            .expect("Select: this case did not fire")
    }

    /// The outcome of the send case `index` after it fired.
    ///
    /// # Panics
    /// If `tx` is not the sender of that case or the case did not fire.
    pub fn send_result<T: 'a>(&mut self, index: usize, tx: &Sender<T>) -> Result<(), SendError<T>> {
        self.case::<SendCase<'a, T>>(index, Kind::Send, tx.addr())
            .take_result_pub()
            .expect("Select: this case did not fire")
    }

    /// The value of send case `index` if it did not fire.
    ///
    /// # Panics
    /// If `tx` is not the sender of that case.
    pub fn take_unsent<T: 'a>(&mut self, index: usize, tx: &Sender<T>) -> Option<T> {
        self.case::<SendCase<'a, T>>(index, Kind::Send, tx.addr())
            .take_value_pub()
    }
}

/// The future of [`Select::select_async`]. The cases outlive it (they
/// belong to the `Select`), so dropping it withdraws them explicitly.
struct SelectAsync<'s, 'a> {
    sel: &'s mut Select<'a>,
    state: AsyncSelect,
}

impl Future for SelectAsync<'_, '_> {
    type Output = usize;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        let this = self.get_mut();
        let mut cases: Vec<&mut dyn Case> = this
            .sel
            .cases
            .iter_mut()
            .map(|c| &mut *c.2 as &mut dyn Case)
            .collect();
        this.state
            .poll(&mut cases, cx)
            .map(|i| i.expect("blocking select fires a case"))
    }
}

impl Drop for SelectAsync<'_, '_> {
    fn drop(&mut self) {
        for c in &mut self.sel.cases {
            c.2.withdraw();
        }
    }
}

/// The case a [`Select`] fired.
#[derive(Debug)]
#[must_use = "the outcome of a fired case should be read"]
pub struct SelectedOperation<'s, 'a> {
    sel: &'s mut Select<'a>,
    index: usize,
}

impl<'a> SelectedOperation<'_, 'a> {
    /// The index of the fired case.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The received value (or `Err` for a closed channel).
    ///
    /// # Panics
    /// If `rx` is not the receiver of the fired case.
    pub fn recv<T: 'a>(self, rx: &Receiver<T>) -> Result<T, RecvError> {
        self.sel.recv_result(self.index, rx)
    }

    /// The send's outcome (`Err` gives the value back: the channel closed).
    ///
    /// # Panics
    /// If `tx` is not the sender of the fired case.
    pub fn send<T: 'a>(self, tx: &Sender<T>) -> Result<(), SendError<T>> {
        self.sel.send_result(self.index, tx)
    }
}
