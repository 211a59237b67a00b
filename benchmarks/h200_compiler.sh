#!/usr/bin/env bash
# The compiler issues' checks on the lent H200, in one device call (carry [".gl", ".whl"]):
#   1. the aliasing, hand-off and resource-contract backend tests on the real driver, validation and
#      synchronization validation on (issue 15's hand-off test on a GPU with compressed depth);
#   2. the compile matrix (benchmarks/compile_scaling.py --matrix) on the machine's quiet CPU cores.
# Writes h200-compiler.log and compile_matrix-h200.{json,md} to $OUT.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. benchmarks/device_env.sh
{
  device_header
  echo "== backend tests: aliasing, hand-offs, resource contract (validation + sync validation on)"
  FRAMEGRAPH_EXPECT_LAVAPIPE=0 timeout 240 python3 -m pytest -q -p no:cacheprovider \
    tests/backend/test_exec_handoff.py tests/backend/test_exec_aliasing.py tests/backend/test_resource_contract.py 2>&1 | tail -15
} > "$OUT/h200-compiler.log" 2>&1
timeout 330 python3 benchmarks/compile_scaling.py --matrix --sizes 100 1000 10000 --repeat 5 --budget 4 \
  --out "$OUT/compile_matrix-h200.json" >> "$OUT/h200-compiler.log" 2>&1
[ -f "$OUT/compile_matrix.json" ] && mv "$OUT/compile_matrix.json" "$OUT/compile_matrix-h200.json" \
  && mv "$OUT/compile_matrix.md" "$OUT/compile_matrix-h200.md"
tail -40 "$OUT/h200-compiler.log"
