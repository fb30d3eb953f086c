//! `sched/echo_tcp`: a TCP echo server over loopback, every connection a
//! goroutine, on hoare-sched with `async-io`'s reactor against the same
//! server on tokio (`tokio::net`) and in Go (`net`).
//!
//! Each sample starts a runtime with 2 workers, binds a listener (backlog
//! [`BACKLOG`], as Go's `net.Listen` asks for the system's maximum), starts
//! the accept loop, opens [`ECHO_CONNS`] client connections and makes one
//! round trip on each; all of that is before the clock starts. The timed
//! part: a client task per connection makes its share of the `ops` round
//! trips, each writing [`ECHO_BYTES`] bytes and reading them back; the
//! server's goroutine for that connection reads and writes them back. One
//! operation is one request and its echo, so the report's "per second"
//! column is requests per second. Clients and server share the runtime's
//! 2 workers, and every echo is checked.
//!
//! The two Rust entries differ in their reactor as much as in their
//! scheduler: tokio's workers wait in epoll themselves, while hoare-sched
//! has no reactor of its own and async-io's thread waits in epoll and wakes
//! the goroutines (see `sched/examples/echo_server.rs`).

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::sched_adapters::PROCS;
use crate::workload::{Scenario, Workload};

/// Client connections, each with its own server goroutine.
pub const ECHO_CONNS: usize = 64;
/// Bytes of each request (and of its echo).
pub const ECHO_BYTES: usize = 64;
/// The listener's accept queue (the kernel caps it at `somaxconn`).
pub const BACKLOG: i32 = 4096;

/// The scenario.
pub static ECHO_TCP: Scenario = Scenario {
    group: "sched",
    name: "echo_tcp",
    title: "TCP echo over loopback: 64 connections, a goroutine each",
    op: "one request: a client writes 64 bytes and reads their echo",
    about: "A server accepts connections over loopback and runs a goroutine per connection \
            that writes back what it reads; 64 client tasks, one per connection, each make \
            their share of the requests, on the same runtime (2 workers). `hoare` is \
            hoare-sched with `async-io`'s reactor, whose thread waits in epoll while the \
            workers are busy (idle workers wait in it themselves, through \
            `Builder::park_with`); `tokio` is tokio's multi-thread runtime with `tokio::net`, \
            whose workers poll epoll between tasks; `tokio+async-io` is the hoare entry's \
            code on tokio's runtime, the same reactor under the other scheduler; `go` is \
            Go's `net` package. The connections are opened, and make one round trip each, \
            before the clock starts.",
};

/// The workloads of the scenario, Go's included.
pub fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            scenario: &ECHO_TCP,
            implementation: "hoare",
            run: echo_hoare,
        },
        Workload {
            scenario: &ECHO_TCP,
            implementation: "tokio",
            run: echo_tokio,
        },
        Workload {
            scenario: &ECHO_TCP,
            implementation: "tokio+async-io",
            run: echo_tokio_async_io,
        },
        crate::go_workload!(ECHO_TCP),
    ]
}

/// A loopback listener with the larger backlog.
fn listener() -> io::Result<TcpListener> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    // Listening again on a listening socket sets its backlog.
    rustix::net::listen(&listener, BACKLOG)?;
    Ok(listener)
}

/// The request client `c` sends: its bytes identify it.
fn request(c: usize) -> [u8; ECHO_BYTES] {
    std::array::from_fn(|i| (c * 7 + i) as u8)
}

/// Client `c`'s share of `ops`.
fn share(ops: u64, c: usize) -> u64 {
    crate::sync_workloads::share(ops, c as u64, ECHO_CONNS as u64)
}

const SERVER_FAILED: &str = "the echo bench's connections stay open until it ends";

/// A boxed task, for [`echo_async_io`]'s `spawn`.
type Task = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

fn echo_hoare(ops: u64) -> Duration {
    // Idle workers wait in async-io's reactor and handle its events
    // themselves (`Builder::park_with`).
    let rt = hoare_sched::Runtime::builder()
        .procs(PROCS)
        .park_with(|unparked| async_io::block_on(unparked))
        .build();
    echo_async_io(ops, |f| rt.block_on(f), hoare_sched::go)
}

/// The hoare entry's code on tokio's scheduler: the same reactor
/// (async-io's) under the other scheduler.
fn echo_tokio_async_io(ops: u64) -> Duration {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(PROCS)
        .build()
        .expect("build a multi-thread tokio runtime");
    echo_async_io(ops, |f| rt.block_on(f), tokio::spawn)
}

/// The echo server and its clients on async-io's sockets, run by
/// `block_on` with tasks started by `spawn`.
fn echo_async_io<H, E>(
    ops: u64,
    block_on: impl FnOnce(std::pin::Pin<Box<dyn std::future::Future<Output = Duration>>>) -> Duration,
    spawn: fn(Task) -> H,
) -> Duration
where
    H: std::future::Future<Output = Result<(), E>> + 'static,
    E: std::fmt::Debug,
{
    use async_io::Async;
    use futures::{AsyncReadExt, AsyncWriteExt};

    block_on(Box::pin(async move {
        let listener = Async::new(listener().expect("bind a loopback listener"))
            .expect("register the listener with async-io");
        let addr: SocketAddr = listener.get_ref().local_addr().expect("listener address");
        let server = spawn(Box::pin(async move {
            loop {
                let (mut stream, _) = listener.accept().await.expect("accept");
                // Go's connections have Nagle's algorithm off; these too.
                stream.get_ref().set_nodelay(true).expect("nodelay");
                drop(spawn(Box::pin(async move {
                    let mut buf = [0; 4096];
                    loop {
                        let n = stream.read(&mut buf).await.expect(SERVER_FAILED);
                        if n == 0 {
                            break;
                        }
                        stream.write_all(&buf[..n]).await.expect(SERVER_FAILED);
                    }
                })));
            }
        }));
        let mut clients = Vec::with_capacity(ECHO_CONNS);
        for c in 0..ECHO_CONNS {
            let mut stream = Async::<TcpStream>::connect(addr).await.expect("connect");
            stream.get_ref().set_nodelay(true).expect("nodelay");
            round_trip_async(&mut stream, c).await;
            clients.push(stream);
        }
        let begun = Instant::now();
        let handles: Vec<_> = clients
            .into_iter()
            .enumerate()
            .map(|(c, mut stream)| {
                spawn(Box::pin(async move {
                    for _ in 0..share(ops, c) {
                        round_trip_async(&mut stream, c).await;
                    }
                }))
            })
            .collect();
        for h in handles {
            h.await.expect("a client task panicked");
        }
        let elapsed = begun.elapsed();
        // The server's accept loop never ends: it is cancelled with the
        // runtime.
        drop(server);
        elapsed
    }))
}

/// One request and its echo on `stream`, checked.
async fn round_trip_async<S>(stream: &mut S, c: usize)
where
    S: futures::AsyncRead + futures::AsyncWrite + Unpin,
{
    use futures::{AsyncReadExt, AsyncWriteExt};
    let req = request(c);
    stream.write_all(&req).await.expect("write a request");
    let mut back = [0; ECHO_BYTES];
    stream.read_exact(&mut back).await.expect("read the echo");
    assert_eq!(back, req, "the echo is the request");
}

fn echo_tokio(ops: u64) -> Duration {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(PROCS)
        .enable_io()
        .build()
        .expect("build a multi-thread tokio runtime with I/O");
    rt.block_on(async move {
        let std_listener = listener().expect("bind a loopback listener");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let listener = tokio::net::TcpListener::from_std(std_listener).expect("tokio listener");
        let addr = listener.local_addr().expect("listener address");
        let server = tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.expect("accept");
                stream.set_nodelay(true).expect("nodelay");
                tokio::spawn(async move {
                    let mut buf = [0; 4096];
                    loop {
                        let n = stream.read(&mut buf).await.expect(SERVER_FAILED);
                        if n == 0 {
                            break;
                        }
                        stream.write_all(&buf[..n]).await.expect(SERVER_FAILED);
                    }
                });
            }
        });
        async fn round_trip(stream: &mut tokio::net::TcpStream, c: usize) {
            let req = request(c);
            stream.write_all(&req).await.expect("write a request");
            let mut back = [0; ECHO_BYTES];
            stream.read_exact(&mut back).await.expect("read the echo");
            assert_eq!(back, req, "the echo is the request");
        }
        let mut clients = Vec::with_capacity(ECHO_CONNS);
        for c in 0..ECHO_CONNS {
            let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            round_trip(&mut stream, c).await;
            clients.push(stream);
        }
        let begun = Instant::now();
        let handles: Vec<_> = clients
            .into_iter()
            .enumerate()
            .map(|(c, mut stream)| {
                tokio::spawn(async move {
                    for _ in 0..share(ops, c) {
                        round_trip(&mut stream, c).await;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.expect("a client task panicked");
        }
        let elapsed = begun.elapsed();
        server.abort();
        elapsed
    })
}
