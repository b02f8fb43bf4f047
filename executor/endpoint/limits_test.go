package endpoint_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dpl-dev/dpl/executor/endpoint"
)

// serveOn runs srv.Serve on a loopback listener until the test ends.
func serveOn(t *testing.T, opts endpoint.Options) string {
	t.Helper()
	opts.StateDir = t.TempDir()
	if opts.Credentials == nil {
		opts.Credentials = endpoint.Credentials{testKey: testSecret}
	}
	opts.Logf = t.Logf
	srv, err := endpoint.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx, l) }()
	t.Cleanup(func() { cancel(); <-done; srv.Close() })
	return l.Addr().String()
}

// closedByServer reads c until the server closes it or the deadline.
func closedByServer(c net.Conn, within time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(within))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// TestHalfOpenPostsCapped: 300 connections that never finish their
// headers: beyond the per-client cap they are closed at once, and the
// ones held are closed at the header timeout.
func TestHalfOpenPostsCapped(t *testing.T) {
	const conns, capPerClient = 300, 20
	addr := serveOn(t, endpoint.Options{MaxConnsPerClient: capPerClient, HeaderTimeout: 8 * time.Second})
	var cs []net.Conn
	for range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n")
		cs = append(cs, c)
	}
	// Closing refused connections takes the server no time; held ones
	// stay until the header timeout, well after these reads give up.
	var held []net.Conn
	for _, c := range cs {
		if !closedByServer(c, 100*time.Millisecond) {
			held = append(held, c)
		}
	}
	if len(held) > capPerClient {
		t.Fatalf("%d of %d half-open connections held, the cap is %d", len(held), conns, capPerClient)
	}
	for i, c := range held {
		if !closedByServer(c, 60*time.Second) {
			t.Fatalf("held connection %d not closed by the header timeout", i)
		}
	}
	t.Logf("%d half-open POSTs: %d held until the header timeout, %d closed at once", conns, len(held), conns-len(held))
}

// TestSlowBodyTimesOut: a client that sends headers and then trickles
// nothing gets RequestTimeoutException when the body timeout ends.
func TestSlowBodyTimesOut(t *testing.T) {
	addr := serveOn(t, endpoint.Options{BodyTimeout: 500 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DataPipeline.ListPipelines\r\nContent-Length: 100\r\n\r\n{\"mar")
	_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), "RequestTimeoutException") {
		t.Fatalf("stalled body: %d %s", resp.StatusCode, body)
	}
}

// TestRateLimitThrottles: past its rate a client gets ThrottlingException
// (HTTP 400, the service's code), others are unaffected in kind.
func TestRateLimitThrottles(t *testing.T) {
	h := startServer(t, func(o *endpoint.Options) { o.RateLimit, o.RateBurst = 1, 5 })
	ok, throttled := 0, 0
	for range 20 {
		r := call(t, h.url, "DataPipeline.ListPipelines", "application/x-amz-json-1.1", []byte(`{}`), testKey, testSecret, nil)
		switch {
		case r.status == 200:
			ok++
		case r.status == 400 && r.code == "ThrottlingException":
			throttled++
		default:
			t.Fatalf("unexpected answer %d %s", r.status, r.body)
		}
	}
	if ok < 5 || throttled == 0 || ok+throttled != 20 {
		t.Fatalf("20 calls at a limit of 1/s burst 5: %d ok, %d throttled", ok, throttled)
	}
}

// TestLargeBodiesBounded: 8 bodies declared at 30 MB are refused (413)
// before they are read, and of 8 bodies under the limit sent at once only
// as many as the body budget (2 × MaxBodyBytes) holds are read; the rest
// are throttled, so memory stays bounded.
func TestLargeBodiesBounded(t *testing.T) {
	const maxBody = 1 << 20
	h := startServer(t, func(o *endpoint.Options) { o.MaxBodyBytes = maxBody })
	send := func(declared int64, body io.Reader) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, h.url+"/", body)
		req.ContentLength = declared
		req.Header.Set("X-Amz-Target", "DataPipeline.ListPipelines")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	results := map[string]int{}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pr, pw := io.Pipe()
			defer pw.Close()
			go func() { _, _ = pw.Write(make([]byte, 64<<10)) }() // never the whole 30 MB
			st, _ := send(30<<20, pr)
			mu.Lock()
			results[fmt.Sprint(st)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if results["413"] != 8 {
		t.Fatalf("8 × 30 MB declared bodies: %v, want 8 × 413", results)
	}
	// Bodies of unknown length (chunked) reserve the maximum each: two
	// fit the budget and stay in it until their bodies end; the other six
	// are throttled at once, which the test waits for before ending them.
	release := make(chan struct{})
	answered := make(chan string, 8)
	for range 8 {
		pr, pw := io.Pipe()
		go func() {
			_, body := send(-1, pr)
			switch {
			case strings.Contains(body, "ThrottlingException"):
				answered <- "throttled"
			case strings.Contains(body, "Missing Authentication"): // unsigned: read whole, then refused
				answered <- "read"
			default:
				answered <- body
			}
		}()
		go func() {
			<-release
			_, _ = pw.Write([]byte("{}"))
			pw.Close()
		}()
	}
	results = map[string]int{}
	timeout := time.After(60 * time.Second)
	for results["throttled"] < 6 {
		select {
		case r := <-answered:
			results[r]++
		case <-timeout:
			close(release)
			t.Fatalf("8 chunked bodies at a budget of 2 × %d: only %v answered while 2 should hold the budget", maxBody, results)
		}
	}
	close(release)
	for results["read"]+results["throttled"] < 8 && len(results) <= 2 {
		results[<-answered]++
	}
	if results["read"] != 2 || results["throttled"] != 6 {
		t.Fatalf("8 chunked bodies at a budget of 2 × %d: %v, want 2 read and 6 throttled", maxBody, results)
	}
}
