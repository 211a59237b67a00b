#!/usr/bin/env bash
# Build framegraph's wheel and run it as a user would: a fresh venv outside the checkout, no
# PYTHONPATH, another working directory. Checks `info`, `demo` (a non-blank PNG), the backend
# import and the user guide's compute example. CI runs it (.ci/run, via `./dev.sh test -m wheel`).
#   scripts/check_wheel.sh [WORKDIR]     (default: a new temporary directory, removed at the end)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
WORK=${1:-}
if [ -z "$WORK" ]; then
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/framegraph-wheel.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK"
unset PYTHONPATH
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/share/vulkan/icd.d/lvp_icd.x86_64.json}

# The files git would commit (tracked, and new ones not ignored), copied out: building in the
# checkout would leave build/ and egg-info behind in a tree others are editing.
echo "[wheel] source -> $WORK/src"
mkdir -p "$WORK/src"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
     [ -e "$f" ] && printf '%s\0' "$f"; done | tar --null -T - -cf -) | tar -xf - -C "$WORK/src"
else      # an exported tree (no .git): everything but what a run leaves behind
  tar -C "$ROOT" --exclude=./.venv --exclude=./out --exclude='*.egg-info' --exclude=./build \
      --exclude='__pycache__' --exclude=./.pytest_cache --exclude=./.hypothesis -cf - . | tar -xf - -C "$WORK/src"
fi

echo "[wheel] build"
"$PYTHON" -m venv "$WORK/build-venv"
"$WORK/build-venv/bin/python" -m pip install -q --upgrade pip setuptools wheel
"$WORK/build-venv/bin/python" -m pip wheel -q --no-deps --no-build-isolation -w "$WORK/dist" "$WORK/src"
WHEEL=$(ls "$WORK"/dist/framegraph-*.whl)
echo "[wheel] $WHEEL"
"$WORK/build-venv/bin/python" - "$WHEEL" <<'PY'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
need = ["framegraph/compiler/__init__.py", "framegraph/verifier/__init__.py", "framegraph/viz/__init__.py",
        "framegraph/backends/vulkan/__init__.py", "framegraph/samples/demo.py", "framegraph/samples/deferred.py",
        "framegraph/shaders/fullscreen.vert.spv", "framegraph/shaders/fullscreen.vert"]
missing = [n for n in need if n not in names]
assert not missing, f"the wheel lacks {missing}"
print(f"[wheel] {len(names)} files, {sum(n.endswith('.spv') for n in names)} SPIR-V modules")
PY

echo "[wheel] install into a fresh venv"
"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install -q "$WHEEL"

RUN="$WORK/run"
mkdir -p "$RUN"
cd "$RUN"
PY="$WORK/venv/bin/python"
echo "[wheel] python -m framegraph info"
"$PY" -m framegraph info | tee info.txt
grep -q "framegraph 0" info.txt
if grep -q "$ROOT" info.txt; then echo "the installed package runs from the checkout" >&2; exit 1; fi

echo "[wheel] framegraph demo"
"$WORK/venv/bin/framegraph" demo --out demo.png
"$PY" - <<'PY'
import numpy as np
from PIL import Image
pixels = np.asarray(Image.open("demo.png").convert("RGB")).astype(int)
spread = int(pixels.max() - pixels.min())
assert pixels.shape[0] > 0 and spread > 32 and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 100, \
    f"blank demo image: {pixels.shape}, spread {spread}"
print(f"[wheel] demo.png {pixels.shape[1]}x{pixels.shape[0]}, {len(np.unique(pixels.reshape(-1, 3), axis=0))} colours")
PY

echo "[wheel] framegraph bench: benchmarks/ is not installed, said in one error line (exit 2)"
set +e
"$WORK/venv/bin/framegraph" bench --workload chain --frames 1 > bench.out 2> bench.err
code=$?
set -e
cat bench.err
[ "$code" = 2 ] && grep -q "^error: .*source checkout" bench.err && ! grep -q Traceback bench.err

echo "[wheel] the guide's compute example"
"$PY" - "$ROOT/docs/guide.md" <<'PY'
import os, re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"^```(\w+)\n(.*?)^```", text, re.M | re.S)
glsl = next(code for lang, code in blocks if lang == "glsl")
first, _, rest = glsl.partition("\n")
path = re.match(r"//\s*file:\s*(\S+)", first)[1]
os.makedirs(os.path.dirname(path), exist_ok=True)
open(path, "w").write(rest)
code = next(code for lang, code in blocks if lang == "python")
exec(compile(code, "guide.md: compute example", "exec"), {"__name__": "__guide__"})
import framegraph
assert not framegraph.__file__.startswith(os.path.dirname(os.path.dirname(sys.argv[1]))), framegraph.__file__
print("[wheel] compute example: read back", len(code.splitlines()), "lines of guide code OK from", framegraph.__file__)
PY
echo "[wheel] OK"
