package main

// The echo server of sched/echo_tcp (bench-suite/src/echo.rs): a goroutine
// per connection over loopback, with Go's net package.

import (
	"bytes"
	"io"
	"net"
	"sync"
	"time"
)

// Counts shared with bench-suite/src/echo.rs.
const (
	echoConns = 64 // ECHO_CONNS
	echoBytes = 64 // ECHO_BYTES
)

// echoRequest is the request client c sends: its bytes identify it.
func echoRequest(c int) []byte {
	req := make([]byte, echoBytes)
	for i := range req {
		req[i] = byte(c*7 + i)
	}
	return req
}

// echoRoundTrip writes client c's request on conn and checks its echo.
func echoRoundTrip(conn net.Conn, req, back []byte) {
	if _, err := conn.Write(req); err != nil {
		fail("write a request: %v", err)
	}
	if _, err := io.ReadFull(conn, back); err != nil {
		fail("read the echo: %v", err)
	}
	if !bytes.Equal(back, req) {
		fail("the echo is not the request")
	}
}

// echoTCP: echoConns clients make ops requests in all against a server
// that runs a goroutine per connection; the connections are opened, and
// make one round trip each, before the clock starts.
func echoTCP(ops uint64) time.Duration {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("listen: %v", err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // the listener closed: the sample is over
			}
			go func(c net.Conn) {
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						if _, werr := c.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}(conn)
		}
	}()
	conns := make([]net.Conn, echoConns)
	for c := range conns {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			fail("dial: %v", err)
		}
		echoRoundTrip(conn, echoRequest(c), make([]byte, echoBytes))
		conns[c] = conn
	}
	var wg sync.WaitGroup
	begun := time.Now()
	for c, conn := range conns {
		wg.Add(1)
		go func(c int, conn net.Conn, n uint64) {
			defer wg.Done()
			req, back := echoRequest(c), make([]byte, echoBytes)
			for i := uint64(0); i < n; i++ {
				echoRoundTrip(conn, req, back)
			}
		}(c, conn, share(ops, uint64(c), echoConns))
	}
	wg.Wait()
	elapsed := time.Since(begun)
	for _, conn := range conns {
		conn.Close()
	}
	return elapsed
}
