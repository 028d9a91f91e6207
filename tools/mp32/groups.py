# Runs ON MicroPython: the heap that imported modules keep, group by group. The same steps
# on both VMs:
#
#   micropython groups.py CONFIG.json     64-bit unix port (tools/mp32.py): main() below
#   measure.mjs (32-bit WebAssembly port) calls setup(), then per group start(i), mark(0),
#   load(i), mark(1), finish(i), each in its own runPython() call with a gc.collect() call
#   before each mark: on that port gc.collect() only takes effect once control is back at
#   the top level (JS), so garbage made inside a call is never freed within it.
#
# cfg: {"path": [dirs for sys.path, absolute], "groups": [[name, [module, ...]], ...],
#       "romfs_image": file to mount with vfs.VfsRom at /rom (unix only; the wasm port
#       mounts its ROMFS itself), "stubs": {"socket": "/mp32/stubs", ...} (modules the VM
#       lacks: the stub dir is appended to sys.path and the stubs are imported as the group
#       "stubs" before all others, so their own size is measured and kept apart)}
#
# A group's size: collect; mark(0) = gc.mem_alloc(); import each module; collect;
# mark(1); size = mark(1) - mark(0). report() prints one line: MP32 {json}. A group whose
# import fails gets its error instead of a size; "loaded" lists the modules each group
# added to sys.modules (its imports' imports too).
import gc
import json
import sys

S = {}


def setup(cfg):
    gc.collect()
    S["start"] = gc.mem_alloc()
    image = cfg.get("romfs_image")
    if image:  # unix port: the image is a bytes object on the heap, mounted in place
        import vfs
        with open(image, "rb") as f:
            S["rom"] = f.read()
        vfs.mount(vfs.VfsRom(S["rom"]), "/rom")
    stubs = cfg.get("stubs") or {}
    sys.path[:] = list(cfg["path"]) + [".frozen"]
    for d in stubs.values():
        if d not in sys.path:
            sys.path.append(d)
    groups = [[name, list(mods)] for name, mods in cfg["groups"]]
    if stubs:
        groups = [["stubs", sorted(stubs)]] + groups
    S["groups"] = groups
    S["order"] = [name for name, _ in groups]
    S["sizes"] = {name: None for name in S["order"]}
    S["loaded"] = {name: None for name in S["order"]}
    S["errors"] = {}
    S["m"] = [0, 0]
    S["had"] = None
    S["failed"] = False


def start(i):
    S["had"] = list(sys.modules)  # made before mark(0), alive until after mark(1)
    S["failed"] = False


def mark(k):
    S["m"][k] = gc.mem_alloc()


def load(i):
    name, modules = S["groups"][i]
    try:
        for n in modules:
            __import__(n)
    except Exception as e:  # noqa: BLE001  (report, do not crash: the next groups still run)
        S["failed"] = True
        S["errors"][name] = "%s: %s" % (type(e).__name__, e)


def finish(i):
    name = S["groups"][i][0]
    if not S["failed"]:
        S["sizes"][name] = S["m"][1] - S["m"][0]
    had = S["had"]
    S["loaded"][name] = sorted(m for m in sys.modules if m not in had)
    S["had"] = None


def report():
    gc.collect()
    impl = sys.implementation
    version = ".".join(str(v) for v in impl.version[:3])
    if len(impl.version) > 3 and impl.version[3]:
        version += "-" + impl.version[3]
    out = {
        "implementation": {"name": impl.name, "version": version,
                           "machine": getattr(impl, "_machine", ""),
                           "mpy": getattr(impl, "_mpy", 0), "build": getattr(impl, "_build", "")},
        "maxsize": sys.maxsize,
        "bits": 32 if sys.maxsize == 2 ** 31 - 1 else 64 if sys.maxsize == 2 ** 63 - 1 else 0,
        "script_start": S["start"],
        "path": sys.path,
        "order": S["order"],
        "sizes": S["sizes"],
        "errors": S["errors"],
        "loaded": S["loaded"],
    }
    print("MP32 " + json.dumps(out))


def main(cfg):
    setup(cfg)
    for i in range(len(S["groups"])):
        start(i)
        gc.collect()
        mark(0)
        load(i)
        gc.collect()
        mark(1)
        finish(i)
    report()


if __name__ == "__main__" and len(sys.argv) > 1:
    with open(sys.argv[1]) as f:
        main(json.load(f))
