# A tiny unit-test runner for MicroPython (and CPython): no pytest on the board's runtime.
#
#   micropython -X heapsize=96K tools/mptest.py host_tests/unit/test_foo.py [...] [-v]
#
# Imports each file as a module and calls every top-level function named test_* (sorted by
# name) with no arguments. Plain `assert` and exceptions decide pass/fail. Prints one line
# per failure (plus its traceback), and finally exactly "N passed, N failed".
# Exit code 1 if anything failed (a module that fails to import counts as one failure).
# lib/ and host_tests/ are put on sys.path, so `import deepstream` works.
import os
import sys
import gc

try:
    import traceback

    def print_exc(e):
        traceback.print_exception(type(e), e, e.__traceback__, file=sys.stdout)
except ImportError:
    def print_exc(e):
        sys.print_exception(e, sys.stdout)


def _dirname(path):
    i = path.rfind("/")
    if i < 0:
        return "."
    return path[:i] or "/"


def _basename(path):
    return path[path.rfind("/") + 1:]


def _setup_path():
    me = __file__ if "__file__" in globals() else "tools/mptest.py"
    repo = _dirname(_dirname(me))
    for p in (repo + "/host_tests", os.getenv("DS_MP_LIB") or repo + "/lib"):
        if p not in sys.path:
            sys.path.insert(0, p)


def _import(path):
    folder = _dirname(path)
    name = _basename(path)
    if name.endswith(".py"):
        name = name[:-3]
    sys.path.insert(0, folder)
    try:
        if name in sys.modules:
            del sys.modules[name]
        gc.collect()
        return __import__(name)
    finally:
        sys.path.pop(0)


def run_file(path, verbose):
    passed = failed = 0
    try:
        mod = _import(path)
    except Exception as e:
        print("FAIL %s (import): %s: %s" % (path, type(e).__name__, e))
        print_exc(e)
        return 0, 1
    names = sorted(n for n in dir(mod) if n.startswith("test_"))
    for n in names:
        fn = getattr(mod, n)
        if not callable(fn):
            continue
        gc.collect()
        try:
            fn()
        except Exception as e:
            failed += 1
            print("FAIL %s::%s: %s: %s" % (path, n, type(e).__name__, e))
            print_exc(e)
        else:
            passed += 1
            if verbose:
                print("ok   %s::%s" % (path, n))
    return passed, failed


def main(argv):
    verbose = "-v" in argv
    files = [a for a in argv if a != "-v"]
    _setup_path()
    passed = failed = 0
    for path in files:
        p, f = run_file(path, verbose)
        passed += p
        failed += f
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
