//! `futures` integration (feature `futures`, on by default): `Receiver` is
//! a `Stream`, `Sender` a `Sink`.
//!
//! The stream yields values until the channel is closed and drained. The
//! sink sends each item as `send_async` would; `poll_ready` waits until the
//! previous item was sent, and `poll_close` only flushes: closing one
//! sender's sink does not close a channel that other senders share (call
//! [`Sender::close`] for that).

use core::pin::Pin;
use core::task::{Context, Poll};

use futures_core::Stream;
use futures_sink::Sink;

use crate::channel::{Receiver, Sender};
use crate::err::SendError;

impl<T> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().poll_recv(cx)
    }
}

impl<T> Sink<T> for Sender<T> {
    type Error = SendError<T>;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SendError<T>>> {
        self.get_mut().poll_sink(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: T) -> Result<(), SendError<T>> {
        self.get_mut().sink_parts().start(item);
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SendError<T>>> {
        self.get_mut().poll_sink(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SendError<T>>> {
        self.get_mut().poll_sink(cx)
    }
}

#[cfg(test)]
mod tests {
    use futures::{SinkExt, StreamExt};

    #[test]
    fn stream_yields_until_closed_and_sink_sends_in_order() {
        futures::executor::block_on(async {
            let (mut tx, rx) = crate::bounded::<u32>(0);
            let consumer =
                std::thread::spawn(move || futures::executor::block_on(rx.collect::<Vec<_>>()));
            for i in 0..10 {
                SinkExt::send(&mut tx, i).await.unwrap();
            }
            drop(tx);
            assert_eq!(consumer.join().unwrap(), (0..10).collect::<Vec<_>>());
        });
    }
}
