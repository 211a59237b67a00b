# Sourced by the scripts that run on the lent GPU machine (carry [".gl", ".whl"]), from the repository
# root with ROOT set: the Vulkan loader, validation layer and glslc (glslc, libshaderc1) from .gl, the
# Python wheels from .whl, and
# the package without an install (pyproject's package-dir entries linked into this throw-away tree).
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
python3 -m pip install -q --no-index --no-deps --no-compile --upgrade --target /tmp/site .whl/*.whl
for d in backends samples shaders; do
  [ -e "framegraph/$d" ] || ln -s "$ROOT/$d" "framegraph/$d"
done
export PYTHONPATH=/tmp/site:$ROOT
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
# Where results go ($OUT on the device machine), and the device's description for a log's head.
OUT=${OUT:-$ROOT/out/h200}
mkdir -p "$OUT"
device_header() { echo "== device"; python3 -m framegraph info 2>&1 | head -30; }
