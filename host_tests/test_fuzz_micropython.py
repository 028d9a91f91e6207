"""The seeded mutation fuzzer (tools/fuzz_mp.py) under MicroPython.

More than 100,000 inputs in chunks (one process per target and seed, two at
a time): websocket byte streams at -X heapsize=96K, presence frames at 128K,
and text frames into an OPEN client with event/listen/RPC state at 176K.
The records target needs 176K: core + text codec + records + merge + requests
modules are ~110 KB of heap on their own, the fuzzer ~13 KB. (104K, 112K and
128K before the message model and the codecs: ~25 KB more code on this
64-bit port, and the interned-string table's next step; docs/MEMORY.md.) Those two targets make a
fresh client after every input that closes or redirects (~200 per 25,000),
and each needs its 1 KB frame buffer as one block: after thousands of inputs
the 64-bit heap is too fragmented for that a little above the smallest heap that
holds the code (measured 2026-12-06: 160K fails for events, 104K for presence,
144K for records). A board makes its client once, at boot. Every input: no exception
out of the parser (but WebSocketError) or the client (none at all), error
events carry text, and every 64 inputs a valid frame/event still works.
The same seeds also run on CPython (identical inputs: own PRNG).

The binary target (tools/fuzz_mp_bin.py, its checks there: also error events
for what the decoder refuses, the link kept OPEN, a flat heap) runs 100,000
inputs on each runtime. Its client holds state of every topic, so every
handler module is loaded: with the fuzzer, binary_helpers and the corpus that
is ~150 KB of the 64-bit heap before the first input; at 176K-208K the fresh
client after a closing input (~70 per 25,000) soon finds no room for its
buffers in one run, so it runs at 240K.
The library is compiled to .mpy first, as on a board: compiling source at
import time needs far more transient heap than the code occupies.
"""
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from support.mp import LIB, REPO, micropython_path
from support.mpybuild import build_mpy

# (target, seed, inputs, heap)
CHUNKS = [("ws", seed, 20000, "96K") for seed in (1, 2, 3)] + \
         [("events", seed, 25000, "176K") for seed in (1, 2)] + \
         [("presence", seed, 15000, "128K") for seed in (1, 2)] + \
         [("records", seed, 20000, "176K") for seed in (1, 2)]
LINE = re.compile(r"^fuzz (\w+) seed=(\d+) inputs=(\d+) errors=(\d+) resets=(\d+) ok$")


BINARY_HEAP = "240K"
BINARY_SEEDS = {"micropython": (1, 2, 3, 4), "cpython": (5, 6, 7, 8)}  # 25,000 inputs each


@pytest.fixture(scope="module")
def mpy_dir(tmp_path_factory):
    out = build_mpy(tmp_path_factory.mktemp("mpy"), extra=[
        "tools/fuzz_mp.py", "tools/fuzz_mp_ws.py", "tools/fuzz_mp_bin.py", "host_tests/unit/binary_helpers.py"])
    shutil.copy(os.path.join(REPO, "host_tests", "unit", "binary_frames.txt"), out)  # binary_helpers' corpus
    return out


def run_chunk(cmd, env, timeout=120):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd="/")
    except subprocess.TimeoutExpired:
        return -1, "timed out: %r" % (cmd,)
    return p.returncode, p.stdout + p.stderr


def test_mutation_fuzzer_micropython(mpy_dir):
    env = dict(os.environ, MICROPYPATH=mpy_dir + ":.frozen")
    cmds = [[micropython_path(), "-X", "heapsize=" + heap, "-m", "fuzz_mp", target, str(seed), str(n)]
            for target, seed, n, heap in CHUNKS]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda c: run_chunk(c, env), cmds))
    total = dict.fromkeys([chunk[3] for chunk in CHUNKS], 0)
    summary = []
    for (target, seed, n, heap), (rc, out) in zip(CHUNKS, results):
        assert rc == 0, "fuzz_mp %s seed %d at %s:\n%s" % (target, seed, heap, out[-3000:])
        m = LINE.match(out.strip().splitlines()[-1])
        assert m and int(m.group(3)) == n, out
        total[heap] += n
        summary.append("%s/%d@%s: %s inputs, %s error events, %s resets"
                       % (target, seed, heap, n, m.group(4), m.group(5)))
    print("\n".join(summary))
    print("MicroPython fuzz inputs: " + ", ".join("%d at %s" % (n, h) for h, n in sorted(total.items())))
    assert sum(total.values()) >= 100000


@pytest.mark.parametrize("target", ["ws", "events", "records", "presence"])
def test_mutation_fuzzer_cpython(target):
    env = dict(os.environ, PYTHONPATH=LIB + os.pathsep + os.path.join(REPO, "tools"))
    rc, out = run_chunk([sys.executable, "-m", "fuzz_mp", target, "7", "10000"], env)
    assert rc == 0, out[-3000:]
    assert LINE.match(out.strip().splitlines()[-1]), out


def run_binary(runtime, seeds, env):
    """fuzz_mp's binary target, 25,000 inputs per seed, two processes at a time."""
    cmds = [runtime + ["-m", "fuzz_mp", "binary", str(seed), "25000"] for seed in seeds]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda c: run_chunk(c, env), cmds))
    for seed, (rc, out) in zip(seeds, results):
        assert rc == 0, "fuzz_mp binary seed %d:\n%s" % (seed, out[-3000:])
        lines = out.strip().splitlines()
        m = LINE.match(lines[-1])
        assert m and m.group(1) == "binary" and int(m.group(3)) == 25000, out
        print("seed %d: %s error events, %s resets; %s" % (seed, m.group(4), m.group(5), lines[-2]))


def test_binary_fuzzer_micropython(mpy_dir):
    run_binary([micropython_path(), "-X", "heapsize=" + BINARY_HEAP], BINARY_SEEDS["micropython"],
               dict(os.environ, MICROPYPATH=mpy_dir + ":.frozen"))


def test_binary_fuzzer_cpython():
    path = os.pathsep.join([LIB, os.path.join(REPO, "tools"), os.path.join(REPO, "host_tests", "unit")])
    run_binary([sys.executable], BINARY_SEEDS["cpython"], dict(os.environ, PYTHONPATH=path))
