"""Run code under the MicroPython unix port with lib/ on its path.

    rc, out, err = run_micropython("import deepstream; print('ok')")
    rc, out, err = run_micropython("tools/mptest.py", args=["host_tests/unit/test_x.py"])
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
LIB = os.path.join(REPO, "lib")
sys.path.insert(0, os.path.join(REPO, "tools"))
from deploy import source_name  # noqa: E402 (the names `make mpy` gives)


BUILD = os.path.join(REPO, "build", "mp-test")


def mp_lib():
    """lib/ compiled to .mpy with mpy-cross (rebuilt where a .py is newer):
    the MicroPython runs load the library the way a board gets it. Compiling
    .py source on the device itself needs more RAM than a board-sized heap
    can spare. DS_MP_SOURCE=1 runs the .py files instead."""
    if os.environ.get("DS_MP_SOURCE"):
        return LIB
    cross = os.path.join(REPO, ".venv", "bin", "mpy-cross")
    for folder, _dirs, files in os.walk(LIB):
        rel = os.path.relpath(folder, LIB)
        out_dir = os.path.join(BUILD, rel)
        os.makedirs(out_dir, exist_ok=True)
        for name in files:
            if not name.endswith(".py"):
                continue
            src = os.path.join(folder, name)
            dst = os.path.join(out_dir, name[:-3] + ".mpy")
            if os.path.exists(dst) and os.path.getmtime(dst) >= os.path.getmtime(src):
                continue
            tmp = dst + ".tmp%d" % os.getpid()  # parallel test processes: build atomically
            subprocess.run([cross, "-o", tmp, "-s", source_name(src), src], check=True)
            os.replace(tmp, dst)
    return BUILD


def micropython_path():
    """The unix-port binary: $MICROPYTHON, else .venv/bin/micropython."""
    path = os.environ.get("MICROPYTHON") or os.path.join(REPO, ".venv", "bin", "micropython")
    return os.path.abspath(path)


def run_micropython(code_or_script, heap="96K", timeout=60, args=(), cwd=None, env=None,
                    micropython=None, input=None):
    """Run a script file (an existing path ending in .py) or a code string.

    The heap is fixed with -X heapsize=<heap> (None: the port's default). lib/ (as
    .mpy, see mp_lib) and host_tests/ are on MICROPYPATH (frozen modules stay reachable). Returns
    (rc, stdout, stderr) as text; on timeout rc is -1 and stderr says so."""
    exe = micropython or micropython_path()
    cmd = [exe]
    if heap:
        cmd += ["-X", "heapsize=%s" % heap]
    if code_or_script.endswith(".py") and "\n" not in code_or_script and \
            os.path.exists(os.path.join(cwd or REPO, code_or_script)):
        cmd.append(code_or_script)
    else:
        cmd += ["-c", code_or_script]
    cmd += list(args)
    full_env = dict(os.environ)
    lib = mp_lib()
    full_env["MICROPYPATH"] = os.pathsep.join([lib, os.path.join(REPO, "host_tests"), ".frozen"])
    full_env["DS_MP_LIB"] = lib
    if env:
        full_env.update(env)
    try:
        p = subprocess.run(cmd, cwd=cwd or REPO, env=full_env, capture_output=True, text=True,
                           timeout=timeout, input=input)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        return -1, out, err + "\n[run_micropython: timed out after %ss]" % timeout
    return p.returncode, p.stdout, p.stderr
