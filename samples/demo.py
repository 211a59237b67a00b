"""The README's demo (`./dev.sh demo`, `python -m framegraph demo`): renders the deferred sample
offscreen to a PNG and names it.

One frame is enough for the picture and keeps lavapipe within a few seconds; every other option
of samples/deferred.py (--strategy, --frames, --debug-view, --lights, --window) passes through.
"""
from __future__ import annotations

import sys

from framegraph.samples import deferred


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    defaults = {"--out": "out/demo.png", "--size": "512x512", "--frames": "1"}
    for flag, value in defaults.items():
        if not any(a == flag or a.startswith(flag + "=") for a in argv):
            argv += [flag, value]
    return deferred.main(argv)


if __name__ == "__main__":
    sys.exit(main())
