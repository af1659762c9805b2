#!/usr/bin/env bash
# Side-by-side timing of the original musicnn 0.1.0 (TensorFlow 2.15 CPU,
# batch size 1, as shipped) and `genreid classify` on the same files in one
# run, both limited to the same number of threads. Makes its own Python
# virtual env (tensorflow-cpu 2.15.1, numpy<2, librosa 0.11, musicnn 0.1.0).
#
#   benches/musicnn_side_by_side.sh [THREADS] [MODEL] [FILE...]
#
# MODEL is the wheel's name (MSD_musicnn, MTT_musicnn, MSD_vgg, MTT_vgg).
# Default files: the 100 GTZAN clips in ../shared/data/gtzan.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${GENREID_SHARED:-$root/../shared}"
venv="${GENREID_MUSICNN_VENV:-$root/target/musicnn-venv}"
threads="${1:-2}"
model="${2:-MSD_musicnn}"
shift 2 || shift $# || true
if [ "$#" -eq 0 ]; then
  mapfile -t files < <(find "$shared/data/gtzan" -name '*.flac' | sort)
  set -- "${files[@]}"
fi

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "tensorflow-cpu==2.15.1" "numpy<2" "librosa==0.11.0"
  "$venv/bin/pip" install --quiet --no-deps "musicnn==0.1.0"
fi

export OMP_NUM_THREADS="$threads" TF_NUM_INTRAOP_THREADS="$threads" TF_NUM_INTEROP_THREADS=1 TF_CPP_MIN_LOG_LEVEL=3
export RAYON_NUM_THREADS="$threads"
genreid_model="$(echo "$model" | tr 'A-Z_' 'a-z-')"

cargo build --quiet --release -p genreid
start=$(date +%s.%N)
"$root/target/release/genreid" classify --model "$genreid_model" --format csv -j "$threads" "$@" > /dev/null
ours=$(echo "$(date +%s.%N) - $start" | bc)
theirs_json="$(taskset -c "0-$((threads - 1))" "$venv/bin/python" "$root/benches/musicnn_original.py" "$model" "$@" 2>/dev/null | tail -1)"

"$venv/bin/python" - "$ours" "$theirs_json" "$#" "$threads" "$model" <<'PY'
import json, sys
ours, theirs, n, threads, model = float(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
print(f"{model}, {n} files ({theirs['patches']} patches), {threads} threads")
print("| | seconds | tracks/s | speed-up |")
print("|---|---:|---:|---:|")
print(f"| musicnn 0.1.0 (TF 2.15 CPU, batch 1; start-up {theirs['load_seconds']:.1f} s excluded) | {theirs['seconds']:.1f} | {n / theirs['seconds']:.2f} | 1.0x |")
print(f"| genreid classify (whole command, start-up included) | {ours:.1f} | {n / ours:.2f} | {theirs['seconds'] / ours:.1f}x |")
PY
