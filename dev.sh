#!/usr/bin/env bash
# framegraph's two commands:  ./dev.sh demo   (render the demo to a PNG)
#                             ./dev.sh test   (run the whole test suite; `-m wheel` runs the
#                                              packaging check that CI adds: scripts/check_wheel.sh)
# Both install what they need on a fresh Debian 12 machine (as root) the first time,
# and skip the installation on later runs.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
APT_PACKAGES="libvulkan1 mesa-vulkan-drivers vulkan-validationlayers vulkan-tools glslc spirv-tools libglfw3 xvfb xauth x11-apps graphviz python3-venv"
STAMP=.venv/.framegraph-installed

need_apt() {
  local missing=""
  for p in $APT_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
  done
  echo "$missing"
}

setup() {
  local missing
  missing=$(need_apt)
  if [ -n "$missing" ]; then
    echo "[setup] apt-get install:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends $missing
  fi
  local want
  want=$(sha256sum pyproject.toml | cut -c1-16)
  if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ]; then
    echo "[setup] creating .venv and installing framegraph (editable) with extras"
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[all]"
    echo "$want" > "$STAMP"
  fi
  export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/share/vulkan/icd.d/lvp_icd.x86_64.json}
  export PATH="$ROOT/.venv/bin:$PATH"
}

verb=${1:-help}; shift || true
case "$verb" in
  demo)
    setup
    python -m framegraph demo --out "${DEMO_OUT:-out/demo.png}" "$@"
    ;;
  test)
    setup
    export FRAMEGRAPH_EXPECT_LAVAPIPE=${FRAMEGRAPH_EXPECT_LAVAPIPE:-1}
    exec python -m pytest -q "$@"
    ;;
  setup)
    setup
    ;;
  *)
    echo "usage: ./dev.sh demo|test [args]"; exit 2 ;;
esac
