// Package mototest gives integration tests a real moto server (the Python
// AWS emulator) to drive with the real SDK. Start reuses the endpoint in
// DPL_TEST_MOTO_ENDPOINT when CI already runs one (.ci/moto.sh), else it
// starts `moto_server` on a free loopback port and kills it when the test
// ends. Without moto the test is skipped with a loud reason.
package mototest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// EnvEndpoint names the variable holding an already running server's URL.
const EnvEndpoint = "DPL_TEST_MOTO_ENDPOINT"

// Credentials accepted by moto (any non-empty pair works).
const (
	AccessKeyID     = "testing"
	SecretAccessKey = "testing"
)

// Server is a reachable moto endpoint.
type Server struct {
	Endpoint string // http://127.0.0.1:PORT
}

// Start returns a moto server for t: the shared one named by
// DPL_TEST_MOTO_ENDPOINT, or a private one killed at t's cleanup. Tests
// sharing a server must use unique bucket, table and topic names.
func Start(t testing.TB) *Server {
	t.Helper()
	if ep := os.Getenv(EnvEndpoint); ep != "" {
		if err := waitReady(ep, 5*time.Second); err != nil {
			t.Fatalf("%s=%s is set but the server does not answer: %v", EnvEndpoint, ep, err)
		}
		return &Server{Endpoint: ep}
	}
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Skipf("SKIPPED: moto_server not found on PATH (pip install 'moto[server]') and %s unset; AWS integration test not run", EnvEndpoint)
	}
	srv, stop, err := launch(bin)
	if err != nil {
		t.Fatalf("starting moto_server: %v", err)
	}
	t.Cleanup(stop)
	return srv
}

var (
	sharedOnce sync.Once
	shared     *Server
	sharedStop func()
	sharedErr  error
)

// Shared is like Start but keeps one private server for the whole test
// binary (benchmarks and large suites); call StopShared from TestMain.
func Shared(t testing.TB) *Server {
	t.Helper()
	if os.Getenv(EnvEndpoint) != "" {
		return Start(t)
	}
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Skipf("SKIPPED: moto_server not found on PATH and %s unset; AWS integration test not run", EnvEndpoint)
	}
	sharedOnce.Do(func() { shared, sharedStop, sharedErr = launch(bin) })
	if sharedErr != nil {
		t.Fatalf("starting moto_server: %v", sharedErr)
	}
	return shared
}

// StopShared kills the server started by Shared, if any.
func StopShared() {
	if sharedStop != nil {
		sharedStop()
	}
}

func launch(bin string) (*Server, func(), error) {
	port, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	var logBuf bytes.Buffer
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	stop := func() {
		// moto_server may fork a reloader; kill its whole process group.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}
	ep := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitReady(ep, 30*time.Second); err != nil {
		stop()
		return nil, nil, fmt.Errorf("%w; moto output:\n%s", err, logBuf.String())
	}
	return &Server{Endpoint: ep}, stop, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitReady(ep string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ep+"/moto-api/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("moto at %s not ready after %s (last error: %v)", ep, limit, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
