#!/usr/bin/env bash
# Issue 18's checks on the lent H200, in one device call (carry [".gl", ".whl"]):
#   1. the replay, frame-data, readback, failure, recording, bad-input and aliasing backend tests on the
#      real driver, validation and synchronization validation on (and the replay fuzz where the machine
#      has hypothesis), with replay off and flipped on;
#   2. benchmarks/frame_cpu.py at full size (validation off): chain, streams, deferred 1920x1080 in
#      every mode, deferred_turns, the chain at 10/100/1,000 passes;
#   3. a replay soak (FRAMES_SOAK frames, default 10,000) with validation off.
# Writes h200-frame_cpu.log, frame_cpu-h200{,-details}.json and frame_cpu-soak-h200.json to $OUT.
# The device's copy of the tree is not a git checkout: pass FRAMEGRAPH_COMMIT=$(git rev-parse HEAD) from
# here so the results name their commit; then `python benchmarks/frame_cpu.py --markdown
# frame_cpu-h200-details.json > benchmarks/results/frame_cpu-h200.md` here.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. benchmarks/device_env.sh
{
  device_header
  # Off, then with every renderer replaying (FRAMEGRAPH_TEST_REPLAY, tests/backend/conftest.py): the
  # suite's own flip (test_every_backend_test_passes_with_replay_on) runs all of tests/backend, too
  # long for one device call, so it is deselected and the flips run here on this subset.
  for flip in "" true all; do
    echo "== backend tests, FRAMEGRAPH_TEST_REPLAY=${flip:-off} (validation + sync validation on)"
    FRAMEGRAPH_TEST_REPLAY=$flip FRAMEGRAPH_EXPECT_LAVAPIPE=0 timeout 180 python3 -m pytest -q -p no:cacheprovider \
      -k "not window and not every_backend_test" --tb=line -rf \
      tests/backend/test_replay.py tests/backend/test_frame_data.py tests/backend/test_failures.py \
      tests/backend/test_public_api.py tests/backend/test_pass_context.py tests/backend/test_api_input.py \
      tests/backend/test_record_fast.py tests/backend/test_exec_renderer.py tests/backend/test_exec_handoff.py \
      tests/backend/test_exec_aliasing.py \
      $(python3 -c "import hypothesis" 2>/dev/null && echo tests/backend/test_replay_fuzz.py) 2>&1 | tail -15
  done
} > "$OUT/h200-frame_cpu.log" 2>&1
FRAMEGRAPH_VALIDATION=0 timeout 300 python3 benchmarks/frame_cpu.py --out "$OUT" --tag h200 \
  >> "$OUT/h200-frame_cpu.log" 2>&1
FRAMEGRAPH_VALIDATION=0 timeout 120 python3 benchmarks/frame_cpu.py --soak "${FRAMES_SOAK:-10000}" --out "$OUT" \
  --tag h200 >> "$OUT/h200-frame_cpu.log" 2>&1
tail -60 "$OUT/h200-frame_cpu.log"
