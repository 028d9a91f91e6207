#!/usr/bin/env python3
"""Build and deploy the device firmware (the logic behind `make mpy/deploy/repl`).

    tools/deploy.py mpy    --board esp32                      # build/<board>/: the board's files
    tools/deploy.py deploy --board pico_w --port /dev/ttyACM0 # build, copy with mpremote, reset
    tools/deploy.py deploy --board esp32 --port /dev/ttyUSB0 --dry-run   # print, touch nothing
    tools/deploy.py deploy --board esp32 --port /dev/ttyUSB0 --romfs     # bytecode in ROMFS
    tools/deploy.py repl   --port /dev/ttyUSB0
    tools/deploy.py package                                   # regenerate package.json, manifest.py
    tools/deploy.py lib-mpy                                   # build/mpy/: the library alone

What goes on the board (paths on the board's filesystem):

    /boot.py /main.py          firmware/ sources (a board runs only .py at boot)
    /app.mpy /settings.mpy /wifi.mpy      firmware/ modules, precompiled
    /board.mpy                 boards/<board>/board.py, precompiled
    /config.json               --config (default ./config.json), validated here first
    /<ca_file>                 the CA certificate named by server.ca_file, if any
    /lib/deepstream/*.mpy      the library, precompiled (not HOST_ONLY: the command-line client)

.mpy files are plain bytecode from mpy-cross (mpy v6.3: MicroPython v1.23 or
later). We emit no native code, so no -march is passed: the same files load
on every board and on the unix port, which is how host_tests/test_firmware.py
tests "the bytecode a board would get". BOARDS records each board's native
arch for the day a module uses @micropython.native/viper.

Deploying runs mpremote twice:
 1. "safe mode": if /main.py exists it is renamed to /main.py.off and the board
    is reset, so the app (and its hardware watchdog, which cannot be stopped
    once started) is not running while files are copied;
 2. clean stale modules (a leftover .py shadows the .mpy of the same name),
    copy everything, /main.py last (an interrupted deploy leaves a board that
    boots to the REPL), then reset.

--romfs (MicroPython >= 1.25 with a ROMFS partition): every .mpy goes into one
ROMFS image instead (build/<board>.romfs, made from build/<board>-rom/, laid out
as it appears under /rom: /rom/lib/deepstream/*.mpy, /rom/app.mpy, ...); the
board runs that bytecode in place from flash, so it costs no heap. Only boot.py,
main.py, config.json (and the CA file) stay on the filesystem. The board's
sys.path is ['', '.frozen', '/rom', '/rom/lib', '/lib']: a /app.mpy on the
filesystem ('' is the root) would shadow /rom/app.mpy, so the deploy removes
/*.mpy, /*.py copies of the modules and /lib/deepstream. Safe mode first checks
that the firmware has a ROMFS partition the image fits in (and touches nothing
if not); phase 2 then runs `mpremote romfs deploy` before copying.
A normal deploy refuses a board whose ROMFS holds deepstream (/rom/lib comes
before /lib: the old ROM copy would win) unless --clear-romfs is given, which
writes an empty ROMFS image.
"""
import argparse
import glob
import json
import os
import shlex
import shutil
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(REPO, "build")

# board -> native arch of its MicroPython port (only needed for native code, see above)
BOARDS = {
    "esp32": {"arch": "xtensawin", "note": "ESP32 (also S2/S3/C3: set led_pin)"},
    "pico_w": {"arch": "armv6m", "note": "Raspberry Pi Pico W (RP2040)"},
    "pico2_w": {"arch": "armv7emsp", "note": "Raspberry Pi Pico 2 W (RP2350, Arm cores)"},
    "qemu": {"arch": "armv7m", "note": "the emulated board: QEMU mps2-an385 (Cortex-M3), tools/board.py"},
}
FIRMWARE_SOURCES = ("boot.py", "main.py")  # stay .py: the board runs them by name
FIRMWARE_MODULES = ("app.py", "settings.py", "wifi.py")
SAFE_MARKER = "DS-DEPLOY:reset"
RECONNECT_TIMEOUT = 20.0  # s to wait for a board to come back after a reset


def find_tool(name, given=None, env=None):
    """An executable: the option, $ENV, the repo's .venv, the running Python's bin dir, PATH."""
    for path in (given, os.environ.get(env) if env else None,
                 os.path.join(REPO, ".venv", "bin", name),
                 os.path.join(os.path.dirname(sys.executable), name)):
        if path and os.path.exists(path):
            return path
    return shutil.which(name) or name


# Host-only modules of the package: the command-line client. They never go to a board,
# into mip's package.json or into a frozen manifest (host_tests/test_packaging.py).
HOST_ONLY = ("lib/deepstream/cli.py", "lib/deepstream/__main__.py")


def lib_files():
    """Every library source a board may get, repo-relative, sorted (lib/deepstream/...).
    Only .py files: the type stubs (.pyi, py.typed) are for the host too."""
    out = []
    for path in glob.glob(os.path.join(REPO, "lib", "**", "*.py"), recursive=True):
        out.append(os.path.relpath(path, REPO).replace(os.sep, "/"))
    return sorted(f for f in out if f not in HOST_ONLY)


def build_lib_mpy(out, mpy_cross):
    """lib/ -> out/ (same layout, .mpy files) for copying the library alone to a board
    with mpremote (`make mpy`). Returns the written files."""
    written = []
    for src in lib_files():
        target = os.path.join(out, src[len("lib/"):-3] + ".mpy")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        r = subprocess.run(mpy_cross_cmd(mpy_cross, src, target, 0), capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("mpy-cross failed on %s:\n%s%s" % (src, r.stdout, r.stderr))
        written.append(target)
    return written


def plan(board, config=None, ca_file=None):
    """[(source repo-relative or absolute, destination on the board, compile?)]"""
    if board not in BOARDS:
        raise SystemExit("unknown board %r (known: %s)" % (board, ", ".join(sorted(BOARDS))))
    items = []
    for src in lib_files():
        dest = src[len("lib/"):] if src.startswith("lib/") else src
        items.append((src, "lib/" + dest[:-3] + ".mpy", True))
    for name in FIRMWARE_MODULES:
        items.append(("firmware/" + name, name[:-3] + ".mpy", True))
    items.append(("boards/%s/board.py" % board, "board.mpy", True))
    if config:
        items.append((config, "config.json", False))
    if ca_file:
        items.append((ca_file, ca_file_dest(ca_file), False))
    for name in FIRMWARE_SOURCES:
        if name != "main.py":
            items.append(("firmware/" + name, name, False))
    items.append(("firmware/main.py", "main.py", False))  # last on purpose
    return items


def ca_file_dest(ca_file):
    return os.path.basename(ca_file)


def check_config(path):
    """Validate config.json on the host with the firmware's own rules; return the CA file
    (host path) it names, or None. Exits with the firmware's message on a bad config."""
    with open(path) as f:
        try:
            raw = json.load(f)
        except ValueError as err:
            raise SystemExit("%s is not valid JSON: %s" % (path, err))
    here = os.getcwd()
    # settings.py, and deepstream.options, which it imports to check server.options
    sys.path[:0] = [os.path.join(REPO, "firmware"), os.path.join(REPO, "lib")]
    try:
        import settings
        os.chdir(os.path.dirname(os.path.abspath(path)))  # ca_file is relative to the config file
        try:
            cfg = settings.validate(raw)
        except settings.ConfigError as err:
            raise SystemExit(str(err).replace("config.json", path, 1))
    finally:
        os.chdir(here)
        del sys.path[:2]
    ca = cfg["server"]["ca_file"]
    if ca is None:
        return None
    if "/" in ca.strip("/"):
        raise SystemExit("%s: server.ca_file must name a file in the board's root directory" % path)
    return os.path.join(os.path.dirname(os.path.abspath(path)), ca)


def stage_dir(board, out=None):
    return out or os.path.join(BUILD, board)


def source_name(src):
    """The source name stored in a .mpy (tracebacks show it): the module's own
    name, deepstream.client or app. The interpreter has interned that string
    already (its modules are keyed by it), so a file costs no interned string
    of its own; a path (deepstream/client.py) cost one per module, and every
    string interned moves the table of them closer to its next doubling (a
    block of 4.5 KB on a 32-bit board, 7 KB on the 64-bit port)."""
    path = "/" + src.replace(os.sep, "/")
    path = path.rsplit("/lib/", 1)[1] if "/lib/" in path else path.rsplit("/", 1)[1]
    name = path[:-3].replace("/", ".")
    return name[:-len(".__init__")] if name.endswith(".__init__") else name


def mpy_cross_cmd(mpy_cross, src, out, optimize):
    cmd = [mpy_cross]
    if optimize:
        cmd.append("-O%d" % optimize)
    return cmd + ["-s", source_name(src), "-o", out, os.path.join(REPO, src)]


def romfs_paths(root):
    """(staging dir laid out as /rom, image file) next to the filesystem tree `root`.
    The image name must end in .romfs: `mpremote romfs deploy` builds an image from
    any other path instead of sending the file."""
    root = root.rstrip("/" + os.sep)
    return root + "-rom", root + ".romfs"


def rel(path):
    r = os.path.relpath(path, REPO)
    return path if r.startswith("..") else r


def build(board, items, mpy_cross, optimize=1, dry_run=False, out=print, root=None, romfs=False):
    """Compile/copy every item into build/<board>/ (the board's filesystem layout).
    romfs: the compiled items go to build/<board>-rom/ instead (the layout under /rom)."""
    root = stage_dir(board, root)
    rom = romfs_paths(root)[0] if romfs else None
    if dry_run:
        out("# build %s" % rel(root) + (" and %s" % rel(rom) if rom else ""))
    else:
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root)
        if rom:
            shutil.rmtree(rom, ignore_errors=True)
    for src, dest, compile_it in items:
        target = os.path.join(rom if rom and compile_it else root, dest)
        if dry_run:
            if compile_it:
                out(" ".join(shlex.quote(a) for a in mpy_cross_cmd(mpy_cross, src, target, optimize)))
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if compile_it:
            cmd = mpy_cross_cmd(mpy_cross, src, target, optimize)
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                raise SystemExit("mpy-cross failed on %s:\n%s%s" % (src, r.stdout, r.stderr))
        else:
            shutil.copyfile(src if os.path.isabs(src) else os.path.join(REPO, src), target)
    return root


def make_romfs(src_dir, image, mpremote=None):
    """Write the ROMFS image of src_dir (already .mpy: no compiling) to `image`; return
    its size. mpremote.romfs.make_romfs in this Python, else the mpremote executable."""
    os.makedirs(src_dir, exist_ok=True)
    try:
        from mpremote.romfs import make_romfs as _make
    except ImportError:
        r = subprocess.run([mpremote or find_tool("mpremote", None, "MPREMOTE"), "romfs",
                            "--no-mpy", "-o", image, "build", src_dir], capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("building the ROMFS image needs mpremote >= 1.25:\n%s%s" % (r.stdout, r.stderr))
    else:
        import contextlib
        import io
        with contextlib.redirect_stdout(io.StringIO()):  # it prints the tree
            data = _make(src_dir, mpy_cross=False)
        with open(image, "wb") as f:
            f.write(data)
    return os.path.getsize(image)


def build_romfs(board, items, mpy_cross, optimize=1, dry_run=False, out=print, root=None,
                mpremote=None):
    """build(romfs=True), then the image. Returns (filesystem root, image path)."""
    root = build(board, items, mpy_cross, optimize, dry_run, out, root, romfs=True)
    rom, image = romfs_paths(root)
    if dry_run:
        out("# ROMFS image %s from %s (mpremote.romfs.make_romfs, mpy_cross=False)" % (rel(image), rel(rom)))
    else:
        size = make_romfs(rom, image, mpremote)
        n = sum(len(fs) for _, _, fs in os.walk(rom))
        out("ROMFS image %s: %d bytes (%.1f KB), %d files" % (rel(image), size, size / 1024, n))
    return root, image


SAFE_CODE = """import os
try:
    os.rename('main.py', 'main.py.off')
except OSError:
    print('DS-DEPLOY:no-main')
else:
    print('%s')
    import machine
    machine.reset()
""" % SAFE_MARKER

# Checks run in safe mode before main.py is touched: when one fails the board is left as it is.
# --romfs: the firmware has a ROMFS partition (vfs.rom_ioctl, MicroPython >= 1.25); its size.
ROMFS_CHECK = """_ok = False
try:
    import vfs
    if vfs.rom_ioctl(1) > 0:
        _dev = vfs.rom_ioctl(2, 0)
        if not (isinstance(_dev, int) and _dev < 0):
            _ok = _dev.ioctl(4, 0) * _dev.ioctl(5, 0) if hasattr(_dev, 'ioctl') else len(_dev)
        _dev = None
except (ImportError, AttributeError, OSError):
    pass
print('DS-DEPLOY:romfs-size', int(_ok))
"""
NO_ROMFS = "this firmware has no ROMFS partition: deploy without ROMFS=1 (without --romfs)"
# a normal deploy: /rom/lib comes before /lib on sys.path, so a deepstream package left in the
# ROMFS would be imported instead of the new /lib/deepstream
ROM_LIB_CHECK = """_ok = True
for _p in ('/rom/lib/deepstream', '/rom/deepstream'):
    try:
        os.stat(_p)
    except OSError:
        continue
    print('DS-DEPLOY:rom-has-deepstream', _p)
    _ok = False
"""
ROM_HAS_LIB = ("the board's ROMFS holds the library (%s), which comes before /lib on sys.path and "
               "would shadow a normal deploy: deploy with ROMFS=1 (--romfs), or add CLEAR_ROMFS=1 "
               "(--clear-romfs) to write an empty ROMFS image")


def safe_code(check=None):
    """SAFE_CODE, run only if `check` (MicroPython code setting _ok) passes."""
    if not check:
        return SAFE_CODE
    body = SAFE_CODE.split("\n", 1)[1]  # after "import os"
    return "import os\n" + check + "if _ok:\n" + "".join(
        "    " + line + "\n" for line in body.splitlines())

CLEAN_CODE = """import os
def _rm(p):
    try:
        os.remove(p)
    except OSError:
        pass
try:
    for _f in os.listdir('lib/deepstream'):
        _rm('lib/deepstream/' + _f)
except OSError:
    pass
%sfor _f in %r:
    _rm(_f)
for _d in %r:
    try:
        os.mkdir(_d)
    except OSError:
        pass
print('DS-DEPLOY:clean')
"""


def stale_files(items, romfs=False):
    """Files phase 2 removes from the board's root (besides lib/deepstream/*): a .py that
    would shadow a module's .mpy; with romfs also the .mpy itself ('' is before /rom)."""
    top = [dest for _, dest, c in items if c and "/" not in dest]
    stale = [dest[:-4] + ".py" for dest in top]
    if romfs:
        stale = top + stale
    return stale + ["main.py.off"]


def copy_commands(items, root, romfs_image=None):
    """mpremote commands (joined with '+') for phase 2: clean, mkdir, copy, reset.

    romfs_image: the compiled items are in this image: clean also removes their copies on
    the filesystem ('' comes before /rom on sys.path) and /lib/deepstream, then
    `romfs deploy` writes the image before the remaining files are copied."""
    fs_items = [it for it in items if not (romfs_image and it[2])]
    dirs = set()
    for _, dest, _ in fs_items:
        parts = dest.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    dirs = sorted(dirs, key=lambda d: (d.count("/"), d))  # parents first
    stale = stale_files(items, romfs_image)
    rmdir = "try:\n    os.rmdir('lib/deepstream')\nexcept OSError:\n    pass\n" if romfs_image else ""
    # clean first: it prints the marker that tells deploy() the board was reached, so a
    # failing `romfs deploy` (image too big, ...) is reported at once instead of retried
    cmds = [["exec", CLEAN_CODE % (rmdir, stale, tuple(dirs))]]
    if romfs_image:
        cmds.append(["romfs", "deploy", romfs_image])
    # one cp per file, to its full name: no "is the destination a directory" checks, which
    # differ between ports (the unix port cannot stat "" for the root)
    for _, dest, _ in fs_items:  # main.py is last in items
        cmds.append(["fs", "cp", os.path.join(root, dest), ":" + dest])
    cmds.append(["reset"])
    return cmds


def chain(mpremote, port, cmds):
    argv = [mpremote, "connect", port]
    for i, c in enumerate(cmds):
        if i:
            argv.append("+")
        argv += c
    return argv


def show(argv):
    return " ".join(shlex.quote(a) if "\n" not in a else "'<%d lines of python>'" % a.count("\n")
                    for a in argv)


def run_mpremote(argv, timeout=120):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def deploy(args):
    mpy_cross = find_tool("mpy-cross", args.mpy_cross, "MPY_CROSS")
    mpremote = find_tool("mpremote", args.mpremote, "MPREMOTE")
    config = None if args.no_config else args.config
    ca = None
    if config:
        if not os.path.exists(config):
            raise SystemExit("%s not found: copy config.example.json to config.json and fill it in "
                             "(or pass --config FILE, or --no-config to keep the board's)" % config)
        ca = check_config(config)
    items = plan(args.board, config and os.path.abspath(config), ca)
    out = print
    if args.dry_run:
        out("# board %s (%s), port %s" % (args.board, BOARDS[args.board]["note"], args.port))
        list_files(items, args.romfs, out)
    image = None
    if args.romfs:
        root, image = build_romfs(args.board, items, mpy_cross, args.optimize, args.dry_run, out,
                                  args.out, mpremote)
        check = ROMFS_CHECK
    else:
        root = build(args.board, items, mpy_cross, args.optimize, args.dry_run, out, args.out)
        check = ROM_LIB_CHECK
        if args.clear_romfs:  # an empty image: the old /rom/lib/deepstream goes away
            check = ROMFS_CHECK + "_ok = True\n"  # no partition: nothing to clear
            image = romfs_paths(root)[1][:-len(".romfs")] + "-empty.romfs"
            if not args.dry_run:
                import tempfile
                with tempfile.TemporaryDirectory() as empty:
                    make_romfs(empty, image, mpremote)
    safe = chain(mpremote, args.port, [["exec", safe_code(check)]])
    copy = copy_commands(items, root, image if args.romfs else None)
    if args.clear_romfs and not args.romfs:
        copy.insert(1, ["romfs", "deploy", image])
    if args.dry_run:
        if args.romfs:
            out("# 1. check the ROMFS partition, safe mode (stop the app: rename main.py, reset)")
            out(show(safe))
            out("# 2. clean (stale copies of the ROMFS modules and /lib/deepstream), write the "
                "ROMFS image, copy the filesystem files, reset")
        else:
            out("# 1. safe mode (stop the app: rename main.py, reset)")
            out(show(safe))
            out("# 2. clean, copy, reset")
        out("# clean removes: lib/deepstream/*%s %s" % (" lib/deepstream/" if args.romfs else "",
                                                      " ".join(stale_files(items, args.romfs))))
        out(show(chain(mpremote, args.port, copy)))
        return 0
    r = run_mpremote(safe)
    found = [l.split()[1] for l in r.stdout.splitlines() if l.startswith("DS-DEPLOY:romfs-size")]
    if args.clear_romfs and not args.romfs and found and int(found[0]) == 0:
        print("deploy: this firmware has no ROMFS partition, nothing to clear")
        copy = [c for c in copy if c[0] != "romfs"]
    copy = chain(mpremote, args.port, copy)
    if args.romfs:
        if found and int(found[0]) == 0:
            raise SystemExit(NO_ROMFS)
        size = os.path.getsize(image)
        if found and size > int(found[0]):
            raise SystemExit("the ROMFS image (%d bytes) does not fit the board's ROMFS partition "
                             "(%d bytes)" % (size, int(found[0])))
    else:
        shadow = [l.split()[1] for l in r.stdout.splitlines() if l.startswith("DS-DEPLOY:rom-has-deepstream")]
        if shadow:
            raise SystemExit(ROM_HAS_LIB % ", ".join(shadow))
    if SAFE_MARKER in r.stdout:
        print("deploy: app stopped (main.py renamed), board resetting")
        time.sleep(args.reset_wait)
    elif r.returncode != 0:
        raise SystemExit("mpremote could not reach the board on %s:\n%s%s" % (args.port, r.stdout, r.stderr))
    deadline = time.time() + RECONNECT_TIMEOUT
    while True:
        r = run_mpremote(copy, timeout=600 if image else 120)  # a slow link: 100 KB of image
        if r.returncode == 0 and "DS-DEPLOY:clean" in r.stdout:
            break
        if "DS-DEPLOY:clean" in r.stdout or time.time() > deadline:
            raise SystemExit("deploy failed:\n%s%s" % (r.stdout, r.stderr))
        time.sleep(1.0)  # the board is still rebooting
    if args.romfs:
        n = len([it for it in items if not it[2]])
        print("deploy: ROMFS image (%d bytes, %d modules) written, %d files copied to %s, "
              "stale module copies removed, board reset"
              % (os.path.getsize(image), len(items) - n, n, args.port))
    else:
        print("deploy: %d files copied to %s, board reset" % (len(items), args.port))
    return 0


def list_files(items, romfs, out=print):
    out("# files (source -> board%s):" % (", /rom/...: in the ROMFS image" if romfs else ""))
    for src, dest, c in items:
        where = "/rom/" if romfs and c else ":"
        out("%s -> %s%s%s" % (rel(src) if os.path.isabs(src) else src, where, dest,
                              "  (mpy-cross)" if c else ""))


def version():
    with open(os.path.join(REPO, "lib", "deepstream", "__init__.py")) as f:
        for line in f:
            if line.startswith("__version__"):
                return line.split("=")[1].strip().strip("\"'")
    raise SystemExit("no __version__ in lib/deepstream/__init__.py")


def package_json():
    """The mip package description: every library file, installed from its repo path."""
    urls = ",\n".join("    " + json.dumps([src[len("lib/"):], src]) for src in lib_files())
    return '{\n  "urls": [\n%s\n  ],\n  "deps": [],\n  "version": "%s"\n}\n' % (urls, version())


def manifest_py():
    """manifest.py for freezing the library into a custom firmware build."""
    files = [src[len("lib/deepstream/"):] for src in lib_files()]
    lines = ['# Freeze the deepstream client into a custom MicroPython firmware.',
             '# In your board manifest (the port\'s own manifest first, it brings asyncio):',
             '#     include("$(PORT_DIR)/boards/manifest.py")',
             '#     include("/path/to/this/repo/manifest.py")',
             '# Generated by `tools/deploy.py package` from lib/; host_tests/test_firmware.py',
             '# checks it lists every library file.',
             'metadata(description="deepstream.io client", version="%s")' % version(),
             'package("deepstream", files=[']
    lines += ['    "%s",' % f for f in files]
    lines += ['], base_path="lib")']
    return "\n".join(lines) + "\n"


def write_package_files():
    for name, text in (("package.json", package_json()), ("manifest.py", manifest_py())):
        with open(os.path.join(REPO, name), "w") as f:
            f.write(text)
        print("wrote", name)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("mpy", "deploy"):
        s = sub.add_parser(name)
        s.add_argument("--board", default="esp32", choices=sorted(BOARDS))
        s.add_argument("--mpy-cross", help="mpy-cross executable")
        s.add_argument("-O", "--optimize", type=int, default=1,
                       help="mpy-cross optimisation level (default 1: no asserts, __debug__ False)")
        s.add_argument("--dry-run", action="store_true", help="print what would happen, do nothing")
        s.add_argument("--out", help="staging directory (default build/<board>)")
        s.add_argument("--romfs", action="store_true",
                       help="put the bytecode into a ROMFS image (<out>.romfs, from <out>-rom/) for "
                            "a board with a ROMFS partition (MicroPython >= 1.25); only boot.py, "
                            "main.py, config.json stay on the filesystem")
        if name == "deploy":
            s.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB0 or /dev/ttyACM0")
            s.add_argument("--config", default="config.json")
            s.add_argument("--no-config", action="store_true", help="leave the board's config.json")
            s.add_argument("--mpremote", help="mpremote executable")
            s.add_argument("--clear-romfs", action="store_true",
                           help="without --romfs: write an empty ROMFS image first (a library left "
                                "in /rom/lib would shadow /lib)")
            s.add_argument("--reset-wait", type=float, default=2.0,
                           help="seconds to wait after the safe-mode reset")
    sub.add_parser("package", help="regenerate package.json and manifest.py from lib/")
    s = sub.add_parser("lib-mpy", help="compile the library alone to --out (default build/mpy)")
    s.add_argument("--out", default=os.path.join(BUILD, "mpy"))
    s.add_argument("--mpy-cross", help="mpy-cross executable")
    r = sub.add_parser("repl")
    r.add_argument("--port", required=True)
    r.add_argument("--mpremote")
    args = p.parse_args(argv)
    if args.cmd == "repl":
        return subprocess.call([find_tool("mpremote", args.mpremote, "MPREMOTE"), "connect", args.port, "repl"])
    if args.cmd == "package":
        write_package_files()
        return 0
    if args.cmd == "lib-mpy":
        shutil.rmtree(args.out, ignore_errors=True)
        for path in build_lib_mpy(args.out, find_tool("mpy-cross", args.mpy_cross, "MPY_CROSS")):
            print(rel(path))
        return 0
    if args.cmd == "mpy":
        items = plan(args.board)
        mpy_cross = find_tool("mpy-cross", args.mpy_cross, "MPY_CROSS")
        if args.romfs:
            if args.dry_run:
                list_files(items, True)
            root, image = build_romfs(args.board, items, mpy_cross, args.optimize, args.dry_run,
                                      print, args.out)
            rom = romfs_paths(root)[0]
        else:
            root = build(args.board, items, mpy_cross, args.optimize, args.dry_run, print, args.out)
        if not args.dry_run:
            for _, dest, c in items:
                print(rel(os.path.join(rom if args.romfs and c else root, dest)))
        return 0
    return deploy(args)


if __name__ == "__main__":
    sys.exit(main())
