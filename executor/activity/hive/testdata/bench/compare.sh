#!/bin/sh
# The issue's Hive benchmark end to end: a HiveActivity running
#   INSERT OVERWRITE TABLE dst SELECT k, count(*), sum(v) FROM src WHERE v > 0 GROUP BY k
# over a 1,000,000-row CSV with `dpl run` (hash aggregation, and the SQLite
# path with SET dpl.hive.hashaggregate=false) against the sqlite3 shell's
# .import + the same query + .output, in one hyperfine run. Outputs are
# compared. Needs hyperfine and sqlite3. Usage: compare.sh [runs]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../../.." && pwd)
work=${TMPDIR:-/tmp}/dpl-hive-bench
runs=${1:-5}
mkdir -p "$work"
(cd "$repo" && go build -o "$work/dpl" ./cmd/dpl)
if [ ! -s "$work/data.csv" ]; then
	awk 'BEGIN { srand(1); for (i = 0; i < 1000000; i++) printf "k%d,%d\n", int(rand() * 1000), int(rand() * 1100) - 100 }' >"$work/data.csv"
fi
for st in hash sqlite; do
	mkdir -p "$work/$st/s3/bench/in"
	cp "$work/data.csv" "$work/$st/s3/bench/in/data.csv"
done
sed "s|@DATA@|$work/data.csv|; s|@OUT@|$work/shell-out.csv|" "$here/shell.sql" >"$work/shell.sql"
hyperfine -w 1 -r "$runs" -N \
	-n 'dpl run (hash aggregation)' "$work/dpl run --headless --fresh --state-dir $work/hash $here/pipeline.json" \
	-n 'dpl run (SQLite path)' "$work/dpl run --headless --fresh --state-dir $work/sqlite $here/pipeline-sqlite.json" \
	-n 'sqlite3 shell (floor)' "sqlite3 :memory: -init $work/shell.sql .quit"
for st in hash sqlite; do
	if [ "$(sort "$work/$st/s3/bench/out/000000_0" | md5sum)" != "$(sort "$work/shell-out.csv" | md5sum)" ]; then
		echo "compare.sh: $st output differs from the sqlite3 shell's" >&2
		exit 1
	fi
done
echo "outputs identical to the sqlite3 shell's ($(wc -l <"$work/shell-out.csv") groups)"
