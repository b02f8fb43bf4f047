#!/usr/bin/env bash
# executor/awsx/bench/dpl-staging.sh — S3 staging throughput through the
# real `dpl run --backend aws` (fixtures/aws/bench-staging.json: stage in a
# folder, mv it to the output staging folder, stage it out) versus a bare
# `aws s3 cp` download + upload of the same file, against one private moto
# server, in the same run.
#
#   executor/awsx/bench/dpl-staging.sh                # 128 MiB, 3 rounds
#   SIZE_MB=256 ROUNDS=5 executor/awsx/bench/dpl-staging.sh
#
# dpl time = the Stage activity's RUNNING -> FINISHED events (staging in,
# the mv, staging out); the whole process time is printed too. MB = MiB.
set -euo pipefail
cd "$(dirname "$0")/../../.."

SIZE_MB=${SIZE_MB:-128}
ROUNDS=${ROUNDS:-3}
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
setsid moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
cleanup() { kill -- "-$moto_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
ep=http://127.0.0.1:$port
for _ in $(seq 100); do curl -fs "$ep/moto-api/" >/dev/null 2>&1 && break; sleep 0.1; done

go build -o "$work/dpl" ./cmd/dpl
head -c $((SIZE_MB << 20)) /dev/urandom >"$work/payload.bin"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_ENDPOINT_URL
awscli() { aws --endpoint-url "$ep" "$@"; }
awscli s3 mb s3://bench >/dev/null
awscli s3 cp --only-show-errors "$work/payload.bin" s3://bench/in/payload.bin

now() { date +%s.%N; }
mbps() { python3 -c "import sys; print(f'{2*$SIZE_MB/float(sys.argv[1]):.1f}')" "$1"; }

echo "== $SIZE_MB MiB down + up per round, $ROUNDS rounds, moto at $ep"
for i in $(seq 1 "$ROUNDS"); do
  t0=$(now)
  awscli s3 cp --only-show-errors s3://bench/in/payload.bin "$work/cli.bin"
  awscli s3 cp --only-show-errors "$work/cli.bin" "s3://bench/cli-out-$i/payload.bin"
  t1=$(now)
  rm -f "$work/cli.bin"
  cli=$(python3 -c "print($t1-$t0)")

  t0=$(now)
  "$work/dpl" run --headless --backend aws --aws-endpoint "$ep" --state-dir "$work/state-$i" --output jsonl \
    -p myIn=s3://bench/in -p "myOut=s3://bench/dpl-out-$i" fixtures/aws/bench-staging.json >"$work/events-$i.jsonl"
  t1=$(now)
  whole=$(python3 -c "print($t1-$t0)")
  act=$(python3 - "$work/events-$i.jsonl" <<'PY'
import json, sys
from datetime import datetime, timezone
def parse(ts):  # Go's RFC 3339 with up to 9 fraction digits
    ts = ts.rstrip("Z")
    whole, _, frac = ts.partition(".")
    return datetime.fromisoformat(whole).replace(tzinfo=timezone.utc).timestamp() + float("0." + (frac or "0"))
t = {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == "status" and e.get("component") == "Stage" and e.get("status") in ("RUNNING", "FINISHED"):
        t[e["status"]] = parse(e["time"])
print(t["FINISHED"] - t["RUNNING"])
PY
)
  size=$(awscli s3api head-object --bucket bench --key "dpl-out-$i/payload.bin" --query ContentLength --output text)
  [ "$size" = $((SIZE_MB << 20)) ] || { echo "dpl staged out $size bytes, want $((SIZE_MB << 20))" >&2; exit 1; }
  rm -rf "$work/state-$i"
  printf 'round %d: aws s3 cp %.2fs = %s MB/s | dpl activity %.2fs = %s MB/s (whole dpl run %.2fs = %s MB/s)\n' \
    "$i" "$cli" "$(mbps "$cli")" "$act" "$(mbps "$act")" "$whole" "$(mbps "$whole")"
done
