#!/usr/bin/env bash
# Decode speed per library format, genreid against ffmpeg, one thread, on
# the fixtures of ../shared/fixtures/formats (10 s of stereo 44.1 kHz music
# each). genreid: the release build of the decode_speed example (median of
# 5 in-process decodes to mono at the native rate). ffmpeg: the `rtime` that
# `ffmpeg -benchmark -threads 1 -i FILE -f null -` reports (its decode loop,
# process start excluded), median of 5. Needs Debian's ffmpeg.
#
#   benches/decode_vs_ffmpeg.sh [FORMATS_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-${GENREID_SHARED:-../shared}/fixtures/formats}"
command -v ffmpeg >/dev/null || { echo "error: ffmpeg is needed (apt-get install ffmpeg)" >&2; exit 1; }
cargo build --release -q -p genreid-audio --example decode_speed
files=(source.wav aiff.aiff caf.caf flac.mka alac.m4a aac.m4a opus.opus opus.webm)
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
printf '| format | genreid (ms) | ffmpeg (ms) | ffmpeg / genreid |\n|---|---:|---:|---:|\n'
for f in "${files[@]}"; do
  ours=$(target/release/examples/decode_speed "$dir/$f" | cut -f2 | cut -d' ' -f1)
  times=()
  for _ in 1 2 3 4 5; do
    rtime=$(ffmpeg -nostdin -benchmark -threads 1 -i "$dir/$f" -f null - 2>&1 </dev/null \
      | sed -n 's/.*rtime=\([0-9.]*\)s.*/\1/p')
    times+=("$(echo "$rtime * 1000" | bc -l)")
  done
  theirs=$(printf '%s\n' "${times[@]}" | sort -g | sed -n 3p)
  printf '| %s | %.1f | %.1f | %.2fx |\n' "$f" "$ours" "$theirs" "$(echo "$theirs / $ours" | bc -l)"
done
