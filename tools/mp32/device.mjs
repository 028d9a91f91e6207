// The device firmware (firmware/app.py with a board module and the fake board) on a 32-bit
// MicroPython VM: the official MicroPython WebAssembly port under node, with node's `net`
// as its network. tools/mp32_device.py (WasmDevice) drives it; see docs/FIRMWARE.md,
// "On a 32-bit VM".
//
//   node --expose-gc tools/mp32/device.mjs CONFIG.json      (or the JSON on stdin)
//
// CONFIG: {"root": the board's .mpy tree (tools/deploy.py mpy: app/settings/wifi/board.mpy,
//            lib/deepstream/*.mpy, boot.py, main.py),
//          "fakeboard": dir with the fake board's .mpy (fakeboard, machine, network, rp2, ...),
//          "shims": dir with wasm_net.mpy and wasm_sha1.mpy (default: the .py files next
//            to this script),
//          "config": the board's config.json (an object),
//          "control_file": host path of the fake board's control file (mirrored into the
//            VM's /fakeboard.json whenever it changes, checked every 25 ms),
//          "heapsize": bytes (default 96 KB), "romfs": false | true,
//          "romfs_image": (needed with romfs) a ROMFS image of root + fakeboard/ + shims/
//            (tools/mp32_device.py builds it),
//          "sample_ms": heap sample interval (default 1000),
//          "fake_modules": fake board modules to import before the app (default: all of
//            fakeboard's .mpy but vboard*)}
//
// The VM's files: files mode: root is copied to / (so /app.mpy, /lib/deepstream/..., the
// layout of a board), the fake board to /fakeboard, the shims to /shims. ROMFS mode: all
// three are in the image, mounted at /rom (the port puts /rom and /rom/lib on sys.path);
// config.json and fakeboard.json are in the writable / (the working directory) either way.
//
// What stands in for what a board has and this port lacks:
//   socket   an empty module (/stubs/socket.py): transport.py imports it at the top; the
//            asyncio driver never uses it
//   hashlib  wasm_sha1 (pure-Python sha1; the port's hashlib has only sha256)
//   asyncio.open_connection   wasm_net.open_connection over the JS module wasm_net_js
//   machine, network, rp2, esp32   the fake board (C modules on a board)
//
// Output lines (stdout): every line the VM prints (the app's "app: ..." log, the fake
// board's "@fake ..."), and
//   @mp32 ready {json}   once, before the app starts: sys.maxsize, mounts, sys.path, the
//                        initial GC area ("gc_total"), and the heap the stand-ins take:
//                        "sizes": {"runtime": fresh VM, "shims": socket stub + sha1 +
//                        wasm_net, "fakeboard": the fake board modules} (bytes, live after
//                        a collection, each measured in runPython() calls of its own)
//   @heap t=MS used=N total=N free=N grew=0|1 published=N state=S
//                        every sample_ms: gc.collect() in one runPython() call, then
//                        gc.mem_alloc() (used) and micropython.mem_info()'s "GC: total"
//                        in the next; grew=1 once total exceeds the initial area (the
//                        port's heap grows instead of raising MemoryError)
//   @mp32 error TEXT     the VM or the app task failed
// SIGTERM/SIGINT: one last sample, then exit 0.
import { readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import net from "node:net";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript/micropython.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const CONTROL_IN_VM = "/fakeboard.json";

function say(line) {
  process.stdout.write(line + "\n");
}

function fail(message) {
  say("@mp32 error " + message.replace(/\n/g, "\\n"));
  process.exit(2);
}

function readConfig() {
  const arg = process.argv[2];
  const text = arg && arg !== "-" ? readFileSync(arg, "utf8") : readFileSync(0, "utf8");
  const cfg = { heapsize: 96 * 1024, romfs: false, sample_ms: 1000, shims: HERE, ...JSON.parse(text) };
  if (!cfg.root || !cfg.fakeboard || !cfg.config) fail("config needs root, fakeboard and config");
  if (cfg.romfs && !cfg.romfs_image) fail("romfs: true needs romfs_image");
  return cfg;
}

function filesBelow(root, keep) {
  const out = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (keep(name)) out.push(p);
    }
  };
  walk(root);
  return out;
}

// ---------------------------------------------------------------- network: wasm_net_js
// Connections by id. Python polls take() and awaits readable() only when nothing is
// buffered; the promises never reject (errors are text starting with "!").
const conns = new Map();
let nextConn = 1;

function wake(c) {
  const w = c.waiters;
  c.waiters = [];
  for (const resolve of w) resolve(true);
}

const wasmNetJs = {
  connect(host, port) {
    return new Promise((resolve) => {
      const sock = net.connect({ host, port });
      const c = { sock, chunks: [], size: 0, eof: false, err: null, waiters: [], closed: false,
        closeWaiters: [], drainWaiters: [] };
      let opened = false;
      sock.setNoDelay(true);
      sock.on("connect", () => {
        opened = true;
        const id = nextConn++;
        conns.set(id, c);
        c.id = id;
        resolve(id);
      });
      sock.on("data", (buf) => {
        c.chunks.push(buf);
        c.size += buf.length;
        wake(c);
      });
      sock.on("end", () => {
        c.eof = true;
        wake(c);
      });
      sock.on("drain", () => {
        const w = c.drainWaiters;
        c.drainWaiters = [];
        for (const r of w) r(true);
      });
      sock.on("error", (e) => {
        c.err = `${e.code || "error"}: ${e.message}`;
        if (!opened) resolve(c.err);
        wake(c);
      });
      sock.on("close", () => {
        c.closed = true;
        c.eof = true;
        wake(c);
        const w = c.closeWaiters.concat(c.drainWaiters);
        c.closeWaiters = [];
        c.drainWaiters = [];
        for (const r of w) r(true);
        if (c.closing) conns.delete(c.id);
        if (!opened) resolve(c.err || "connection closed");
      });
    });
  },
  take(id, n) {
    const c = conns.get(id);
    if (!c) return "!not connected";
    if (c.size === 0) {
      if (c.err) return "!" + c.err;
      return c.eof ? "" : null;
    }
    const parts = [];
    let got = 0;
    while (c.chunks.length && got < n) {
      const b = c.chunks[0];
      const want = n - got;
      if (b.length <= want) {
        parts.push(b);
        got += b.length;
        c.chunks.shift();
      } else {
        parts.push(b.subarray(0, want));
        c.chunks[0] = b.subarray(want);
        got += want;
      }
    }
    c.size -= got;
    return Buffer.concat(parts, got).toString("hex");
  },
  readable(id) {
    const c = conns.get(id);
    if (!c || c.size || c.eof || c.err) return Promise.resolve(true);
    return new Promise((resolve) => c.waiters.push(resolve));
  },
  write(id, hex) {
    const c = conns.get(id);
    if (!c || c.closed) return "not connected";
    if (c.err) return c.err;
    c.sock.write(Buffer.from(hex, "hex"));
    return null;
  },
  error(id) {
    const c = conns.get(id);
    if (!c) return "not connected";
    return c.err;
  },
  backlog(id) {
    const c = conns.get(id);
    return c ? c.sock.writableLength : 0;
  },
  drained(id) {
    const c = conns.get(id);
    if (!c || !c.sock.writableLength) return Promise.resolve(true);
    return new Promise((resolve) => c.drainWaiters.push(resolve));
  },
  close(id) {
    const c = conns.get(id);
    if (!c || c.closing) return;
    c.closing = true;
    if (c.closed) {
      conns.delete(id);
      return;
    }
    c.sock.end();
    setTimeout(() => c.sock.destroy(), 1000).unref();
  },
  closed(id) {
    const c = conns.get(id);
    if (!c || c.closed) return Promise.resolve(true);
    return new Promise((resolve) => c.closeWaiters.push(resolve));
  },
};

// ---------------------------------------------------------------- the VM
const cfg = readConfig();
let capture = null; // lines of a runPython() call we read ourselves
const mp = await loadMicroPython({
  heapsize: cfg.heapsize,
  romfs: cfg.romfs ? new Uint8Array(readFileSync(cfg.romfs_image)) : undefined,
  linebuffer: true,
  stdout: (line) => (capture ? capture.push(line) : say(line)),
  stderr: (line) => (capture ? capture.push(line) : say(line)),
});
mp.registerJsModule("wasm_net_js", wasmNetJs);

function run(code, what) {
  try {
    return mp.runPython(code);
  } catch (e) {
    fail(`${what}: ${e && e.message ? e.message : e}`);
  }
}

function captured(code, what) {
  capture = [];
  try {
    run(code, what);
    return capture;
  } finally {
    capture = null;
  }
}

function gcTotal() {
  const lines = captured("micropython.mem_info()", "mem_info");
  for (const l of lines) {
    const m = /GC: total: (\d+), used: (\d+), free: (\d+)/.exec(l);
    if (m) return { total: +m[1], used: +m[2], free: +m[3] };
  }
  fail("no 'GC: total' in mem_info output: " + lines.join(" | "));
}

// a live-heap figure: collect in one call, read in the next (see tools/mp32/groups.py)
function live() {
  run("gc.collect()", "collect");
  run("_mp32_used = gc.mem_alloc()", "mem_alloc");
  return mp.globals.get("_mp32_used");
}

run("import gc, sys, micropython, asyncio\ngc.collect()", "start");
const initial = gcTotal();
const sizes = { runtime: live() };

// files into the VM
const fsPut = (src, dest) => {
  mp.FS.mkdirTree(dirname(dest));
  mp.FS.writeFile(dest, readFileSync(src));
};
let base = "";
if (cfg.romfs) {
  const mounts = JSON.parse(captured(
    "import vfs, json\nprint(json.dumps([[type(v).__name__, p] for v, p in vfs.mount()]))", "mounts")[0]);
  const rom = mounts.find(([kind]) => kind === "VfsRom");
  if (!rom) fail("the ROMFS image was not mounted (no VfsRom in vfs.mount())");
  base = rom[1];
} else {
  const isMpy = (n) => n.endsWith(".mpy");
  for (const f of filesBelow(cfg.root, isMpy)) fsPut(f, join("/", relative(cfg.root, f)));
  for (const f of filesBelow(cfg.fakeboard, isMpy)) fsPut(f, join("/fakeboard", relative(cfg.fakeboard, f)));
  const shimFiles = filesBelow(cfg.shims, (n) => /^wasm_(net|sha1)\.(mpy|py)$/.test(n));
  const hasMpy = shimFiles.some(isMpy);
  for (const f of shimFiles) if (!hasMpy || isMpy(f)) fsPut(f, join("/shims", relative(cfg.shims, f)));
}
mp.FS.mkdirTree("/stubs");
mp.FS.writeFile("/stubs/socket.py",
  "# stub: the WebAssembly port has no socket; the asyncio driver does not use it\n");
mp.FS.writeFile("/config.json", JSON.stringify(cfg.config));
const bootPy = join(cfg.root, "boot.py");

// the fake board's control file, mirrored into the VM when it changes
let controlText = null;
function mirrorControl() {
  if (!cfg.control_file) return;
  let text;
  try {
    text = readFileSync(cfg.control_file, "utf8");
  } catch {
    return;
  }
  if (text !== controlText) {
    controlText = text;
    mp.FS.writeFile(CONTROL_IN_VM, text);
  }
}
mirrorControl();
setInterval(mirrorControl, 25);

const fakeModules = cfg.fake_modules ||
  filesBelow(cfg.fakeboard, (n) => n.endsWith(".mpy") && !n.startsWith("vboard"))
    .map((f) => f.slice(f.lastIndexOf("/") + 1, -4));
const inBase = (p) => (base ? join(base, p) : "/" + p);
run(`
import os
os.chdir("/")
sys.path[:0] = [${JSON.stringify(inBase("fakeboard"))}, ${JSON.stringify(inBase("shims"))}, "/stubs"]
`, "paths");
const pathNow = JSON.parse(captured("import json\nprint(json.dumps(sys.path))", "path")[0]);

// the stand-ins, measured group by group
run("gc.collect()", "collect");
const before = live();
run(`
import socket
import wasm_sha1
sys.modules["hashlib"] = wasm_sha1
import wasm_net
asyncio.open_connection = wasm_net.open_connection
del wasm_sha1, wasm_net
`, "shims");
sizes.shims = live() - before;
const beforeFake = live();
run(`for _n in ${JSON.stringify(fakeModules)}:\n    __import__(_n)\ndel _n`, "fake board");
sizes.fakeboard = live() - beforeFake;

// boot.py, then what main.py does, but with a task on the port's JS-driven asyncio
// (it has no asyncio.run): keep the App in _app so the samples can read it
if (existsSync(bootPy)) run(readFileSync(bootPy, "utf8"), "boot.py");
const beforeApp = live();
run(`
import settings
_cfg = settings.load("config.json")
del settings
sys.modules.pop("settings", None)
import board, app
_app = app.App(_cfg, board)
del _cfg

async def _mp32_main():
    try:
        await _app.run()
    except BaseException as e:
        sys.print_exception(e)
        print("@mp32 error app task ended: %r" % (e,))

_mp32_task = asyncio.create_task(_mp32_main())
`, "app start");
sizes.app_start = live() - beforeApp;

function maxsize() {
  run("_mp32_max = str(sys.maxsize)", "maxsize");
  return Number(mp.globals.get("_mp32_max"));
}
say("@mp32 ready " + JSON.stringify({
  maxsize: maxsize(),
  heapsize: cfg.heapsize, romfs: !!cfg.romfs, rom_mount: base || null, gc_total: initial.total,
  path: pathNow, fake_modules: fakeModules, sizes,
}));

let grew = 0;
const t0 = Date.now();
function sample() {
  if (globalThis.gc) globalThis.gc(); // frees JS proxies of Python objects (their refs are on the heap)
  const used = live();
  const g = gcTotal();
  if (g.total > initial.total) grew = 1;
  run("_mp32_s = '%d %s' % (_app.published, _app.ds_state)", "app state");
  const [published, state] = mp.globals.get("_mp32_s").split(" ");
  say(`@heap t=${Date.now() - t0} used=${used} total=${g.total} free=${g.free} grew=${grew} ` +
    `published=${published} state=${state}`);
}
// the JS GC first, then a turn of the event loop for its finalizers, then the sample
const timer = setInterval(() => {
  if (globalThis.gc) globalThis.gc();
  setTimeout(sample, 5);
}, cfg.sample_ms);

function stop() {
  clearInterval(timer);
  try {
    sample();
  } finally {
    process.exit(0);
  }
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
