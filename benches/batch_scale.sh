#!/usr/bin/env bash
# Batch runs beyond one process, on the 100 GTZAN clips of ../shared, in one
# run: the plain CLI into Parquet, 2 local processes splitting the work
# with --shard (one thread each), and Ray Data with 1 actor of 2 CPUs and
# 2 actors of 1 CPU (genreid.ray.classify, Ray started locally).
#
#   benches/batch_scale.sh [GENREID_BIN] [PYTHON]
#
# PYTHON must have the genreid wheel and ray[data] installed
# (bindings/python/requirements-test.txt). Warm file cache: each job once
# before the timed runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/debug/genreid}"
python="${2:-python3}"
shared="${GENREID_SHARED:-$(cd .. && pwd)/shared}"
music="$shared/data/gtzan"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
seconds() { echo "$2 - $1" | bc; }

"$bin" classify "$music" --out "$work/warm.parquet" 2>/dev/null

t0=$(now); "$bin" classify "$music" --out "$work/one.parquet" 2>"$work/one.log"; t1=$(now)
echo "cli, 1 process x 2 threads: $(seconds "$t0" "$t1") s  ($(grep -o '[0-9.]* tracks/s' "$work/one.log"))"

t0=$(now)
"$bin" classify "$music" --shard 0/2 -j 1 --out "$work/shards/" 2>/dev/null &
"$bin" classify "$music" --shard 1/2 -j 1 --out "$work/shards/" 2>/dev/null &
wait
t1=$(now)
echo "cli, 2 processes x 1 thread (--shard K/2): $(seconds "$t0" "$t1") s"

"$python" - "$music" "$work" <<'PY'
import sys, time
import ray
import genreid.ray
music, work = sys.argv[1], sys.argv[2]
t = time.perf_counter()
ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
print(f"ray.init (local, 2 CPUs): {time.perf_counter() - t:.1f} s")
for concurrency, cpus in [(1, 2), (2, 1)]:
    for run in ["warm", "timed"]:
        t = time.perf_counter()
        genreid.ray.classify(music, out=f"{work}/ray-{concurrency}-{run}", concurrency=concurrency,
                             num_cpus=cpus, batch_size=10)
        took = time.perf_counter() - t
    print(f"ray, {concurrency} actor(s) x {cpus} CPU(s): {took:.1f} s  ({100 / took:.2f} tracks/s)")
PY
