#!/bin/sh
# serve.sh: tasks/s through `dpl serve` with N `dpl taskrunner` processes
# (one slot each) against the floor of the same number of `sh -c true`
# processes through `xargs -P N`, and serve's peak RSS.
#
# The pipeline: 20 ShellCommandActivity objects (`true`, worker group
# "load") on a 15-minute schedule of 100 occurrences in the past — 2,000
# tasks due at once. Time is measured from ActivatePipeline to the
# pipeline's FINISHED state (serve's registry), so it includes scheduling,
# hand-out over HTTP with SigV4, acknowledgement, progress and results.
#
# Usage: executor/bench/serve.sh [N]   (default 8; needs the aws CLI and jq)
# Store: badger (the default); STORE=postgres://… uses that database's
# schema $SCHEMA (default dpl; drop it afterwards: it must be free for the
# next run).
# PROFILE=DIR writes CPU profiles of serve (serve.prof) and of each runner
# (runnerN.prof) there. The CPU seconds of serve, of the runners and of the
# commands they ran are printed beside the rates.
set -eu
N=${1:-8}
TASKS_PER_COMP=100
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d)
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
command -v aws >/dev/null || { echo "serve.sh needs the aws CLI" >&2; exit 2; }
command -v jq >/dev/null || { echo "serve.sh needs jq" >&2; exit 2; }
(cd "$ROOT" && go build -o "$WORK/dpl" ./cmd/dpl)

PORT=$((20000 + $$ % 20000))
URL=http://127.0.0.1:$PORT
prof() { [ -n "${PROFILE:-}" ] && echo "$PROFILE/$1.prof" || echo ""; }
[ -z "${PROFILE:-}" ] || mkdir -p "$PROFILE"
DPL_CPUPROFILE=$(prof serve) "$WORK/dpl" serve --listen 127.0.0.1:$PORT --state-dir "$WORK/serve" --max-objects 100 ${STORE:+--store "$STORE" --store-schema "${SCHEMA:-dpl}"} 2>"$WORK/serve.log" &
SERVE=$!
PIDS="$PIDS $SERVE"
RUNNERS=""
i=0
until grep -q listening "$WORK/serve.log"; do i=$((i+1)); [ $i -lt 300 ] || { cat "$WORK/serve.log"; exit 1; }; sleep 0.1; done
export AWS_SHARED_CREDENTIALS_FILE="$WORK/serve/serve/credentials" AWS_PROFILE=dpl-serve AWS_CONFIG_FILE=/dev/null AWS_PAGER=
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
dp() { aws datapipeline "$@" --endpoint-url "$URL" --region us-east-1 --output json; }

{
  printf '{"objects":[{"id":"Default","name":"Default","scheduleType":"cron","schedule":{"ref":"S"},"maximumRetries":"0","workerGroup":"load"}'
  printf ',{"id":"S","name":"S","type":"Schedule","period":"15 minutes","startDateTime":"2024-01-01T00:00:00","occurrences":"%d"}' $TASKS_PER_COMP
  c=0
  while [ $c -lt 20 ]; do printf ',{"id":"L%02d","name":"L%02d","type":"ShellCommandActivity","command":"true","maxActiveInstances":"5"}' $c $c; c=$((c+1)); done
  printf ']}\n'
} >"$WORK/def.json"
ID=$(dp create-pipeline --name bench --unique-id bench | jq -r .pipelineId)
dp put-pipeline-definition --pipeline-id "$ID" --pipeline-definition "file://$WORK/def.json" | jq -e '.errored == false' >/dev/null

r=0
while [ $r -lt "$N" ]; do
  DPL_CPUPROFILE=$(prof runner$r) "$WORK/dpl" taskrunner --endpoint "$URL" --worker-group load --tasks 1 --output "$WORK/runner$r" -q &
  PIDS="$PIDS $!"
  RUNNERS="$RUNNERS $!"
  r=$((r+1))
done
start=$(date +%s.%N)
dp activate-pipeline --pipeline-id "$ID" >/dev/null
state() { dp describe-pipelines --pipeline-ids "$ID" | jq -r '.pipelineDescriptionList[0].fields[] | select(.key == "@pipelineState") | .stringValue'; }
REG="$WORK/serve/serve/pipelines.json"
if [ -z "${STORE:-}" ]; then
  until [ "$(jq -r --arg id "$ID" '.pipelines[] | select(.id == $id) | .state' "$REG" 2>/dev/null)" = FINISHED ]; do sleep 0.05; done
else
  until [ "$(state)" = FINISHED ]; do sleep 0.2; done # the registry is in the database
fi
end=$(date +%s.%N)
rss=$(awk '/VmHWM/ {print $2}' /proc/$SERVE/status)
# CPU seconds (utime+stime; cutime+cstime for the reaped commands).
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f %.2f\n", ($12 + $13) / hz, ($14 + $15) / hz }' "/proc/$1/stat"; }
scpu=$(cpu $SERVE | cut -d' ' -f1)
rcpu=0; ccpu=0
for p in $RUNNERS; do set -- $(cpu "$p"); rcpu=$(echo "$rcpu + $1" | bc); ccpu=$(echo "$ccpu + $2" | bc); done
total=$((20 * TASKS_PER_COMP))
failed=$(dp describe-pipelines --pipeline-ids "$ID" | jq -r '.pipelineDescriptionList[0].fields[] | select(.key == "@healthStatus") | .stringValue')

c0=$(awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($14 + $15) / hz }' /proc/$$/stat)
fstart=$(date +%s.%N)
seq $total | xargs -P "$N" -I{} sh -c true
fend=$(date +%s.%N)
c1=$(awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($14 + $15) / hz }' /proc/$$/stat)

awk -v s="$start" -v e="$end" -v fs="$fstart" -v fe="$fend" -v n="$total" -v p="$N" -v rss="$rss" -v h="$failed" -v sc="$scpu" -v rc="$rcpu" -v cc="$ccpu" -v xc="$(echo "$c1 - $c0" | bc)" 'BEGIN {
  t = e - s; f = fe - fs; st = ENVIRON["STORE"] == "" ? "badger" : "postgres"
  printf "serve (%s), %d runners: %d tasks in %.2f s = %.0f tasks/s (health %s); serve peak RSS %.0f MB\n", st, p, n, t, n / t, h, rss / 1024
  printf "  CPU: serve %.2f s, runners %.2f s, their commands %.2f s\n", sc, rc, cc
  printf "xargs -P %d: %d sh -c true in %.2f s = %.0f tasks/s (CPU %.2f s)\n", p, n, f, n / f, xc
  printf "ratio serve/xargs: %.2f\n", (n / t) / (n / f)
}'
