#!/usr/bin/env bash
# Compile shaders/*.{vert,frag,comp,glsl} to SPIR-V with glslc (Debian package glslc).
#   scripts/compile_shaders.sh            writes shaders/<name>.<stage>.spv (committed)
#   scripts/compile_shaders.sh OUTDIR     writes the same names into OUTDIR (the freshness test)
# The flags live only here so the test and the committed files cannot disagree.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC="$ROOT/shaders"
OUT=${1:-$SRC}
GLSLC=${GLSLC:-glslc}
FLAGS=(--target-env=vulkan1.3 -Werror -O)

command -v "$GLSLC" >/dev/null || { echo "glslc not found (Debian: apt-get install glslc)" >&2; exit 1; }
mkdir -p "$OUT"
shopt -s nullglob
for src in "$SRC"/*.vert "$SRC"/*.frag "$SRC"/*.comp "$SRC"/*.glsl; do
  name=$(basename "$src")
  # .glsl files name their stage inside (#pragma shader_stage); the others by extension.
  "$GLSLC" "${FLAGS[@]}" -o "$OUT/$name.spv" "$src"
  echo "$OUT/$name.spv"
done
