"""The README's demo: renders the project's showcase to a PNG and names it.

Until the deferred sample lands this is the triangle smoke render."""
from __future__ import annotations

import argparse
import sys

from samples import triangle


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m framegraph demo")
    ap.add_argument("--out", default="out/demo.png")
    ap.add_argument("--size", default="256x256")
    args = ap.parse_args(argv)
    w, h = (int(x) for x in args.size.lower().split("x"))
    path = triangle.save_png(triangle.render(width=w, height=h), args.out)
    print(f"demo written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
