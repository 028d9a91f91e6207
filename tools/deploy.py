#!/usr/bin/env python3
"""Build and deploy the device firmware (the logic behind `make mpy/deploy/repl`).

    tools/deploy.py mpy    --board esp32                      # build/<board>/: the board's files
    tools/deploy.py deploy --board pico_w --port /dev/ttyACM0 # build, copy with mpremote, reset
    tools/deploy.py deploy --board esp32 --port /dev/ttyUSB0 --dry-run   # print, touch nothing
    tools/deploy.py repl   --port /dev/ttyUSB0
    tools/deploy.py package                                   # regenerate package.json, manifest.py

What goes on the board (paths on the board's filesystem):

    /boot.py /main.py          firmware/ sources (a board runs only .py at boot)
    /app.mpy /settings.mpy /wifi.mpy      firmware/ modules, precompiled
    /board.mpy                 boards/<board>/board.py, precompiled
    /config.json               --config (default ./config.json), validated here first
    /<ca_file>                 the CA certificate named by server.ca_file, if any
    /lib/deepstream/*.mpy      the library, precompiled

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


def lib_files():
    """Every library source, repo-relative, sorted (lib/deepstream/...)."""
    out = []
    for path in glob.glob(os.path.join(REPO, "lib", "**", "*.py"), recursive=True):
        out.append(os.path.relpath(path, REPO).replace(os.sep, "/"))
    return sorted(out)


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
    sys.path.insert(0, os.path.join(REPO, "firmware"))
    sys.path.insert(0, os.path.join(REPO, "lib"))
    try:
        import settings
    finally:
        del sys.path[:2]
    with open(path) as f:
        try:
            raw = json.load(f)
        except ValueError as err:
            raise SystemExit("%s is not valid JSON: %s" % (path, err))
    here = os.getcwd()
    os.chdir(os.path.dirname(os.path.abspath(path)))  # ca_file is relative to the config file
    try:
        cfg = settings.validate(raw)
    except settings.ConfigError as err:
        raise SystemExit(str(err).replace("config.json", path, 1))
    finally:
        os.chdir(here)
    ca = cfg["server"]["ca_file"]
    if ca is None:
        return None
    if "/" in ca.strip("/"):
        raise SystemExit("%s: server.ca_file must name a file in the board's root directory" % path)
    return os.path.join(os.path.dirname(os.path.abspath(path)), ca)


def stage_dir(board, out=None):
    return out or os.path.join(BUILD, board)


def mpy_cross_cmd(mpy_cross, src, out, optimize):
    cmd = [mpy_cross]
    if optimize:
        cmd.append("-O%d" % optimize)
    # -s: the name tracebacks show (deepstream/client.py, app.py)
    name = src[len("lib/"):] if src.startswith("lib/") else os.path.basename(src)
    return cmd + ["-s", name, "-o", out, os.path.join(REPO, src)]


def build(board, items, mpy_cross, optimize=1, dry_run=False, out=print, root=None):
    """Compile/copy every item into build/<board>/ (the board's filesystem layout)."""
    root = stage_dir(board, root)
    if dry_run:
        out("# build %s" % os.path.relpath(root, REPO))
    else:
        shutil.rmtree(root, ignore_errors=True)
    for src, dest, compile_it in items:
        target = os.path.join(root, dest)
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
for _f in %r:
    _rm(_f)
for _d in %r:
    try:
        os.mkdir(_d)
    except OSError:
        pass
print('DS-DEPLOY:clean')
"""


def copy_commands(items, root):
    """mpremote commands (joined with '+') for phase 2: clean, mkdir, copy, reset."""
    dirs = set()
    for _, dest, _ in items:
        parts = dest.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    dirs = sorted(dirs, key=lambda d: (d.count("/"), d))  # parents first
    stale = [dest[:-4] + ".py" for _, dest, c in items if c and "/" not in dest] + ["main.py.off"]
    cmds = [["exec", CLEAN_CODE % (stale, tuple(dirs))]]
    # one cp per file, to its full name: no "is the destination a directory" checks, which
    # differ between ports (the unix port cannot stat "" for the root)
    for _, dest, _ in items:  # main.py is last in items
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
        out("# files (source -> board):")
        for src, dest, c in items:
            out("%s -> :%s%s" % (os.path.relpath(src, REPO) if os.path.isabs(src) else src, dest,
                                 "  (mpy-cross)" if c else ""))
    root = build(args.board, items, mpy_cross, args.optimize, args.dry_run, out, args.out)
    safe = chain(mpremote, args.port, [["exec", SAFE_CODE]])
    copy = chain(mpremote, args.port, copy_commands(items, root))
    if args.dry_run:
        out("# 1. safe mode (stop the app: rename main.py, reset)")
        out(show(safe))
        out("# 2. clean, copy, reset")
        out(show(copy))
        return 0
    r = run_mpremote(safe)
    if SAFE_MARKER in r.stdout:
        print("deploy: app stopped (main.py renamed), board resetting")
        time.sleep(args.reset_wait)
    elif r.returncode != 0:
        raise SystemExit("mpremote could not reach the board on %s:\n%s%s" % (args.port, r.stdout, r.stderr))
    deadline = time.time() + RECONNECT_TIMEOUT
    while True:
        r = run_mpremote(copy)
        if r.returncode == 0 and "DS-DEPLOY:clean" in r.stdout:
            break
        if "DS-DEPLOY:clean" in r.stdout or time.time() > deadline:
            raise SystemExit("deploy failed:\n%s%s" % (r.stdout, r.stderr))
        time.sleep(1.0)  # the board is still rebooting
    print("deploy: %d files copied to %s, board reset" % (len(items), args.port))
    return 0


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
        if name == "deploy":
            s.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB0 or /dev/ttyACM0")
            s.add_argument("--config", default="config.json")
            s.add_argument("--no-config", action="store_true", help="leave the board's config.json")
            s.add_argument("--mpremote", help="mpremote executable")
            s.add_argument("--reset-wait", type=float, default=2.0,
                           help="seconds to wait after the safe-mode reset")
    sub.add_parser("package", help="regenerate package.json and manifest.py from lib/")
    r = sub.add_parser("repl")
    r.add_argument("--port", required=True)
    r.add_argument("--mpremote")
    args = p.parse_args(argv)
    if args.cmd == "repl":
        return subprocess.call([find_tool("mpremote", args.mpremote, "MPREMOTE"), "connect", args.port, "repl"])
    if args.cmd == "package":
        write_package_files()
        return 0
    if args.cmd == "mpy":
        items = plan(args.board)
        root = build(args.board, items, find_tool("mpy-cross", args.mpy_cross, "MPY_CROSS"),
                     args.optimize, args.dry_run, print, args.out)
        if not args.dry_run:
            for _, dest, _ in items:
                print(os.path.relpath(os.path.join(root, dest), REPO))
        return 0
    return deploy(args)


if __name__ == "__main__":
    sys.exit(main())
