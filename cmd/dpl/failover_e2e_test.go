package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline"
	"github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
	"github.com/jackc/pgx/v5"

	"github.com/dpl-dev/dpl/executor/remote"
)

// TestServeFailover (issue 18, active/standby and task leases): several
// `dpl serve` processes on one PostgreSQL schema, 8 `dpl taskrunner`
// processes polling all of them, a pipeline of many tasks; at random
// moments the leader is killed (kill -9) or stopped (SIGSTOP, then woken
// after a standby took over). Measured and checked per trial: the time
// until a standby leads, the time until tasks finish again; at the end
// every task ran exactly once (each command appends its own line), the
// pipeline is FINISHED and HEALTHY, and the events written before every
// kill are unchanged.
//
// Default: 2 serve processes, 400 tasks, one kill -9 and one SIGSTOP.
// DPL_TEST_FAILOVER_FULL=1: 3 processes, 2,000 tasks, 4 trials.
func TestServeFailover(t *testing.T) {
	dsn := os.Getenv("DPL_TEST_PG_DSN")
	if dsn == "" {
		t.Skip("SKIPPED: DPL_TEST_PG_DSN is not set; run .ci/databases.sh (or source /tmp/dpl-databases.env) to test dpl serve failover on PostgreSQL")
	}
	bin := dplBinary(t)
	nodes, occurrences, trials := 2, 20, []string{"kill", "stop"}
	if os.Getenv("DPL_TEST_FAILOVER_FULL") != "" {
		nodes, occurrences, trials = 3, 100, []string{"kill", "stop", "kill", "stop"}
	}
	const comps, runners = 20, 8
	total := comps * occurrences
	dir := t.TempDir()
	ctx := context.Background()
	schema := fmt.Sprintf("dpl_failover_%d", rand.Uint32())
	t.Cleanup(func() {
		if conn, err := pgx.Connect(ctx, dsn); err == nil {
			_, _ = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
			conn.Close(ctx)
		}
	})
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)

	creds := writeFile(t, dir, "credentials", "[dpl-serve]\naws_access_key_id = AKIDFAILOVER\naws_secret_access_key = failover-secret\n")
	env := append(os.Environ(), "AWS_SHARED_CREDENTIALS_FILE="+creds, "AWS_PROFILE=dpl-serve", "AWS_CONFIG_FILE=/dev/null",
		"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN=")
	addrs := make([]string, nodes)
	for i := range addrs {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = l.Addr().String()
		l.Close()
	}
	procs := make([]*exec.Cmd, nodes)
	start := func(i int) {
		t.Helper()
		logPath := filepath.Join(dir, fmt.Sprintf("serve%d.log", i))
		logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "serve", "--listen", addrs[i], "--state-dir", filepath.Join(dir, fmt.Sprintf("node%d", i)),
			"--store", dsn, "--store-schema", schema, "--credentials", creds, "--max-objects", "200",
			"--poll-timeout", "3s", "--ack-timeout", "30s", "--progress-timeout", "30s",
			"--rate-limit", "-1", "--max-conns-per-client", "-1")
		cmd.Env, cmd.Stderr, cmd.Stdout = env, logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		logf.Close()
		procs[i] = cmd
		deadline := time.Now().Add(30 * time.Second)
		for {
			if c, err := net.DialTimeout("tcp", addrs[i], time.Second); err == nil {
				c.Close()
				return
			}
			if time.Now().After(deadline) {
				b, _ := os.ReadFile(logPath)
				t.Fatalf("serve %d did not start:\n%s", i, b)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Cleanup(func() {
		for _, p := range procs {
			if p != nil && p.Process != nil {
				_ = p.Process.Signal(syscall.SIGCONT)
				_ = p.Process.Kill()
				_ = p.Wait()
			}
		}
		if t.Failed() {
			for i := range procs {
				b, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("serve%d.log", i)))
				t.Logf("serve %d log:\n%s", i, tail(string(b), 40))
			}
		}
	})
	for i := range nodes {
		start(i)
	}
	urls := make([]string, nodes)
	for i, a := range addrs {
		urls[i] = "http://" + a
	}
	// The API through any node: the client fails over between them.
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	t.Setenv("AWS_PROFILE", "dpl-serve")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	api, err := remote.Dial(ctx, remote.ClientOptions{Endpoint: strings.Join(urls, ","), CallTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	call := func(f func(dp *datapipeline.Client) error) error {
		var err error
		for range 10 { // a takeover may be under way: ServiceUnavailable, retry
			if err = api.Do(ctx, f); err == nil || !strings.Contains(err.Error(), "StatusCode: 5") {
				return err
			}
			time.Sleep(time.Second)
		}
		return err
	}

	ran := filepath.Join(dir, "ran.log")
	var objs []types.PipelineObject
	str := func(k, v string) types.Field { return types.Field{Key: aws.String(k), StringValue: aws.String(v)} }
	ref := func(k, v string) types.Field { return types.Field{Key: aws.String(k), RefValue: aws.String(v)} }
	objs = append(objs, types.PipelineObject{Id: aws.String("Default"), Name: aws.String("Default"), Fields: []types.Field{
		str("scheduleType", "cron"), ref("schedule", "S"), str("maximumRetries", "0"), str("workerGroup", "load")}})
	objs = append(objs, types.PipelineObject{Id: aws.String("S"), Name: aws.String("S"), Fields: []types.Field{
		str("type", "Schedule"), str("period", "15 minutes"), str("startDateTime", "2024-01-01T00:00:00"), str("occurrences", fmt.Sprint(occurrences))}})
	for c := range comps {
		id := fmt.Sprintf("L%02d", c)
		objs = append(objs, types.PipelineObject{Id: aws.String(id), Name: aws.String(id), Fields: []types.Field{
			str("type", "ShellCommandActivity"), str("maxActiveInstances", "5"),
			str("command", fmt.Sprintf("echo %s #{@scheduledStartTime} >> %s", id, ran))}})
	}
	var pipelineID string
	if err := call(func(dp *datapipeline.Client) error {
		out, err := dp.CreatePipeline(ctx, &datapipeline.CreatePipelineInput{Name: aws.String("failover"), UniqueId: aws.String("failover")})
		if err == nil {
			pipelineID = aws.ToString(out.PipelineId)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := call(func(dp *datapipeline.Client) error {
		out, err := dp.PutPipelineDefinition(ctx, &datapipeline.PutPipelineDefinitionInput{PipelineId: &pipelineID, PipelineObjects: objs})
		if err == nil && out.Errored {
			return fmt.Errorf("definition errored: %+v", out.ValidationErrors)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for r := range runners {
		// Each runner lists the nodes from a different first one.
		order := append(append([]string(nil), urls[r%nodes:]...), urls[:r%nodes]...)
		logf, err := os.Create(filepath.Join(dir, fmt.Sprintf("runner%d.log", r)))
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "taskrunner", "--endpoint", strings.Join(order, ","), "--worker-group", "load", "--tasks", "1",
			"--output", filepath.Join(dir, fmt.Sprintf("runner%d", r)), "--poll-timeout", "3s", "--call-timeout", "5s", "-q")
		cmd.Env, cmd.Stderr, cmd.Stdout = env, logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		logf.Close()
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	if err := call(func(dp *datapipeline.Client) error {
		_, err := dp.ActivatePipeline(ctx, &datapipeline.ActivatePipelineInput{PipelineId: &pipelineID})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	began := time.Now()

	lines := func() int {
		b, _ := os.ReadFile(ran)
		return strings.Count(string(b), "\n")
	}
	lease := func() (addr string, token int64, live bool) {
		_ = db.QueryRow(ctx, `SELECT addr, token, expires >= clock_timestamp() FROM `+schema+`.serve_leader WHERE id = 1`).Scan(&addr, &token, &live)
		return
	}
	history := func() (n int64, sum string) {
		if err := db.QueryRow(ctx, `SELECT coalesce(max(n), 0) FROM `+schema+`.events WHERE pipeline = $1`, pipelineID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n, historySum(t, db, schema, pipelineID, n)
	}
	type snapshot struct {
		upto int64
		sum  string
	}
	var snaps []snapshot
	var report []string
	for k, how := range trials {
		at := total * (k + 1) / (len(trials) + 1)
		at += rand.IntN(total/(len(trials)+1)/2+1) - total/(len(trials)+1)/4
		waitUntil(t, 120*time.Second, fmt.Sprintf("%d tasks run before trial %d", at, k+1), func() bool { return lines() >= at })
		addr, token, live := lease()
		if !live {
			t.Fatalf("trial %d: no live leader (lease of %s, token %d)", k+1, addr, token)
		}
		leader := -1
		for i, u := range urls {
			if u == addr {
				leader = i
			}
		}
		if leader < 0 {
			t.Fatalf("trial %d: the leader %s is none of the nodes %v", k+1, addr, urls)
		}
		upto, sum := history()
		snaps = append(snaps, snapshot{upto, sum})
		before := lines()
		sig := syscall.SIGKILL
		if how == "stop" {
			sig = syscall.SIGSTOP
		}
		if err := procs[leader].Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		var takeover time.Duration
		waitUntil(t, 30*time.Second, "a standby takes over", func() bool {
			a, tok, live := lease()
			if live && tok > token && a != addr {
				takeover = time.Since(killed)
				return true
			}
			return false
		})
		atTakeover := lines()
		var resumed time.Duration
		waitUntil(t, 60*time.Second, "tasks finish again after the takeover", func() bool {
			if n := lines(); n > atTakeover || n >= total {
				resumed = time.Since(killed)
				return true
			}
			return false
		})
		if takeover > 10*time.Second {
			t.Errorf("trial %d (%s): takeover took %s, want <= 10 s", k+1, how, takeover.Round(time.Millisecond))
		}
		report = append(report, fmt.Sprintf("trial %d: %s of the leader (node %d, token %d) after %d tasks: a standby led after %s, tasks finished again after %s",
			k+1, map[string]string{"kill": "kill -9", "stop": "SIGSTOP"}[how], leader, token, before, takeover.Round(time.Millisecond), resumed.Round(time.Millisecond)))
		if how == "stop" {
			// The stale leader wakes: it must step down, not write.
			if err := procs[leader].Process.Signal(syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
			logPath := filepath.Join(dir, fmt.Sprintf("serve%d.log", leader))
			waitUntil(t, 20*time.Second, "the woken former leader steps down", func() bool {
				b, _ := os.ReadFile(logPath)
				return strings.Contains(string(b), fmt.Sprintf("no longer leading (token %d)", token))
			})
		} else {
			_ = procs[leader].Wait()
			start(leader) // back as a standby
		}
	}
	state := func() (string, string) {
		var st, health string
		_ = call(func(dp *datapipeline.Client) error {
			out, err := dp.DescribePipelines(ctx, &datapipeline.DescribePipelinesInput{PipelineIds: []string{pipelineID}})
			if err != nil || len(out.PipelineDescriptionList) == 0 {
				return err
			}
			for _, f := range out.PipelineDescriptionList[0].Fields {
				switch aws.ToString(f.Key) {
				case "@pipelineState":
					st = aws.ToString(f.StringValue)
				case "@healthStatus":
					health = aws.ToString(f.StringValue)
				}
			}
			return nil
		})
		return st, health
	}
	deadline := time.Now().Add(180 * time.Second)
	for st, _ := state(); st != "FINISHED"; st, _ = state() {
		if time.Now().After(deadline) {
			t.Errorf("waited 3m0s for the pipeline FINISHED: %s, %d of %d tasks ran", st, lines(), total)
			dumpState(t, db, schema, pipelineID)
			t.FailNow()
		}
		time.Sleep(100 * time.Millisecond)
	}
	elapsed := time.Since(began)

	seen := map[string]int{}
	f, err := os.Open(ran)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		seen[sc.Text()]++
	}
	f.Close()
	twice := 0
	for line, n := range seen {
		if n > 1 {
			twice++
			t.Errorf("ran %d times: %s", n, line)
			comp, at, _ := strings.Cut(line, " ")
			rows, err := db.Query(ctx, `SELECT convert_from(data, 'UTF8') FROM `+schema+`.attempts WHERE pipeline = $1 AND id LIKE $2 ORDER BY id`, pipelineID, "@"+comp+"_"+at+"%")
			if err == nil {
				for rows.Next() {
					var a string
					_ = rows.Scan(&a)
					t.Logf("  attempt %s", a)
				}
				rows.Close()
			}
		}
	}
	lost := total - len(seen)
	if lost != 0 {
		t.Errorf("%d of %d tasks never ran", lost, total)
	}
	if _, health := state(); health != "HEALTHY" {
		t.Errorf("health %s, want HEALTHY", health)
	}
	for k, s := range snaps {
		if got := historySum(t, db, schema, pipelineID, s.upto); got != s.sum {
			t.Errorf("trial %d: the %d events written before the kill changed", k+1, s.upto)
		}
	}
	var acts int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM `+schema+`.activations WHERE pipeline = $1`, pipelineID).Scan(&acts); err != nil || acts != 1 {
		t.Errorf("activations %d (%v), want 1: a takeover resumes the activation", acts, err)
	}
	for _, r := range report {
		t.Log(r)
	}
	t.Logf("%d serve processes, %d runners, %d tasks in %s: lost %d, run twice %d, history intact for %d trials",
		nodes, runners, total, elapsed.Round(time.Millisecond), lost, twice, len(snaps))
}

// historySum is a digest of a pipeline's first upto events, as stored.
func historySum(t *testing.T, db *pgx.Conn, schema, pipeline string, upto int64) string {
	t.Helper()
	var sum string
	err := db.QueryRow(context.Background(), `SELECT coalesce(md5(string_agg(encode(data, 'hex'), ',' ORDER BY seq, n)), '')
		FROM `+schema+`.events WHERE pipeline = $1 AND n <= $2`, pipeline, upto).Scan(&sum)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func waitUntil(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// dumpState logs what a stuck run waits for: instances by status, and the
// attempts neither finished nor ended.
func dumpState(t *testing.T, db *pgx.Conn, schema, pipeline string) {
	ctx := context.Background()
	rows, err := db.Query(ctx, `SELECT data->>'status', count(*) FROM (SELECT convert_from(data, 'UTF8')::jsonb AS data FROM `+schema+`.instances WHERE pipeline = $1) i GROUP BY 1`, pipeline)
	if err == nil {
		for rows.Next() {
			var st string
			var n int
			_ = rows.Scan(&st, &n)
			t.Logf("instances %s: %d", st, n)
		}
		rows.Close()
	}
	rows, err = db.Query(ctx, `SELECT d FROM (SELECT convert_from(data, 'UTF8') AS d FROM `+schema+`.attempts WHERE pipeline = $1) a
		WHERE d::jsonb->>'status' NOT IN ('FINISHED', 'CANCELED', 'FAILED') LIMIT 20`, pipeline)
	if err == nil {
		for rows.Next() {
			var d string
			_ = rows.Scan(&d)
			t.Logf("open attempt %s", d)
		}
		rows.Close()
	}
}
