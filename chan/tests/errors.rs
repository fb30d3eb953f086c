//! The error types: `Debug` for every payload (so `.unwrap()` works on
//! any `T`), `Display` messages a user understands, `std::error::Error`,
//! the value carried back, and the conversions between them.

use std::error::Error;

use hoare_chan::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError, bounded,
    unbounded,
};

mod util;
use util::NotDebug;

#[test]
fn debug_works_for_a_payload_without_debug() {
    assert_eq!(format!("{:?}", SendError(NotDebug(1))), "SendError(..)");
    assert_eq!(format!("{:?}", TrySendError::Full(NotDebug(1))), "Full(..)");
    assert_eq!(
        format!("{:?}", TrySendError::Closed(NotDebug(1))),
        "Closed(..)"
    );
    assert_eq!(
        format!("{:?}", SendTimeoutError::Timeout(NotDebug(1))),
        "Timeout(..)"
    );
    assert_eq!(
        format!("{:?}", SendTimeoutError::Closed(NotDebug(1))),
        "Closed(..)"
    );
    assert_eq!(format!("{RecvError:?}"), "RecvError");
    assert_eq!(format!("{:?}", TryRecvError::Empty), "Empty");
    assert_eq!(format!("{:?}", RecvTimeoutError::Timeout), "Timeout");
}

#[test]
fn unwrap_compiles_and_works_for_a_payload_without_debug() {
    let (tx, rx) = bounded::<NotDebug>(1);
    let sent: Result<(), SendError<NotDebug>> = tx.send(NotDebug(7));
    sent.unwrap();
    tx.try_send(NotDebug(8)).unwrap_err();
    tx.send_timeout(NotDebug(9), std::time::Duration::ZERO)
        .unwrap_err();
    assert_eq!(rx.recv().unwrap().0, 7);
    drop(rx);
    let back = tx.send(NotDebug(10)).unwrap_err().into_inner();
    assert_eq!(back.0, 10);
}

#[test]
#[should_panic(expected = "SendError(..)")]
fn unwrap_of_a_failed_send_panics_with_the_debug_form() {
    let (tx, rx) = unbounded::<NotDebug>();
    drop(rx);
    tx.send(NotDebug(1)).unwrap();
}

#[test]
fn display_messages_say_what_happened() {
    let cases: [(String, &[&str]); 9] = [
        (SendError(NotDebug(0)).to_string(), &["closed"]),
        (TrySendError::Full(NotDebug(0)).to_string(), &["full"]),
        (TrySendError::Closed(NotDebug(0)).to_string(), &["closed"]),
        (
            SendTimeoutError::Timeout(NotDebug(0)).to_string(),
            &["timed out"],
        ),
        (
            SendTimeoutError::Closed(NotDebug(0)).to_string(),
            &["closed"],
        ),
        (RecvError.to_string(), &["closed", "empty"]),
        (TryRecvError::Empty.to_string(), &["empty"]),
        (TryRecvError::Closed.to_string(), &["closed"]),
        (RecvTimeoutError::Timeout.to_string(), &["timed out"]),
    ];
    for (msg, words) in cases {
        for w in words {
            assert!(msg.contains(w), "{msg:?} should mention {w:?}");
        }
        assert!(
            !msg.ends_with('.'),
            "{msg:?}: std style has no final period"
        );
    }
    assert!(RecvTimeoutError::Closed.to_string().contains("closed"));
    // The message for a full channel is not the one for a closed channel.
    assert_ne!(
        TrySendError::Full(0).to_string(),
        TrySendError::Closed(0).to_string()
    );
}

#[test]
fn every_error_is_a_std_error_even_for_a_payload_without_debug() {
    fn is_error<E: Error + Send + Sync + 'static>(_: &E) {}
    is_error(&SendError(NotDebug(0)));
    is_error(&TrySendError::Full(NotDebug(0)));
    is_error(&SendTimeoutError::Timeout(NotDebug(0)));
    is_error(&RecvError);
    is_error(&TryRecvError::Empty);
    is_error(&RecvTimeoutError::Timeout);
    assert!(SendError(NotDebug(0)).source().is_none());
}

#[test]
fn errors_propagate_with_the_question_mark_operator() {
    fn send_then_close() -> Result<(), Box<dyn Error + Send + Sync>> {
        let (tx, rx) = bounded::<NotDebug>(1);
        tx.send(NotDebug(1))?;
        drop(rx);
        tx.send(NotDebug(2))?;
        Ok(())
    }
    let err = send_then_close().unwrap_err();
    assert_eq!(err.to_string(), SendError(()).to_string());
}

#[test]
fn send_errors_give_the_value_back() {
    assert_eq!(SendError("a").into_inner(), "a");
    assert_eq!(SendError("a").0, "a");
    assert_eq!(TrySendError::Full("b").into_inner(), "b");
    assert_eq!(TrySendError::Closed("c").into_inner(), "c");
    assert_eq!(SendTimeoutError::Timeout("d").into_inner(), "d");
    assert_eq!(SendTimeoutError::Closed("e").into_inner(), "e");
}

#[test]
fn predicates_tell_the_kinds_apart() {
    assert!(TrySendError::Full(()).is_full() && !TrySendError::Full(()).is_closed());
    assert!(TrySendError::Closed(()).is_closed() && !TrySendError::Closed(()).is_full());
    assert!(SendTimeoutError::Timeout(()).is_timeout());
    assert!(!SendTimeoutError::Timeout(()).is_closed());
    assert!(SendTimeoutError::Closed(()).is_closed());
    assert!(!SendTimeoutError::Closed(()).is_timeout());
    assert!(TryRecvError::Empty.is_empty() && !TryRecvError::Empty.is_closed());
    assert!(TryRecvError::Closed.is_closed() && !TryRecvError::Closed.is_empty());
    assert!(RecvTimeoutError::Timeout.is_timeout() && !RecvTimeoutError::Timeout.is_closed());
    assert!(RecvTimeoutError::Closed.is_closed() && !RecvTimeoutError::Closed.is_timeout());
}

#[test]
fn a_closed_send_converts_to_the_closed_variant_of_the_other_errors() {
    assert_eq!(TrySendError::from(SendError(1)), TrySendError::Closed(1));
    assert_eq!(
        SendTimeoutError::from(SendError(1)),
        SendTimeoutError::Closed(1)
    );
    assert_eq!(TryRecvError::from(RecvError), TryRecvError::Closed);
    assert_eq!(RecvTimeoutError::from(RecvError), RecvTimeoutError::Closed);
}
