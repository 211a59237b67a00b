#!/usr/bin/env bash
# The GPU batch for issues #5 and #6, in one call of the device tool (run from the repository root,
# carry [".gl", ".whl"]; see ../shared/VULKAN_NOTES.md):
#
#   bash benchmarks/h100_batch.sh
#
# 1. brings the Vulkan loader, validation layer and Python packages (.gl, .whl) when they are there,
#    and puts the package on PYTHONPATH without an install (/tmp/fg/framegraph + backends link);
# 2. one short run of every workload and every async variant with validation ON (sync validation
#    included): message counts in the tables' `valid` column and in the summary at the end;
# 3. the timed runs with validation OFF: benchmarks/strategies.py on the four synthetic workloads
#    (FRAMES frames per strategy after WARMUP) and benchmarks/async_compute.py (ASYNC_FRAMES isolated
#    frames per variant, plus a 2-in-flight throughput run and a per-pass run).
#
# Writes into $OUT (default out/h100), 6 files: strategies-h100.json/.png, async_compute-h100.json,
# strategies-h100-validation.json, async_compute-h100-validation.json, batch.log (everything printed).
# Knobs (environment): FRAMES=300 WARMUP=30 SIZE=256x256 ASYNC_FRAMES=200 ASYNC_SIZE=3840x2160 TAG=h100,
# STRATEGY_ARGS / ASYNC_ARGS (extra arguments, e.g. STRATEGY_ARGS=--tiny for a dry run on lavapipe),
# SKIP_SETUP=1 (use the Vulkan and Python already installed), PYTHON, FG_DIR (default /tmp/fg).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=${OUT:-$ROOT/out/h100}
mkdir -p "$OUT"
FRAMES=${FRAMES:-300}
WARMUP=${WARMUP:-30}
SIZE=${SIZE:-256x256}
ASYNC_FRAMES=${ASYNC_FRAMES:-200}
ASYNC_SIZE=${ASYNC_SIZE:-3840x2160}
TAG=${TAG:-h100}
STRATEGY_ARGS=${STRATEGY_ARGS:-}
ASYNC_ARGS=${ASYNC_ARGS:-}
PY=${PYTHON:-python3}
started=$(date +%s)
stamp() { echo "== $* ($(( $(date +%s) - started )) s)"; }

batch() {
stamp "setup"
if [ -z "${SKIP_SETUP:-}" ] && [ -d .gl ] && ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 '; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
if [ -z "${SKIP_SETUP:-}" ] && [ -d .whl ] && ! PYTHONPATH=/tmp/site "$PY" -c 'import vulkan' 2>/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --upgrade --target /tmp/site .whl/*.whl
fi
FG=${FG_DIR:-/tmp/fg}
rm -rf "$FG/framegraph"
mkdir -p "$FG"
cp -r framegraph "$FG/"
ln -s "$ROOT/backends" "$FG/framegraph/backends"
export PYTHONPATH=/tmp/site:$FG:$ROOT
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
"$PY" -m framegraph info || { echo "no usable Vulkan device"; exit 1; }
status=0

stamp "validation ON: every workload and strategy, 3 frames"
FRAMEGRAPH_VALIDATION=1 "$PY" benchmarks/strategies.py --validation on --frames 3 --warmup 1 --size "$SIZE" \
  --out "$OUT" --tag "$TAG-validation" --no-plot $STRATEGY_ARGS || status=1
stamp "validation ON: every async variant, 3 frames"
FRAMEGRAPH_VALIDATION=1 "$PY" benchmarks/async_compute.py --validation on --frames 3 --warmup 1 \
  --throughput-frames 3 --pass-frames 1 --size "$ASYNC_SIZE" --out "$OUT" --tag "$TAG-validation" $ASYNC_ARGS || status=1

stamp "timed, validation OFF: strategies, $FRAMES frames after $WARMUP"
FRAMEGRAPH_VALIDATION=0 "$PY" benchmarks/strategies.py --validation off --frames "$FRAMES" --warmup "$WARMUP" \
  --size "$SIZE" --out "$OUT" --tag "$TAG" $STRATEGY_ARGS || status=1
stamp "timed, validation OFF: async compute, $ASYNC_FRAMES frames per variant at $ASYNC_SIZE"
FRAMEGRAPH_VALIDATION=0 "$PY" benchmarks/async_compute.py --validation off --frames "$ASYNC_FRAMES" --warmup 20 \
  --throughput-frames "$ASYNC_FRAMES" --size "$ASYNC_SIZE" --out "$OUT" --tag "$TAG" $ASYNC_ARGS || status=1

stamp "summary"
"$PY" - "$OUT" "$TAG" <<'EOF'
import json, sys
from pathlib import Path
out, tag = Path(sys.argv[1]), sys.argv[2]
for name in (f"strategies-{tag}-validation.json", f"async_compute-{tag}-validation.json"):
    path = out / name
    if not path.exists():
        print(f"{name}: missing"); continue
    rows = [r for r in json.loads(path.read_text())["results"] if not r.get("skipped")]
    messages = sum(r.get("validation_messages") or 0 for r in rows)
    problems = sum(r.get("verifier_problems") or 0 for r in rows)
    print(f"{name}: {len(rows)} runs, {messages} validation messages, {problems} verifier problems")
EOF
ls -l "$OUT"
stamp "done (exit $status)"
return $status
}

batch 2>&1 | tee "$OUT/batch.log"
exit "${PIPESTATUS[0]}"
