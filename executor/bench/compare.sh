#!/bin/sh
# compare.sh: dpl run of 500 independent `true` ShellCommandActivity objects
# plus one fan-in activity depending on all of them, against the floor of
# spawning the same 501 `sh -c true` processes with xargs -P at the same
# parallelism. Also times a 1,000-step dependsOn chain. Reports wall time,
# peak RSS (via /usr/bin/time -v) and dpl's overhead per task.
#
# Usage: executor/bench/compare.sh [PARALLEL]   (default: number of CPUs)
# ROUNDS=N repeats every measurement N times, alternating the runs, and
# reports medians (default 5): single runs on a shared machine vary by
# tens of percent.
set -eu
P=${1:-$(getconf _NPROCESSORS_ONLN)}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "compare.sh needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 2; }

(cd "$ROOT" && go build -o "$WORK/dpl" ./cmd/dpl)

gen_fan() {
  printf '{"objects":[{"id":"Default","name":"Default","scheduleType":"ondemand","workerGroup":"local"}'
  deps=""
  i=0
  while [ $i -lt 500 ]; do
    printf ',{"id":"T%d","name":"T%d","type":"ShellCommandActivity","command":"true"}' $i $i
    deps="$deps{\"ref\":\"T$i\"},"
    i=$((i+1))
  done
  printf ',{"id":"FanIn","name":"FanIn","type":"ShellCommandActivity","command":"true","dependsOn":[%s]}]}\n' "${deps%,}"
}
gen_chain() {
  printf '{"objects":[{"id":"Default","name":"Default","scheduleType":"ondemand","workerGroup":"local"}'
  printf ',{"id":"S0","name":"S0","type":"ShellCommandActivity","command":"true"}'
  i=1
  while [ $i -lt "$1" ]; do
    printf ',{"id":"S%d","name":"S%d","type":"ShellCommandActivity","command":"true","dependsOn":{"ref":"S%d"}}' $i $i $((i-1))
    i=$((i+1))
  done
  printf ']}\n'
}
gen_fan > "$WORK/fan.json"
gen_chain 1000 > "$WORK/chain1000.json"
gen_chain 100 > "$WORK/chain100.json"

# once NAME CMD...: prints "wall_seconds peak_kb" of one run
once() {
  name=$1; shift
  "$TIME" -v -o "$WORK/time.txt" "$@" > "$WORK/out.txt" 2>&1 || { echo "$name failed:" >&2; tail -20 "$WORK/out.txt" >&2; exit 1; }
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$WORK/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")
  echo "$wall $rss"
}

# median FILE: "NAME median_wall max_rss" of the lines "wall rss" in FILE
median() {
  sort -n "$WORK/$1" | awk -v name="$1" '{w[NR]=$1; if ($2>r) r=$2} END {m=(NR%2)?w[(NR+1)/2]:(w[NR/2]+w[NR/2+1])/2; print name, m, r}'
}

ROUNDS=${ROUNDS:-5}
for _ in $(seq "$ROUNDS"); do
  once xargs sh -c "seq 501 | xargs -P $P -I{} sh -c true" >> "$WORK/xargs"
  rm -rf "$WORK/s1"; once dpl-fan "$WORK/dpl" run --headless --parallel "$P" --state-dir "$WORK/s1" "$WORK/fan.json" >> "$WORK/dpl-fan"
  rm -rf "$WORK/s2"; once dpl-chain100 "$WORK/dpl" run --headless --parallel "$P" --state-dir "$WORK/s2" "$WORK/chain100.json" >> "$WORK/dpl-chain100"
  rm -rf "$WORK/s3"; once dpl-chain1000 "$WORK/dpl" run --headless --parallel "$P" --state-dir "$WORK/s3" "$WORK/chain1000.json" >> "$WORK/dpl-chain1000"
  once xargs-serial1000 sh -c "seq 1000 | xargs -P 1 -I{} sh -c true" >> "$WORK/xargs-serial1000"
done
floor=$(median xargs)
dplfan=$(median dpl-fan)
chain100=$(median dpl-chain100)
chain1000=$(median dpl-chain1000)
serial=$(median xargs-serial1000)

echo "parallelism $P, median of $ROUNDS rounds (peak RSS: the largest)"
printf '%s\n%s\n%s\n%s\n%s\n' "$floor" "$dplfan" "$chain100" "$chain1000" "$serial" | awk '
  { name[NR]=$1; wall[NR]=$2; rss[NR]=$3 }
  END {
    printf "%-16s %10s %12s\n", "run", "wall (s)", "peak RSS MB"
    for (i=1;i<=NR;i++) printf "%-16s %10.2f %12.1f\n", name[i], wall[i], rss[i]/1024
    printf "\n500+1 fan-in: dpl / xargs = %.2fx (goal <= 1.15x); overhead %.2f ms per task\n", wall[2]/wall[1], (wall[2]-wall[1])*1000/501
    printf "chain: %.2f ms/step at 100 steps, %.2f ms/step at 1000 steps (serial spawn floor %.2f ms/process): %.2fx (goal <= 1.1x)\n", wall[3]*1000/100, wall[4]*1000/1000, wall[5]*1000/1000, wall[4]/wall[5]
  }'
