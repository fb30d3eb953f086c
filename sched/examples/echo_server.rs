//! A TCP echo server where every connection is a goroutine (Go: a server
//! from the `net` package).
//!
//! ```go
//! ln, _ := net.Listen("tcp", "127.0.0.1:0")
//! for {
//!     conn, _ := ln.Accept()
//!     go func(c net.Conn) { io.Copy(c, c); c.Close() }(conn)
//! }
//! ```
//!
//! Go parks a goroutine that waits on a socket in the runtime's network
//! poller. hoare-sched has no poller of its own: any reactor that works
//! with every executor plugs in. Here it is `async-io`'s. An
//! `Async<TcpStream>` registers its socket with async-io's reactor (epoll
//! on Linux); a read or write that would block stores the goroutine's
//! waker there and returns `Pending`, and the goroutine's worker moves on
//! to other goroutines. async-io's own thread waits in epoll and wakes the
//! goroutine when the socket is ready; hoare-sched then runs it on
//! whichever worker is free, as Go's netpoller hands a ready goroutine
//! back to a P. With `Builder::park_with(|u| async_io::block_on(u))` an
//! idle worker waits in that reactor itself, as an idle Go M polls the
//! network, and wakes the ready goroutines without a trip through
//! async-io's thread.
//!
//! `main` serves a few clients and prints what they got back; the test
//! opens 2,000 connections at once (every one of them connected before any
//! sends), echoes a message on each and checks that all of them close.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_io::Async;
use futures::{AsyncReadExt, AsyncWriteExt};
use hoare_sched::{JoinHandle, Runtime, go, sleep, timeout};
use hoare_sync::WaitGroup;

/// Connections the server has open, and how many it has accepted.
#[derive(Default)]
struct ServerStats {
    open: AtomicUsize,
    accepted: AtomicUsize,
}

/// Connections the kernel queues for `accept`. std listens with a backlog of
/// 128; a burst of connections beyond the queue has its handshakes dropped
/// and retried by TCP after 1, 3, 7, ... seconds. Go's `net.Listen` asks
/// for the system's maximum (`somaxconn`), and so does this server.
const BACKLOG: i32 = 4096;

/// Binds a loopback listener and serves echo on it, one goroutine per
/// connection, until the returned handle is aborted or the runtime ends.
fn start_server(stats: Arc<ServerStats>) -> io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    // Listening again on a listening socket sets its backlog (the kernel
    // caps it at somaxconn).
    rustix::net::listen(&listener, BACKLOG)?;
    let listener = Async::new(listener)?;
    let addr = listener.get_ref().local_addr()?;
    let server = go(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    stats.accepted.fetch_add(1, Ordering::SeqCst);
                    stats.open.fetch_add(1, Ordering::SeqCst);
                    let stats = stats.clone();
                    go(async move {
                        // A peer that resets its connection ends only its
                        // own goroutine.
                        let _ = echo(stream).await;
                        stats.open.fetch_sub(1, Ordering::SeqCst);
                    });
                }
                // Out of file descriptors, say: Go's http server backs
                // off and tries again, and so does this one.
                Err(_) => sleep(Duration::from_millis(5)).await,
            }
        }
    });
    Ok((addr, server))
}

/// Copies what the peer sends back to it until the peer closes.
async fn echo(mut stream: Async<TcpStream>) -> io::Result<()> {
    let mut buf = [0; 4096];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
    }
}

/// One client: connects, waits until every client is connected, sends a
/// message, reads the echo, and closes.
async fn client(addr: SocketAddr, id: usize, all_connected: Arc<WaitGroup>) -> io::Result<()> {
    let mut stream = Async::<TcpStream>::connect(addr).await?;
    all_connected.done();
    all_connected.wait_async().await;
    let message = format!("hello from client {id}");
    stream.write_all(message.as_bytes()).await?;
    let mut back = vec![0; message.len()];
    stream.read_exact(&mut back).await?;
    if back != message.as_bytes() {
        return Err(io::Error::other(format!("client {id} got {back:?} back")));
    }
    Ok(()) // the stream drops: the connection closes
}

/// Runs `clients` clients against a fresh server, all connected at once;
/// returns how many connections the server accepted. Fails if it all takes
/// longer than `limit`.
fn run(clients: usize, limit: Duration) -> io::Result<usize> {
    let rt = Runtime::builder()
        .procs(2)
        .park_with(|unparked| async_io::block_on(unparked))
        .build();
    let all = async move {
        let stats = Arc::new(ServerStats::default());
        let (addr, server) = start_server(stats.clone())?;
        let all_connected = Arc::new(WaitGroup::new());
        all_connected.add(isize::try_from(clients).expect("a client count that fits an isize"));
        let handles: Vec<_> = (0..clients)
            .map(|id| go(client(addr, id, all_connected.clone())))
            .collect();
        for h in handles {
            // A client that panicked is a failure of the run.
            h.await.map_err(|e| io::Error::other(e.to_string()))??;
        }
        // Every client has closed; the server's goroutines see the end of
        // their streams and finish.
        while stats.open.load(Ordering::SeqCst) != 0 {
            sleep(Duration::from_millis(1)).await;
        }
        server.abort();
        Ok(stats.accepted.load(Ordering::SeqCst))
    };
    rt.block_on(timeout(limit, all)).unwrap_or_else(|_| {
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("{clients} connections did not all echo and close within {limit:?}"),
        ))
    })
}

fn main() -> io::Result<()> {
    let accepted = run(8, Duration::from_secs(10))?;
    println!("echoed a message on each of {accepted} connections");
    Ok(())
}

/// Makes room for `needed` open files, raising the soft limit up to the
/// hard one; fails clearly if the hard limit is too low.
#[cfg(test)]
fn ensure_open_files(needed: u64) {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    let soft = limit.current.unwrap_or(u64::MAX);
    if soft >= needed {
        return;
    }
    let hard = limit.maximum.unwrap_or(u64::MAX);
    assert!(
        hard >= needed,
        "this test opens {needed} files at once; the hard limit is {hard} (ulimit -Hn)"
    );
    limit.current = Some(needed);
    setrlimit(Resource::Nofile, limit).expect("raising the soft limit of open files");
}

#[test]
fn two_thousand_connections_echo_and_close() {
    const CLIENTS: usize = 2_000;
    // Each connection is two sockets here (client and server side).
    ensure_open_files(2 * CLIENTS as u64 + 256);
    let accepted = run(CLIENTS, Duration::from_secs(60)).expect("the echo run failed");
    assert_eq!(accepted, CLIENTS);
}
