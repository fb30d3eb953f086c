//! The `futures` integration: `Receiver` as a `Stream` (and
//! `poll_recv`) yields every value and ends at close; `Sender` as a `Sink`
//! delivers each item, flush waits for delivery, close does not close a
//! shared channel; and both withdraw cleanly when their handle is dropped
//! with an operation pending.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Waker};
use std::thread;

use futures::executor::block_on;
use futures::{Sink, SinkExt, StreamExt};
use hoare_chan::{SendError, TryRecvError};

mod util;
use util::{Drops, FLAVORS, Flavor, poll_once, settle};

const N: usize = if cfg!(miri) { 8 } else { 500 };

#[test]
fn the_stream_yields_every_value_then_ends_when_the_channel_closes() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<usize>();
        let producer = thread::spawn(move || {
            for i in 0..N {
                tx.send(i).unwrap();
            }
        });
        let got: Vec<usize> = block_on(rx.collect());
        assert_eq!(got, (0..N).collect::<Vec<_>>(), "{flavor:?}");
        producer.join().unwrap();
    }
}

#[test]
fn poll_recv_yields_values_and_none_at_close() {
    let (tx, mut rx) = Flavor::Sixteen.make::<u32>();
    tx.send(1).unwrap();
    assert_eq!(block_on(poll_fn(|cx| rx.poll_recv(cx))), Some(1));
    assert!(poll_once(Pin::new(&mut poll_fn(|cx| rx.poll_recv(cx)))).is_pending());
    tx.send(2).unwrap();
    assert_eq!(block_on(poll_fn(|cx| rx.poll_recv(cx))), Some(2));
    drop(tx);
    assert_eq!(block_on(poll_fn(|cx| rx.poll_recv(cx))), None);
}

#[test]
fn sink_items_arrive_in_order_on_every_flavor() {
    for flavor in FLAVORS {
        let (mut tx, rx) = flavor.make::<usize>();
        let consumer = thread::spawn(move || rx.iter().collect::<Vec<_>>());
        block_on(async {
            for i in 0..N {
                SinkExt::send(&mut tx, i).await.unwrap();
            }
        });
        drop(tx);
        assert_eq!(
            consumer.join().unwrap(),
            (0..N).collect::<Vec<_>>(),
            "{flavor:?}"
        );
    }
}

#[test]
fn a_sink_send_on_an_unbuffered_channel_completes_only_after_delivery() {
    let (mut tx, rx) = Flavor::Zero.make::<u32>();
    let receiving = Arc::new(AtomicBool::new(false));
    let r = receiving.clone();
    let receiver = thread::spawn(move || {
        settle();
        r.store(true, Ordering::SeqCst);
        rx.recv()
    });
    // `send` = feed + flush: it returns once a receiver took the item.
    block_on(SinkExt::send(&mut tx, 3)).unwrap();
    assert!(
        receiving.load(Ordering::SeqCst),
        "the sink's send completed before any receive"
    );
    assert_eq!(receiver.join().unwrap(), Ok(3));
}

#[test]
fn closing_one_sink_does_not_close_a_shared_channel() {
    let (mut tx, rx) = Flavor::Sixteen.make::<u32>();
    let tx2 = tx.clone();
    block_on(async {
        SinkExt::send(&mut tx, 1).await.unwrap();
        SinkExt::close(&mut tx).await.unwrap();
    });
    assert!(!rx.is_closed());
    tx2.send(2).unwrap();
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [1, 2]);
}

#[test]
fn a_sink_on_a_closed_channel_gives_the_item_back() {
    for flavor in FLAVORS {
        let (mut tx, rx) = flavor.make::<String>();
        drop(rx);
        let r = block_on(SinkExt::send(&mut tx, "back".to_string()));
        assert_eq!(r, Err(SendError("back".to_string())), "{flavor:?}");
    }
}

#[test]
fn dropping_a_receiver_with_a_pending_stream_poll_loses_no_value() {
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<u32>();
        let mut streaming = rx.clone();
        let mut cx = Context::from_waker(Waker::noop());
        assert!(streaming.poll_next_unpin(&mut cx).is_pending());
        let sender = thread::spawn(move || {
            tx.send(6).unwrap();
            tx // kept open: a close would wake everybody
        });
        settle();
        drop(streaming);
        assert_eq!(
            rx.recv_timeout(util::HANG),
            Ok(6),
            "{flavor:?}: the value was lost"
        );
        drop(sender.join().unwrap());
    }
}

#[test]
fn dropping_a_sender_with_a_pending_sink_item_delivers_nothing() {
    for flavor in [Flavor::Zero, Flavor::One] {
        let drops = Drops::new();
        let (tx, rx) = flavor.make();
        if flavor == Flavor::One {
            tx.send(drops.make(0)).unwrap();
        }
        let mut sink = tx.clone();
        block_on(poll_fn(|cx| Pin::new(&mut sink).poll_ready(cx))).unwrap();
        Pin::new(&mut sink).start_send(drops.make(1)).unwrap();
        assert!(
            poll_once(Pin::new(&mut poll_fn(
                |cx| Pin::new(&mut sink).poll_flush(cx)
            )))
            .is_pending()
        );
        drop(sink);
        assert_eq!(
            drops.get(),
            1,
            "{flavor:?}: the pending item is dropped with its sender"
        );
        drop(tx);
        let ids: Vec<usize> = rx.iter().map(|c| c.id).collect();
        assert!(
            !ids.contains(&1),
            "{flavor:?}: the withdrawn item was delivered"
        );
        assert_eq!(rx.try_recv().err(), Some(TryRecvError::Closed));
    }
}

#[test]
fn closing_the_channel_gives_a_pending_sink_item_back() {
    for flavor in [Flavor::Zero, Flavor::One] {
        let (mut tx, rx) = flavor.make::<String>();
        if flavor == Flavor::One {
            tx.try_send("buffered".into()).unwrap();
        }
        let closer = tx.clone();
        block_on(poll_fn(|cx| Pin::new(&mut tx).poll_ready(cx))).unwrap();
        Pin::new(&mut tx).start_send("pending".into()).unwrap();
        assert!(
            poll_once(Pin::new(
                &mut poll_fn(|cx| Pin::new(&mut tx).poll_flush(cx))
            ))
            .is_pending()
        );
        assert!(closer.close());
        let r = block_on(poll_fn(|cx| Pin::new(&mut tx).poll_flush(cx)));
        assert_eq!(r, Err(SendError("pending".to_string())), "{flavor:?}");
        // The sink is usable again, and reports the close.
        assert!(block_on(SinkExt::send(&mut tx, "later".into())).is_err());
        drop(rx);
    }
}

#[test]
#[cfg_attr(miri, ignore = "tokio's runtime does not run under Miri")]
fn streams_and_sinks_in_tokio_tasks_deliver_each_value_once() {
    let rt = util::tokio_rt();
    for flavor in FLAVORS {
        let (tx, rx) = flavor.make::<usize>();
        let mut got: Vec<usize> = rt.block_on(async move {
            let producers: Vec<_> = (0..2)
                .map(|p| {
                    let mut tx = tx.clone();
                    tokio::spawn(async move {
                        for i in 0..N {
                            SinkExt::send(&mut tx, p * N + i).await.unwrap();
                        }
                    })
                })
                .collect();
            drop(tx);
            let consumers: Vec<_> = (0..2)
                .map(|_| tokio::spawn(rx.clone().collect::<Vec<_>>()))
                .collect();
            drop(rx);
            for p in producers {
                p.await.unwrap();
            }
            let mut all = Vec::new();
            for c in consumers {
                all.extend(c.await.unwrap());
            }
            all
        });
        got.sort_unstable();
        assert_eq!(got, (0..2 * N).collect::<Vec<_>>(), "{flavor:?}");
    }
}
