#!/usr/bin/env bash
# Side-by-side timing of genreid's features, librosa 0.11 and torchaudio
# (CPU) on the same files in one run, all single-threaded. Makes its own
# Python virtual env (librosa; torch + torchaudio 2.9.1 where they install:
# without them the torchaudio columns are left out).
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
if ! "$venv/bin/python" -c "import torchaudio" 2>/dev/null; then
  "$venv/bin/pip" install --quiet torch==2.9.1 torchaudio==2.9.1 --index-url https://download.pytorch.org/whl/cpu 2>/dev/null \
    || "$venv/bin/pip" install --quiet torch==2.9.1 torchaudio==2.9.1 \
    || echo "torchaudio did not install: its columns are left out" >&2
fi

# One thread everywhere: BLAS, OpenMP, numba.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1 RAYON_NUM_THREADS=1

cargo build --quiet --release -p genreid-features --example time_features
ours="$(mktemp)"; theirs="$(mktemp)"; torch="$(mktemp)"
"$root/target/release/examples/time_features" "$repeats" "$@" > "$ours"
"$venv/bin/python" "$root/benches/librosa_features.py" "$repeats" "$@" > "$theirs"
if "$venv/bin/python" -c "import torchaudio" 2>/dev/null; then
  "$venv/bin/python" "$root/benches/torchaudio_features.py" "$repeats" "$@" > "$torch"
fi

"$venv/bin/python" - "$ours" "$theirs" "$torch" "$#" <<'PY'
import json, sys
ours = {j["workload"]: j["seconds"] for j in map(json.loads, open(sys.argv[1]))}
theirs = {j["workload"]: j["seconds"] for j in map(json.loads, open(sys.argv[2]))}
lines = [json.loads(l) for l in open(sys.argv[3])]
torch = {j["workload"]: j["seconds"] for j in lines if "workload" in j}
agreement = [j["agreement"] for j in lines if "agreement" in j]
n = int(sys.argv[4])
ms = lambda t: f"{1e3 * t / n:.2f}"
print("| workload | librosa (ms/clip) | torchaudio (ms/clip) | genreid (ms/clip) | vs librosa | vs torchaudio |")
print("|---|---:|---:|---:|---:|---:|")
for k in theirs:
    ta = torch.get(k)
    print(f"| {k} | {ms(theirs[k])} | {ms(ta) if ta else '-'} | {ms(ours[k])} | {theirs[k] / ours[k]:.1f}x | "
          f"{f'{ta / ours[k]:.1f}x' if ta else '-'} |")
for a in agreement:
    print(f"\ntorchaudio against librosa: mel spectrogram within {a['mel_max_relative_error']:.1e} relative, "
          f"mel dB within {a['mel_db_max_abs_error_above_floor']:.1e} dB above the 80 dB floor")
PY
rm -f "$ours" "$theirs" "$torch"
