"""The heap that .mpy modules keep once imported, on a 32-bit MicroPython VM.

The unix port we test on is 64-bit (8-byte pointers, 32-byte GC blocks); boards are
32-bit (4-byte pointers, 16-byte GC blocks). The official MicroPython WebAssembly port
(npm @micropython/micropython-webassembly-pyscript, pinned in tools/mp32/package.json) is
the same VM built 32-bit: tools/mp32/measure.mjs runs it under node.

    from mp32 import resident_sizes
    r = resident_sizes("build/mpy", [["other", ["asyncio", "json"]],
                                     ["lib", ["deepstream", "deepstream.client"]]])
    r["sizes"]    # {"stubs": 176, "other": ..., "lib": ...}  (bytes; None if it failed)
    r["errors"]   # {group: "ImportError: ..."}

    .venv/bin/python tools/mp32.py [--romfs] [--unix] DIR MODULE...
    (e.g. tools/mp32.py --unix build/mpy deepstream deepstream.compat deepstream.client)

romfs=True builds a ROMFS image of DIR (mpremote.romfs.make_romfs) and hands it to the VM,
which mounts it at /rom outside the GC heap: the bytecode is executed in place, as from a
board's ROMFS partition. unix_resident_sizes() measures the same on the 64-bit unix port
with the same MicroPython-side script (tools/mp32/groups.py).

The wasm port has no `socket`: an empty stub module stands in for it (the group "stubs",
measured before all others, so its size is kept apart from yours).
"""

import argparse
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MP32 = os.path.join(HERE, "mp32")
PACKAGE = "@micropython/micropython-webassembly-pyscript"
DEFAULT_HEAPSIZE = 1024 * 1024
# Import these first, in a group of their own ("other"), before measuring library modules:
# on the wasm port os, collections and time are frozen Python wrappers around the built-in
# modules (the pyscript variant), and its own asyncio loads asyncio.funcs at once. On a
# board or the unix port they are built in or frozen; in a library group they would be
# charged to whichever module first imports them.
RUNTIME_MODULES = ("asyncio", "asyncio.funcs", "json", "os", "collections", "time")


def node_path():
    return os.environ.get("NODE") or shutil.which("node")


def ensure_installed(npm=None):
    """npm ci --prefix tools/mp32 when the package is missing (once; locked against
    parallel test processes)."""
    marker = os.path.join(MP32, "node_modules", PACKAGE, "micropython.mjs")
    if os.path.exists(marker):
        return
    npm = npm or os.environ.get("NPM") or shutil.which("npm")
    if not npm:
        raise RuntimeError("npm not found: cannot install %s into tools/mp32" % PACKAGE)
    import fcntl
    lock_file = os.path.join(tempfile.gettempdir(), "mp32-npm-%08x.lock" % zlib.crc32(MP32.encode()))
    with open(lock_file, "w") as lock:  # outside the tree: npm ci empties node_modules
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(marker):
            subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefix", MP32], check=True,
                           stdout=subprocess.DEVNULL)


def _mpy_tree(root, dest):
    """Only the .mpy files of root (what measure.mjs copies in file mode)."""
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith(".mpy"):
                src = os.path.join(folder, name)
                out = os.path.join(dest, os.path.relpath(src, root))
                os.makedirs(os.path.dirname(out), exist_ok=True)
                shutil.copyfile(src, out)


def build_romfs(root, image):
    """A ROMFS image of the .mpy files below root, written to image."""
    from mpremote.romfs import make_romfs
    with tempfile.TemporaryDirectory() as tmp:
        _mpy_tree(root, tmp)
        with contextlib.redirect_stdout(io.StringIO()):  # make_romfs prints the tree
            data = make_romfs(tmp, mpy_cross=False)
    with open(image, "wb") as f:
        f.write(data)
    return image


def _parse(stdout, tag, what):
    for line in reversed(stdout.splitlines()):
        if line.startswith(tag + " "):
            report = json.loads(line[len(tag) + 1:])
            if "error" in report:
                raise RuntimeError("%s: %s" % (what, report["error"]))
            return report
    raise RuntimeError("%s printed no %s line:\n%s" % (what, tag, stdout))


def _groups(groups):
    return [[name, list(mods)] for name, mods in groups]


def resident_sizes(root, groups, path=("lib", ""), romfs=False, heapsize=DEFAULT_HEAPSIZE,
                   timeout=120):
    """Bytes each group of modules keeps on the heap once imported, 32-bit VM.

    groups: [(name, [module, ...]), ...], imported in that order in one fresh VM.
    Returns measure.mjs's report: "sizes" {group: bytes or None}, "errors" {group: text},
    "baseline", "maxsize" (2**31-1), "implementation", "stubbed", "rom_mount", ..."""
    node = node_path()
    if not node:
        raise RuntimeError("node not found: the 32-bit VM runs under node")
    ensure_installed()
    cfg = {"root": os.path.abspath(root), "path": list(path), "groups": _groups(groups),
           "heapsize": heapsize, "romfs": bool(romfs)}
    with tempfile.TemporaryDirectory() as tmp:
        if romfs:
            cfg["romfs_image"] = build_romfs(root, os.path.join(tmp, "romfs.img"))
        p = subprocess.run([node, os.path.join(MP32, "measure.mjs")], input=json.dumps(cfg),
                           capture_output=True, text=True, timeout=timeout)
    if p.returncode not in (0, 2):
        raise RuntimeError("measure.mjs failed (exit %d):\n%s%s" % (p.returncode, p.stdout, p.stderr))
    return _parse(p.stdout, "SIZES", "measure.mjs")


def unix_resident_sizes(root, groups, path=("lib", ""), romfs=False, heapsize=DEFAULT_HEAPSIZE,
                        micropython=None, timeout=120):
    """The same measurement on the 64-bit unix port (same groups.py, same order).

    romfs=True: the image is read into a bytes object (before the first group) and mounted
    with vfs.VfsRom at /rom, so imports run the bytecode in place. The unix port has
    socket and select: nothing is stubbed, and "sizes" has no "stubs" group."""
    exe = micropython or os.environ.get("MICROPYTHON") or os.path.join(REPO, ".venv", "bin", "micropython")
    root = os.path.abspath(root)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = {"groups": _groups(groups)}
        if romfs:
            cfg["romfs_image"] = build_romfs(root, os.path.join(tmp, "romfs.img"))
            base = "/rom"
        else:
            base = os.path.join(tmp, "root")
            _mpy_tree(root, base)  # only .mpy, as measure.mjs does
        cfg["path"] = [os.path.join(base, p) if p else base for p in path]
        cfg_file = os.path.join(tmp, "cfg.json")
        with open(cfg_file, "w") as f:
            json.dump(cfg, f)
        p = subprocess.run([exe, "-X", "heapsize=%d" % heapsize, os.path.join(MP32, "groups.py"),
                            cfg_file], capture_output=True, text=True, timeout=timeout, cwd=tmp)
    if p.returncode != 0:
        raise RuntimeError("micropython failed (exit %d):\n%s%s" % (p.returncode, p.stdout, p.stderr))
    report = _parse(p.stdout, "MP32", "micropython")
    report.update(vm="micropython-unix", romfs=bool(romfs), heapsize=heapsize)
    return report


def _table(modules, columns):
    """columns: [(title, report)]; one row per module, then the total."""
    head = ["module"] + [t for t, _ in columns]
    rows = []
    for m in modules:
        rows.append([m] + [_cell(r, m) for _, r in columns])
    totals = []
    for _, r in columns:
        vals = [r["sizes"].get(m) for m in modules]
        totals.append("{:,}".format(sum(v for v in vals if v is not None)))
    rows.append(["total"] + totals)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    lines = ["  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths))) for row in [head] + rows]
    return "\n".join(lines)


def _cell(report, module):
    v = report["sizes"].get(module)
    return "{:,}".format(v) if v is not None else "error"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="Modules are imported one by one, in the order given, "
                                        "in one fresh VM; each row is what that import added.")
    ap.add_argument("dir", help="directory with the .mpy tree (e.g. build/mpy)")
    ap.add_argument("modules", nargs="+", help="modules to import, in order")
    ap.add_argument("--romfs", action="store_true", help="load the .mpy files from a ROMFS image")
    ap.add_argument("--unix", action="store_true", help="also measure on the 64-bit unix port")
    ap.add_argument("--path", default="lib,", help="sys.path entries relative to DIR (default: 'lib,')")
    ap.add_argument("--heapsize", type=int, default=DEFAULT_HEAPSIZE)
    ap.add_argument("--first", default=",".join(RUNTIME_MODULES),
                    help="modules imported before, as the group 'other', not counted "
                         "(default: %(default)s; '' for none)")
    ap.add_argument("--json", action="store_true", help="print the raw reports as JSON")
    args = ap.parse_args(argv)
    path = args.path.split(",")
    first = [m for m in args.first.split(",") if m]
    groups = ([("other", first)] if first else []) + [(m, [m]) for m in args.modules]
    r32 = resident_sizes(args.dir, groups, path=path, romfs=args.romfs, heapsize=args.heapsize)
    columns = [("32-bit", r32)]
    if args.unix:
        columns.append(("64-bit", unix_resident_sizes(args.dir, groups, path=path, romfs=args.romfs,
                                                      heapsize=args.heapsize)))
    if args.json:
        print(json.dumps({t: r for t, r in columns}, indent=1))
        return 0
    impl = r32["implementation"]
    print("32-bit VM: MicroPython %s (%s, %s), sys.maxsize=%d, %s%s" % (
        impl["version"], impl["machine"], r32["package"], r32["maxsize"],
        "ROMFS at %s" % r32["rom_mount"] if r32["romfs"] else "files",
        ", stubbed: %s" % ", ".join(r32["stubbed"]) if r32["stubbed"] else ""))
    for g in ("stubs", "other"):
        if g in r32["order"]:
            print("%s (not counted below): %s" % (g, ", ".join(
                "%s %s bytes" % (t, "{:,}".format(r["sizes"][g]) if r["sizes"].get(g) is not None
                                 else "?") for t, r in columns if g in r["order"])))
    print(_table(args.modules, columns))
    for title, r in columns:
        for g, err in r["errors"].items():
            print("%s %s: %s" % (title, g, err), file=sys.stderr)
    return 1 if any(r["errors"] for _, r in columns) else 0


if __name__ == "__main__":
    sys.exit(main())
