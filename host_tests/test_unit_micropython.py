"""Run every host_tests/unit/test_*.py under the MicroPython unix port with
tools/mptest.py. The same files are also collected by pytest on CPython directly.

The library is loaded as .mpy (host_tests/support/mp.py), but each test module is
compiled from source on the spot, which needs RAM a board never spends on it: the
unit runs get a 176K heap (test_binary_codec.py fails at 160K since the board tier's
non-blocking connect; 136K before the message model and the codecs, docs/MEMORY.md).
The board-sized checks are the behave runs (every topic loaded at once), the flood
test and the board tier (host_tests/board)."""

import glob
import os
import re

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNIT_FILES = sorted(os.path.relpath(p, REPO)
                    for p in glob.glob(os.path.join(REPO, "host_tests", "unit", "test_*.py")))


@pytest.mark.parametrize("path", UNIT_FILES)
def test_unit_file_on_micropython(run_micropython, path):
    rc, out, err = run_micropython("tools/mptest.py", heap="176K", timeout=120, args=[path])
    report = "rc=%s\n--- stdout\n%s\n--- stderr\n%s" % (rc, out, err)
    lines = out.strip().splitlines()
    assert lines, report
    m = re.match(r"^(\d+) passed, (\d+) failed$", lines[-1])
    assert m, report
    assert rc == 0 and m.group(2) == "0", report
    assert int(m.group(1)) > 0, "no test_* function ran\n" + report


def test_mptest_runner_reports_failures(run_micropython, tmp_path):
    """The runner itself: counts, failure lines, exit code (on MicroPython)."""
    f = tmp_path / "test_sample.py"
    f.write_text(
        "def test_ok():\n    assert 1 + 1 == 2\n"
        "def test_bad():\n    assert 1 == 2, 'nope'\n"
        "def test_raises():\n    raise ValueError('boom')\n"
        "def helper():\n    raise RuntimeError('not a test')\n")
    rc, out, err = run_micropython(os.path.join(REPO, "tools", "mptest.py"), args=[str(f)])
    assert rc == 1, (out, err)
    assert out.strip().splitlines()[-1] == "1 passed, 2 failed", out
    assert "test_bad: AssertionError: nope" in out
    assert "test_raises: ValueError: boom" in out
