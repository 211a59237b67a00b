#!/usr/bin/env bash
# Everything this project runs on the lent H100, in one device call (carry [".gl", ".whl"]):
#   1. the Vulkan backend test suite (bring-up, multipass frames under every strategy, samples,
#      aliasing, multi-stream) with validation + sync validation on, on the real driver;
#   2. per-pass GPU times of the multipass sample;
#   3. benchmarks/h100_batch.sh (strategy and async-compute benchmarks);
#   4. the strategy benchmark on the deferred sample;
#   5. the memory benchmark with the H100's real memory requirements (memory-h100.json).
# PARTS (environment) picks some of them: any of "tests batch deferred memory" (default: all).
# Writes at most 10 files to $OUT.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=${OUT:-$ROOT/out/h100}
mkdir -p "$OUT"
. benchmarks/device_env.sh
PARTS=${PARTS:-tests batch deferred memory}
part() { [[ " $PARTS " == *" $1 "* ]]; }
part tests && {
  echo "== device"; python3 -m framegraph info
  echo "== backend tests (validation + sync validation on)"
  timeout 240 python3 -m pytest -q -p no:cacheprovider tests/backend -k "not window" 2>&1 | tail -25
  echo "== split vs batched on the deferred sample, plans rewritten on the device (scripts/diag_split.py)"
  env -u OUT timeout 60 python3 scripts/diag_split.py 2>&1 | tail -14
  env -u OUT timeout 60 python3 scripts/diag_split.py --streams 2>&1 | tail -14
  echo "== multipass per-pass GPU times (10 frames at 1024x1024 per strategy, validation on)"
  timeout 60 python3 - <<'PY'
from framegraph.backends.vulkan import VulkanContext
from framegraph.samples import multipass
times = []
with VulkanContext() as ctx:
    print("device:", ctx.device_name)
    for strategy in ("naive", "per_resource", "batched", "split"):
        _, times = multipass.render_offscreen(ctx, frames=10, size=(1024, 1024), strategy=strategy)
        print(strategy, {k: round(v, 4) for k, v in times.items()})
    msgs = ctx.messages.drain()
print("validation messages:", len(msgs))
PY
} > "$OUT/tests.log" 2>&1
part batch && SKIP_SETUP=1 FG_DIR=/tmp/fg OUT="$OUT" FRAMES=${FRAMES:-200} \
  ASYNC_ARGS="${ASYNC_ARGS:---field-iterations 32768 --shade-steps 16}" bash benchmarks/h100_batch.sh > /dev/null 2>&1
part deferred && FRAMEGRAPH_VALIDATION=0 timeout 150 python3 benchmarks/strategies.py --sample deferred --frames 100 --warmup 10 \
  --size 1920x1080 --validation off --out "$OUT" --tag h100-deferred --no-plot >> "$OUT/tests.log" 2>&1
part memory && { echo "== memory benchmark, real requirements (validation on)"
  timeout 120 python3 benchmarks/memory.py --no-charts --out "$OUT/memory-h100.json" 2>&1 | tail -40; } >> "$OUT/tests.log"
ls -la "$OUT"
tail -60 "$OUT/tests.log"
