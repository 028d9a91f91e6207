// The heap that .mpy modules keep once imported, measured on a 32-bit MicroPython VM:
// the official MicroPython WebAssembly port (@micropython/micropython-webassembly-pyscript,
// pinned in package.json). The unix port we use elsewhere is 64-bit.
//
//   node tools/mp32/measure.mjs CONFIG.json      (or the JSON on stdin)
//
// CONFIG: {"root": dir with the .mpy tree, "path": ["lib", ""] (sys.path entries, relative
//   to root), "groups": [["other", ["asyncio", "json"]], ["lib", ["deepstream", ...]]],
//   "heapsize": 1048576, "romfs": false, "romfs_image": file (needed with "romfs": true:
//   a ROMFS image of root, e.g. from mpremote.romfs.make_romfs; tools/mp32.py builds it),
//   "stubs": ["socket", "select"] (modules to stub if the VM lacks them)}
//
// romfs false: every .mpy below root is copied into the emscripten FS under /mp32/root and
//   imported from there; the loader copies the bytecode into the GC heap (like a .mpy on a
//   board's littlefs/FAT partition).
// romfs true: the image is handed to loadMicroPython({romfs}), which registers it outside
//   the GC heap; the port mounts it at /rom (vfs.VfsRom) and imports execute the bytecode
//   in place, as a board does from its ROMFS partition.
//
// Each group: gc.collect(), gc.mem_alloc(), import the modules, gc.collect(), gc.mem_alloc(),
// every step in a runPython() call of its own (see groups.py: a collection requested inside
// a call only happens once the call has returned to JS).
//
// Prints one line: SIZES {json}, with "sizes" {group: bytes|null}, "errors" {group: text},
// "loaded" {group: [modules it added to sys.modules]},
// "baseline" (gc.mem_alloc() of the fresh VM, after a collection), sys.implementation, sys.maxsize, "stubbed".
// The MicroPython side is groups.py (the same file tools/mp32.py runs on the unix port).
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript/micropython.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const FS_ROOT = "/mp32/root";
const FS_STUBS = "/mp32/stubs";
const FS_TOOL = "/mp32/tool";
const ROM_MOUNT = "/rom";

function fail(message) {
  console.log("SIZES " + JSON.stringify({ error: message }));
  process.exit(2);
}

function readConfig() {
  const arg = process.argv[2];
  const text = arg && arg !== "-" ? readFileSync(arg, "utf8") : readFileSync(0, "utf8");
  const cfg = JSON.parse(text);
  if (!cfg.root || !Array.isArray(cfg.groups)) fail("config needs root and groups");
  return {
    path: ["lib", ""],
    heapsize: 1048576,
    romfs: false,
    stubs: ["socket", "select"],
    ...cfg,
  };
}

function mpyFiles(root) {
  const out = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".mpy")) out.push(p);
    }
  };
  walk(root);
  return out;
}

// .mpy header: 'M', version, flags (arch << 2 | sub-version), small-int bits.
// sys.implementation._mpy = version | sub-version << 8 | arch << 10.
function checkMpy(files, vmMpy, smallIntBits) {
  const bad = [];
  for (const f of files) {
    const h = readFileSync(f).subarray(0, 4);
    const arch = h[2] >> 2;
    const ok = h[0] === 0x4d && h[1] === (vmMpy & 0xff) && h[3] <= smallIntBits &&
      (arch === 0 || (arch === vmMpy >> 10 && (h[2] & 3) === ((vmMpy >> 8) & 3)));
    if (!ok) bad.push(`${f}: header ${Array.from(h).join(",")}`);
  }
  return bad;
}

const cfg = readConfig();
const files = mpyFiles(cfg.root);
let romfs;
if (cfg.romfs) {
  if (!cfg.romfs_image) fail("romfs: true needs romfs_image (a ROMFS image of root)");
  romfs = new Uint8Array(readFileSync(cfg.romfs_image));
}

const lines = [];
const mp = await loadMicroPython({
  heapsize: cfg.heapsize,
  romfs,
  linebuffer: true,
  stdout: (line) => lines.push(line),
  stderr: (line) => process.stderr.write(line + "\n"),
});

function run(code) {
  lines.length = 0;
  try {
    mp.runPython(code);
  } catch (e) {
    fail(`python error: ${e && e.message ? e.message : e}\n${lines.join("\n")}`);
  }
  const tagged = lines.filter((l) => l.startsWith("MP32 "));
  for (const l of lines) if (!l.startsWith("MP32 ")) process.stderr.write(l + "\n");
  return tagged.length ? JSON.parse(tagged[tagged.length - 1].slice(5)) : null;
}

// The fresh VM, before anything of ours: sys.implementation, sys.maxsize, the heap in use,
// which stub candidates the VM has (builtin or frozen), where the ROMFS is mounted.
run("import gc\ngc.collect()");
const probe = run(`
_b = gc.mem_alloc()
import sys, json
_have = {}
for _n in ${JSON.stringify(cfg.stubs)}:
    try:
        __import__(_n)
        _have[_n] = True
    except ImportError:
        _have[_n] = False
try:
    import vfs
    _mounts = [[str(type(v).__name__), p] for v, p in vfs.mount()]
except Exception:
    _mounts = []
print("MP32 " + json.dumps({"baseline": _b, "maxsize": sys.maxsize, "mpy": sys.implementation._mpy,
    "have": _have, "mounts": _mounts, "default_path": sys.path}))
del _b, _have, _mounts
`);

const smallIntBits = Math.round(Math.log2(probe.maxsize + 1));
const bad = checkMpy(files, probe.mpy, smallIntBits);
if (bad.length) {
  fail(`.mpy files do not match the VM (sys.implementation._mpy=${probe.mpy}, ` +
    `${smallIntBits}-bit small ints): rebuild them with the matching mpy-cross\n` + bad.join("\n"));
}

let base;
if (cfg.romfs) {
  const rom = probe.mounts.find(([kind]) => kind === "VfsRom");
  if (!rom) fail("the ROMFS image was not mounted (no VfsRom in vfs.mount())");
  base = rom[1];
} else {
  base = FS_ROOT;
  for (const f of files) {
    const dest = join(FS_ROOT, relative(cfg.root, f));
    mp.FS.mkdirTree(dirname(dest));
    mp.FS.writeFile(dest, readFileSync(f));
  }
}
const sysPath = cfg.path.map((p) => (p ? join(base, p) : base));

const stubbed = cfg.stubs.filter((n) => !probe.have[n]);
const stubs = {};
if (stubbed.length) {
  mp.FS.mkdirTree(FS_STUBS);
  for (const n of stubbed) {
    mp.FS.writeFile(join(FS_STUBS, n + ".py"),
      `# stub: the MicroPython WebAssembly port has no ${n}; only for measuring imports\n`);
    stubs[n] = FS_STUBS;
  }
}

mp.FS.mkdirTree(FS_TOOL);
mp.FS.writeFile(join(FS_TOOL, "groups.py"), readFileSync(join(HERE, "groups.py")));
run(`
import sys
sys.path.insert(0, ${JSON.stringify(FS_TOOL)})
import groups
del sys.modules["groups"]
groups.setup(${JSON.stringify({ path: sysPath, groups: cfg.groups, stubs })})
`);
// One runPython() call per step: on this port gc.collect() only takes effect when control
// is back at the top level, so a collection inside the import call would free nothing.
// mark(0) and mark(1) are the same text: what compiling them leaves on the heap cancels.
const nGroups = cfg.groups.length + (stubbed.length ? 1 : 0);
for (let i = 0; i < nGroups; i++) {
  run(`groups.start(${i})`);
  run("gc.collect()");
  run("groups.mark(0)");
  run(`groups.load(${i})`);
  run("gc.collect()");
  run("groups.mark(1)");
  run(`groups.finish(${i})`);
}
run("gc.collect()");
const res = run("groups.report()");
if (!res) fail("groups.py printed no result");

const out = {
  vm: "micropython-webassembly",
  package: JSON.parse(readFileSync(join(HERE, "node_modules/@micropython/micropython-webassembly-pyscript/package.json"), "utf8")).version,
  implementation: res.implementation,
  maxsize: res.maxsize,
  bits: res.bits,
  heapsize: cfg.heapsize,
  romfs: !!cfg.romfs,
  rom_mount: cfg.romfs ? base : null,
  mounts: probe.mounts,
  baseline: probe.baseline,
  path: res.path,
  mpy_files: files.length,
  stubbed,
  order: res.order,
  sizes: res.sizes,
  errors: res.errors,
  loaded: res.loaded,
};
console.log("SIZES " + JSON.stringify(out));
