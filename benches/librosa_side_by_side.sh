#!/usr/bin/env bash
# Side-by-side timing of genreid's features and librosa 0.11 on the same
# files in one run, both single-threaded. Makes its own Python virtual env.
#
#   benches/librosa_side_by_side.sh [REPEATS] [FILE...]
#
# Default files: the six 30-s fixture clips in ../shared/fixtures/audio.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${GENREID_SHARED:-$root/../shared}"
venv="${GENREID_BENCH_VENV:-$root/target/bench-venv}"
repeats="${1:-5}"
shift || true
if [ "$#" -eq 0 ]; then
  set -- "$shared"/fixtures/audio/{orchestral_wesnoth_heroes_rite,metal_muldjord_chaos_god,rock_sectoid_escape_from_chaosland,electronic_nexuiz_digital_pursuit,ambient_singularity_through_space,techno_warzone2100_track1}.wav
fi

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "librosa==0.11.0"
fi

# One thread everywhere: BLAS, OpenMP, numba.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1 RAYON_NUM_THREADS=1

cargo build --quiet --release -p genreid-features --example time_features
ours="$(mktemp)"; theirs="$(mktemp)"
"$root/target/release/examples/time_features" "$repeats" "$@" > "$ours"
"$venv/bin/python" "$root/benches/librosa_features.py" "$repeats" "$@" > "$theirs"

"$venv/bin/python" - "$ours" "$theirs" "$#" <<'PY'
import json, sys
ours = {j["workload"]: j["seconds"] for j in map(json.loads, open(sys.argv[1]))}
theirs = {j["workload"]: j["seconds"] for j in map(json.loads, open(sys.argv[2]))}
n = int(sys.argv[3])
print(f"| workload | librosa (ms/clip) | genreid (ms/clip) | speed-up |")
print(f"|---|---:|---:|---:|")
for k in theirs:
    print(f"| {k} | {1e3*theirs[k]/n:.1f} | {1e3*ours[k]/n:.2f} | {theirs[k]/ours[k]:.1f}x |")
PY
rm -f "$ours" "$theirs"
