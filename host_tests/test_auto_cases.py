"""The protocol="auto" cases that load a topic's modules (unit/auto_cases.py)
on both runtimes: collected here on CPython, and run by tools/mptest.py on
MicroPython with a heap of their own. While the client switches it holds a
topic's modules, both codecs and the converter at once: more than the 160K
of the unit runs (test_unit_micropython.py) on the 64-bit unix port."""
import re

from auto_cases import *  # noqa: F401,F403 (pytest collects the cases here)

HEAP = "224K"


def test_the_cases_pass_on_micropython(run_micropython):
    rc, out, err = run_micropython("tools/mptest.py", heap=HEAP, timeout=120, args=["host_tests/unit/auto_cases.py"])
    lines = out.strip().splitlines()
    assert rc == 0 and lines and re.match(r"^5 passed, 0 failed$", lines[-1]), out + err
