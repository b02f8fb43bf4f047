package tui

import (
	"strings"
	"testing"
	"time"
)

// secretsPipeline has a `*` parameter and a `*` field, both expanded into
// commands (non-secret fields) that print them to stdout and stderr; A
// fails with the secret in its stderr, so it reaches the error message,
// the attempt list and the onFail alarm too.
const secretsPipeline = `{"objects":[
 {"id":"Default","name":"Default","scheduleType":"ondemand","workerGroup":"wg","maximumRetries":"0"},
 {"id":"Db","name":"Db","type":"JdbcDatabase","connectionString":"jdbc:sqlite:x.db","jdbcDriverClass":"org.sqlite.JDBC","username":"u","*password":"dbPw-S3cr3t-41"},
 {"id":"Prep","name":"Prep","type":"ShellCommandActivity","*myPassword":"fldPw-S3cr3t-7f","command":"echo prep uses #{*myToken} #{*myPassword}; echo err #{*myToken} #{*myPassword} >&2"},
 {"id":"A","name":"A","type":"ShellCommandActivity","dependsOn":{"ref":"Prep"},"command":"echo token=#{*myToken}; echo token=#{*myToken} >&2; exit 3","onFail":{"ref":"Alarm"}},
 {"id":"Alarm","name":"Alarm","type":"SnsAlarm","topicArn":"arn:aws:sns:us-east-1:1:t","subject":"failed #{*myToken}","message":"#{node.errorMessage}","role":"DataPipelineDefaultRole"}
],
 "parameters":[{"id":"*myToken","type":"String"}],
 "values":{"*myToken":"prmTok-S3cr3t-9b"}}`

var tuiSecrets = []string{"dbPw-S3cr3t-41", "fldPw-S3cr3t-7f", "prmTok-S3cr3t-9b"}

// TestTmuxSecretsNeverShown drives the terminal UI of a run with `*`
// parameter and field values — the live view of dpl run and the stored
// run in dpl tui — through every pane: the graph, the instances grid,
// each instance's detail (evaluated fields, attempts, errors), its stdout
// and stderr logs (the commands print the secrets themselves) and the
// events — and a view attached to a headless run in progress — and checks
// that no screen shows a secret value. Each screen must
// show what it is about (masked), so a blank pane cannot pass.
func TestTmuxSecretsNeverShown(t *testing.T) {
	tm := newTerm(t)
	tm.write("p.json", secretsPipeline)
	screens := 0
	check := func(where, screen string) {
		t.Helper()
		screens++
		for _, s := range tuiSecrets {
			if strings.Contains(screen, s) {
				t.Errorf("%s shows the secret %q:\n%s", where, s, screen)
			}
		}
	}
	for _, view := range []struct{ session, command string }{
		{"run", "./dpl run --state-dir st p.json"},
		{"browse", "./dpl tui --state-dir st"},
	} {
		s := view.session
		tm.start(s, 160, 50, view.command)
		check(s+" graph", tm.waitFor(s, "the ended run's graph", 60*time.Second, screenHas("✗1 ✓1", "[1 Graph]", "Prep", "A")))
		for _, inst := range []struct{ row, detail, stdout, stderr string }{
			{"Prep", "echo prep uses ******** ********", "prep uses ******** ********", "err ******** ********"},
			{"A", "token=********", "token=********", "token=********"},
		} {
			tm.keys(s, "2")
			tm.waitFor(s, "the instances grid", 5*time.Second, screenHas("[2 Instances]"))
			tm.keys(s, "g")
			if inst.row == "A" {
				tm.keys(s, "j")
			}
			tm.waitFor(s, "the row of "+inst.row, 5*time.Second, func(sc string) bool { return strings.Contains(sc, "▸ "+inst.row) })
			tm.keys(s, "Enter")
			check(s+" detail of "+inst.row, tm.waitFor(s, "the detail of "+inst.row, 5*time.Second, screenHas("@"+inst.row+"_", "Effective fields", inst.detail)))
			tm.keys(s, "L")
			check(s+" stdout of "+inst.row, tm.waitFor(s, "the stdout of "+inst.row, 5*time.Second, screenHas("· stdout ·", inst.stdout)))
			tm.keys(s, "s")
			check(s+" stderr of "+inst.row, tm.waitFor(s, "the stderr of "+inst.row, 5*time.Second, screenHas("· stderr ·", inst.stderr)))
			tm.keys(s, "Escape")
			tm.waitFor(s, "the detail again", 5*time.Second, screenHas("Effective fields"))
			tm.keys(s, "Escape")
			// Wait for the escape to land: a key right after it would be
			// read as alt+key.
			tm.waitFor(s, "the detail to close", 5*time.Second, func(sc string) bool { return !strings.Contains(sc, "Effective fields") })
		}
		tm.keys(s, "3")
		check(s+" events", tm.waitFor(s, "the events", 5*time.Second, screenHas("[3 Events]", "token=********")))
		tm.keys(s, "G")
		check(s+" events, oldest", tm.capture(s))
		tm.keys(s, "1")
		tm.waitFor(s, "the graph again", 5*time.Second, screenHas("[1 Graph]"))
		tm.keys(s, "q")
		check(s+" after quitting", tm.waitFor(s, "dpl to exit", 30*time.Second, screenHas("EXIT=")))
	}

	// A view attached to a headless run in progress (through its control
	// socket) masks the logs the same way.
	hold := strings.Replace(secretsPipeline, `{"id":"A","name":"A"`, `{"id":"Hold","name":"Hold","type":"ShellCommandActivity","dependsOn":{"ref":"Prep"},"command":"while [ ! -f `+tm.dir+`/release ]; do sleep 0.1; done"},
 {"id":"A","name":"A"`, 1)
	tm.write("hold.json", hold)
	tm.start("headless", 160, 20, "./dpl run --headless --state-dir st2 hold.json")
	tm.waitFor("headless", "Prep to finish", 60*time.Second, screenHas("attempt finished", "@Prep_"))
	tm.start("attach", 160, 50, "./dpl tui --state-dir st2")
	check("attached graph", tm.waitFor("attach", "the attached view", 30*time.Second, screenHas("[1 Graph]", "Hold", "running")))
	tm.keys("attach", "2")
	tm.waitFor("attach", "the instances grid", 5*time.Second, screenHas("[2 Instances]"))
	tm.keys("attach", "g")
	tm.waitFor("attach", "the row of Prep", 5*time.Second, func(sc string) bool { return strings.Contains(sc, "▸ Prep") })
	tm.keys("attach", "Enter")
	check("attached detail of Prep", tm.waitFor("attach", "the detail of Prep", 5*time.Second, screenHas("@Prep_", "Effective fields", "echo prep uses ******** ********")))
	tm.keys("attach", "L")
	check("attached stdout of Prep", tm.waitFor("attach", "the stdout of Prep", 5*time.Second, screenHas("· stdout ·", "prep uses ******** ********")))
	tm.keys("attach", "s")
	check("attached stderr of Prep", tm.waitFor("attach", "the stderr of Prep", 5*time.Second, screenHas("· stderr ·", "err ******** ********")))
	tm.write("release", "")
	check("headless output", tm.waitFor("headless", "the headless run to end", 60*time.Second, screenHas("EXIT=")))
	tm.keys("attach", "q")
	tm.waitFor("attach", "dpl tui to exit", 30*time.Second, screenHas("EXIT="))
	t.Logf("%d screens checked for %d secret values: no hit", screens, len(tuiSecrets))
}
