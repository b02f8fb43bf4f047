#!/usr/bin/env bash
# executor/awsx/bench/run.sh — S3 staging throughput of dpl versus a bare
# `aws s3 cp` of the same file against the same moto server, in one run;
# optionally the DynamoDB export/import benchmarks too.
#
#   executor/awsx/bench/run.sh                 # 128 MiB file, 3 rounds each
#   SIZE_MB=256 ROUNDS=5 executor/awsx/bench/run.sh
#   WITH_DYNAMODB=1 DPL_BENCH_ITEMS=100000 executor/awsx/bench/run.sh
#
# dpl side: BenchmarkS3StagingUpload/Download (storage.UploadDir/DownloadDir
# over awsx.S3Store: 8 MiB parts, 4 concurrent parts). CLI side: aws s3 cp
# with its defaults (8 MiB multipart threshold/chunks, 10 concurrent).
set -euo pipefail
cd "$(dirname "$0")/../../.."

SIZE_MB=${SIZE_MB:-128}
ROUNDS=${ROUNDS:-3}
started_moto=0
[ -f /tmp/dpl-moto.pid ] || started_moto=1
# shellcheck source=/dev/null
source .ci/moto.sh
if [ -z "${DPL_TEST_MOTO_ENDPOINT:-}" ]; then
  echo "run.sh: no moto server available" >&2
  exit 1
fi
cleanup() {
  rm -rf "$work"
  if [ "$started_moto" = 1 ]; then bash .ci/moto.sh stop; fi
}
work=$(mktemp -d)
trap cleanup EXIT

head -c $((SIZE_MB << 20)) /dev/urandom >"$work/payload.bin"
ep=$DPL_TEST_MOTO_ENDPOINT
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
awscli() { env -u AWS_PROFILE aws --endpoint-url "$ep" "$@"; }
awscli s3 mb s3://dpl-bench-cli >/dev/null 2>&1 || true

rate() { python3 -c "import sys; print(f'{$SIZE_MB/float(sys.argv[1]):.1f}')" "$1"; }
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(float(sys.argv[2])-float(sys.argv[1]))" "$1" "$2"; }

echo "== aws s3 cp, $SIZE_MB MiB, $ROUNDS round(s), moto at $ep"
up_total=0 down_total=0
for i in $(seq 1 "$ROUNDS"); do
  t0=$(now); awscli s3 cp --only-show-errors "$work/payload.bin" s3://dpl-bench-cli/payload.bin; t1=$(now)
  awscli s3 cp --only-show-errors s3://dpl-bench-cli/payload.bin "$work/back.bin"; t2=$(now)
  u=$(elapsed "$t0" "$t1"); d=$(elapsed "$t1" "$t2")
  echo "round $i: upload $(rate "$u") MB/s, download $(rate "$d") MB/s"
  up_total=$(python3 -c "print($up_total+$u)"); down_total=$(python3 -c "print($down_total+$d)")
  rm -f "$work/back.bin"
done
echo "aws s3 cp mean: upload $(rate "$(python3 -c "print($up_total/$ROUNDS)")") MB/s, download $(rate "$(python3 -c "print($down_total/$ROUNDS)")") MB/s (MB = MiB here)"

echo "== dpl storage.UploadDir/DownloadDir (go test -bench), same file"
DPL_BENCH_FILE="$work/payload.bin" go test ./executor/awsx/ -run '^$' -bench 'S3Staging' \
  -benchtime "${ROUNDS}x" -timeout 30m | grep -vE '^(goos|goarch|pkg|cpu|PASS)'
echo "(go reports MB/s in 10^6 bytes/s; multiply by 0.954 for MiB/s)"

if [ "${WITH_DYNAMODB:-0}" = 1 ]; then
  echo "== DynamoDB export/import, ${DPL_BENCH_ITEMS:-100000} items"
  go test ./executor/awsx/ -run '^$' -bench 'DynamoDB' -benchtime 1x -timeout 60m | grep -vE '^(goos|goarch|pkg|cpu|PASS)'
fi
