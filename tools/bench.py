"""`make bench`: throughput, latency and heap figures against the real server.

Starts @deepstream/server 7.0.2 (host_tests/support/dsserver.py) on a free
port, runs every measurement REPS times interleaved (the machine is shared
and noisy: figures are medians, and what matters are the ratios against
baselines measured in the same run), stops everything it started, prints a
table and rewrites the figures section of docs/BENCHMARKS.md (between the
`figures:start` / `figures:end` markers; the method is described above them).

    .venv/bin/python tools/bench.py [--reps N] [--no-write]

Measurements (scripts in tools/bench/):
  events   20,000 events of ~40 bytes from one publisher to a lean raw-websocket
           counting subscriber in this process: our client on MicroPython (poll
           driver, lib as .mpy) and on CPython, and the floor (mp_floor.py, a
           hand-written websocket loop on MicroPython sending the same frames).
  heap     MicroPython: after import + login + 10 subscriptions (.py and .mpy),
           state only, bytes allocated per received event (mp_heap.py).
  records  5,000 path sets counted by a raw subscriber (ours on both runtimes,
           and the floor); heap held per open record with a 200-byte document.
  rpc      1,000 sequential calls to a JS provider: ours on both runtimes and
           the official JS client 2.3.4 (js_rpc.js), p50/p99 and calls/s.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BENCH = os.path.join(HERE, "bench")
sys.path.insert(0, os.path.join(REPO, "host_tests"))
sys.path.insert(0, BENCH)

from support.dsserver import DeepstreamServer  # noqa: E402
from rawws import Counter, RawWs  # noqa: E402

MICROPYTHON = os.path.join(REPO, ".venv", "bin", "micropython")
PYTHON = sys.executable
NODE = "node"
LIB_PY = os.path.join(REPO, "lib")
LIB_MPY = os.path.join(REPO, "build", "mpy")
DOC = os.path.join(REPO, "docs", "BENCHMARKS.md")

N_EVENTS = 20000
N_SETS = 5000
N_RPC = 1000
MP_HEAP = "512K"  # throughput runs (ours and the floor alike); see BENCHMARKS.md
FIT_HEAPS = ("96K", "256K")  # does a burst of 100 messages per poll still fit? (see fit())
N_FIT = 2000
RECV_HEAP = "4M"  # the allocation probe runs with the collector off
RECV_WARMUP, RECV_N = 500, 2000
RECORDS_HELD = 20
RUN_TIMEOUT = 180

VARIANTS = ("mp", "cpython", "floor")
LABEL = {"mp": "ours, MicroPython", "cpython": "ours, CPython", "floor": "floor, MicroPython",
         "js": "official JS 2.3.4"}


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


def publish_once(srv, variant, mode, n, tag, heap=MP_HEAP):
    """One run: counting subscriber up, publisher started, both waited for."""
    name = "bench/%s/%s" % (mode, tag)
    done = "bench/done/" + tag
    if mode == "events":
        counter = Counter(srv.url, "E\x1fS\x1f%s\x1e" % name, b"E\x1fA\x1fS",
                          ("EVT\x1f%s\x1f" % name).encode(), n, done)
    else:
        counter = Counter(srv.url, "R\x1fCR\x1f%s\x1e" % name, b"R\x1fR\x1f",
                          ("R\x1fP\x1f%s\x1f" % name).encode(), n, done)
    counter.start()
    args = [srv.url, mode, name, str(n), done]
    if variant == "mp":
        cmd, env = mp_cmd("ds_publish.py", heap) + args, env_for(LIB_MPY)
    elif variant == "cpython":
        cmd, env = [PYTHON, os.path.join(BENCH, "ds_publish.py")] + args, env_for(LIB_PY)
    else:
        cmd, env = mp_cmd("mp_floor.py", heap) + args, env_for(LIB_MPY)
    try:
        out, err = run_script(cmd, env)
        counter.finished.wait(10)
        rate = counter.rate()
        if out is None or rate is None or (out.get("errors") and variant != "floor"):
            why = err or "; ".join((out or {}).get("errors") or []) or str(counter.error)
            return {"error": "subscriber got %d of %d: %s" % (counter.count, n, why)}
        return {"rate": rate, "send_rate": n / (out["send_us"] / 1e6), "errors": out.get("errors")}
    finally:
        counter.close()


def publish_all(srv, mode, n, reps):
    runs = {v: [] for v in VARIANTS}
    for rep in range(reps):
        for v in VARIANTS:
            r = publish_once(srv, v, mode, n, "%s-%d-%d" % (v, rep, os.getpid()))
            runs[v].append(r)
            if "error" in r:
                log("   %-20s run %d FAILED: %s" % (LABEL[v], rep + 1, r["error"]))
            else:
                log("   %-20s run %d: %8.0f /s end to end, %8.0f /s handed to the socket"
                    % (LABEL[v], rep + 1, r["rate"], r["send_rate"]))
    return summarize_publish(runs)


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize_publish(runs):
    out = {}
    for v, rs in runs.items():
        ok = [r for r in rs if "error" not in r]
        out[v] = {"rate": med([r["rate"] for r in ok]), "send_rate": med([r["send_rate"] for r in ok]),
                  "runs": len(rs), "failed": len(rs) - len(ok),
                  "all_rates": [round(r["rate"]) for r in ok],
                  "first_error": next((r["error"] for r in rs if "error" in r), None)}
    return out


# ---------------------------------------------------------------- heap


def heap_state(srv, lib, reps):
    vals = []
    for _ in range(reps):
        out, err = run_script(mp_cmd("mp_heap.py") + [srv.url, "state"], env_for(lib), 60)
        if out is None:
            return {"error": err}
        vals.append(out)
    return {k: med([v[k] for v in vals]) for k in ("start", "import", "state")}


def heap_recv(srv):
    """Bytes allocated per received event: the probe prints READY, we send."""
    name = "bench/recv/%d" % os.getpid()
    proc = subprocess.Popen(mp_cmd("mp_heap.py", RECV_HEAP) + [srv.url, "recv", name, str(RECV_WARMUP),
                                                                 str(RECV_N)],
                            env=env_for(LIB_MPY), cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    sender = None
    try:
        line = proc.stdout.readline()
        if line.strip() != "READY":
            return {"error": line + proc.stdout.read()[-400:]}
        sender = RawWs(srv.url)
        sender.login("bench-sender")
        msgs = ['E\x1fEVT\x1f%s\x1fO{"n":%d,"v":21.5}\x1e' % (name, i)
                for i in range(RECV_WARMUP + RECV_N)]
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


def fit(srv):
    """Ours and the floor on MicroPython with small heaps, N_FIT messages, once:
    'ok' or the first error (a fragmented heap shows up as MemoryError)."""
    out = {}
    for heap in FIT_HEAPS:
        for mode in ("events", "records"):
            for v in ("mp", "floor"):
                r = publish_once(srv, v, mode, N_FIT, "fit-%s-%s-%s-%d" % (heap, mode, v, os.getpid()), heap)
                out[(heap, mode, v)] = "ok" if "error" not in r else r["error"]
                log("   %-5s %-8s %-20s %s" % (heap, mode, LABEL[v], out[(heap, mode, v)][:150]))
    return out


def heap_send(srv):
    out, err = run_script(mp_cmd("mp_heap.py", RECV_HEAP) + [srv.url, "send", "bench/send/%d" % os.getpid()],
                          env_for(LIB_MPY), 60)
    return out if out is not None else {"error": err}


DOC_200 = {"device": "bench-sensor-0001", "fw": "1.4.2", "location": "hall/east", "interval": 60,
           "enabled": True, "thresholds": {"low": 18.5, "high": 26.0}, "tags": ["temp", "humidity", "co2"],
           "owner": "ops-team", "note": "x" * 5}  # 200 bytes as compact JSON (CPython's)


def write_records(srv, prefix, k):
    """Create prefix/0..k-1 holding DOC_200, with our CPython client (write acks awaited),
    so that the MicroPython probe only reads them."""
    sys.path.insert(0, LIB_PY)
    from deepstream import Client
    client = Client(srv.url)
    ok, acked = [], []
    client.login({"username": "bench-writer"}, lambda success, data: ok.append(success))
    end = time.monotonic() + 10
    recs = [client.record.get_record("%s/%d" % (prefix, i)) for i in range(k)]
    while time.monotonic() < end and not all(r.is_ready for r in recs):
        client.poll(20)
    for r in recs:
        r.set(DOC_200, acked.append)
    while time.monotonic() < end and len(acked) < k:
        client.poll(20)
    client.close()
    client.poll(50)
    return acked.count(None) == k


def heap_records(srv, reps):
    """Median over runs: the collector is conservative (a stale pointer on the stack
    keeps a little garbage alive), so one run can be off by a little."""
    prefix = "bench/heap-rec/%d" % os.getpid()
    if not write_records(srv, prefix, RECORDS_HELD):
        return {"error": "could not write the records"}
    vals = []
    for rep in range(reps):
        out, err = run_script(mp_cmd("mp_heap.py") + [srv.url, "records", prefix, str(RECORDS_HELD)],
                              env_for(LIB_MPY), 60)
        if out is None:
            return {"error": err}
        vals.append(out)
    return {"doc_bytes": len(json.dumps(DOC_200, separators=(",", ":"))), "per_record": med([v["per_record"] for v in vals]),
            "all": [round(v["per_record"]) for v in vals]}


# ---------------------------------------------------------------- rpc


def rpc_all(srv, reps):
    name = "bench/rpc/%d" % os.getpid()
    provider = subprocess.Popen([NODE, os.path.join(BENCH, "js_rpc.js"), "provide", srv.url, name],
                                cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    runs = {"mp": [], "cpython": [], "js": []}
    try:
        if provider.stdout.readline().strip() != "READY":
            return {"error": "JS provider did not start: " + provider.stderr.read()[-400:]}
        args = [srv.url, name, str(N_RPC)]
        cmds = {
            "mp": (mp_cmd("ds_rpc.py") + args, env_for(LIB_MPY)),
            "cpython": ([PYTHON, os.path.join(BENCH, "ds_rpc.py")] + args, env_for(LIB_PY)),
            "js": ([NODE, os.path.join(BENCH, "js_rpc.js"), "make"] + args, env_for(LIB_PY)),
        }
        for rep in range(reps):
            for v, (cmd, env) in cmds.items():
                out, err = run_script(cmd, env)
                if out is None or out["failed"]:
                    msg = err or "%d calls failed: %s" % (out["failed"], out["first_error"])
                    runs[v].append({"error": msg})
                    log("   %-20s run %d FAILED: %s" % (LABEL[v], rep + 1, msg))
                    continue
                rate = out["n"] / (out["total_us"] / 1e6)
                runs[v].append({"p50": out["p50_us"] / 1000, "p99": out["p99_us"] / 1000, "rate": rate})
                log("   %-20s run %d: p50 %.2f ms, p99 %.2f ms, %.0f calls/s"
                    % (LABEL[v], rep + 1, out["p50_us"] / 1000, out["p99_us"] / 1000, rate))
    finally:
        try:
            provider.stdin.close()
            provider.wait(timeout=5)
        except Exception:
            provider.kill()
            provider.wait()
    out = {}
    for v, rs in runs.items():
        ok = [r for r in rs if "error" not in r]
        out[v] = {k: med([r[k] for r in ok]) for k in ("p50", "p99", "rate")}
        out[v]["failed"] = len(rs) - len(ok)
    return out


# ---------------------------------------------------------------- report


def pct(a, b):
    if a is None or b is None or not b:
        return "n/a"
    return "%.0f%%" % (100.0 * a / b)


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


def render(res, reps):
    ev, rec, rpc, heap = res["events"], res["records"], res["rpc"], res["heap"]
    L = []
    a = L.append
    a("Run of %s; %s; %d runs of each measurement, interleaved; medians." % (
        time.strftime("%Y-%m-%d %H:%M"), versions(), reps))
    a("MicroPython runs: unix port, 64-bit, `-X heapsize=%s`, library loaded from `build/mpy` (.mpy)." % MP_HEAP)
    a("")
    a("### Events: 20,000 events of ~40 bytes, one publisher to one subscriber")
    a("")
    a("| publisher | end to end (events/s) | vs floor | handed to the socket (events/s) | vs floor |")
    a("|---|---:|---:|---:|---:|")
    for v in VARIANTS:
        r = ev[v]
        a("| %s | %s | %s | %s | %s |" % (LABEL[v], num(r["rate"]), pct(r["rate"], ev["floor"]["rate"]),
                                       num(r["send_rate"]), pct(r["send_rate"], ev["floor"]["send_rate"])))
    a("")
    a("### Records: 5,000 path sets (`R|P`) of an incrementing number")
    a("")
    a("| publisher | end to end (sets/s) | vs floor | handed to the socket (sets/s) | vs floor |")
    a("|---|---:|---:|---:|---:|")
    for v in VARIANTS:
        r = rec[v]
        a("| %s | %s | %s | %s | %s |" % (LABEL[v], num(r["rate"]), pct(r["rate"], rec["floor"]["rate"]),
                                       num(r["send_rate"]), pct(r["send_rate"], rec["floor"]["send_rate"])))
    a("")
    a("### RPC: 1,000 sequential calls to a JS provider")
    a("")
    a("| caller | p50 (ms) | p99 (ms) | calls/s | calls/s vs JS client |")
    a("|---|---:|---:|---:|---:|")
    for v in ("mp", "cpython", "js"):
        r = rpc.get(v, {})
        a("| %s | %s | %s | %s | %s |" % (LABEL[v], num(r.get("p50"), "%.2f"), num(r.get("p99"), "%.2f"),
                                       num(r.get("rate")), pct(r.get("rate"), rpc.get("js", {}).get("rate"))))
    a("")
    a("### MicroPython heap (64-bit unix port: pointers and GC blocks are twice a 32-bit board's)")
    a("")
    py, mpy, recv, recs = heap["state_py"], heap["state_mpy"], heap["recv"], heap["records"]

    def growth(h, k0, k1):
        return h[k1] - h[k0] if "error" not in h else None
    a("| what | bytes |")
    a("|---|---:|")
    a("| total after import + login + 10 subscriptions, lib as .py | %s |" % kb(growth(py, "start", "state")))
    a("| total after import + login + 10 subscriptions, lib as .mpy | %s |" % kb(growth(mpy, "start", "state")))
    a("|   of which imported code (.mpy) | %s |" % kb(growth(mpy, "start", "import")))
    a("| state only (growth after import: what a board with the lib frozen pays) | %s |"
      % kb(growth(mpy, "import", "state")))
    a("| allocated per received event (%d events, collector off) | %s |"
      % (RECV_N, num(recv.get("per_event"))))
    a("| held per open record (%d-byte document, %d records) | %s |"
      % (recs.get("doc_bytes", 0), RECORDS_HELD, num(recs.get("per_record"))))
    snd = heap["send"]
    a("| allocated per `event.emit(name, {\"n\": i, \"v\": 21.5})`, the dict included | %s |"
      % num(snd.get("emit")))
    a("|   + per event for framing and sending (the poll(0) after 100 emits) | %s |" % num(snd.get("emit_flush")))
    a("| allocated per `record.set(\"n\", i)` | %s |" % num(snd.get("set")))
    a("|   + per set for framing and sending | %s |" % num(snd.get("set_flush")))
    a("")
    a("### Small heaps: %d messages, 100 per poll, MicroPython, lib as .mpy" % N_FIT)
    a("")
    a("| heap | events, ours | events, floor | records, ours | records, floor |")
    a("|---|---|---|---|---|")
    for heap in FIT_HEAPS:
        cells = []
        for mode in ("events", "records"):
            for v in ("mp", "floor"):
                r = res["fit"][(heap, mode, v)]
                cells.append("ok" if r == "ok" else fit_cell(r))
        a("| %s | %s |" % (heap, " | ".join(cells)))
    a("")
    a("### Summary")
    a("")
    a("```")
    for line in summary(res):
        a(line)
    a("```")
    return "\n".join(L)


def fit_cell(error):
    """'subscriber got 0 of 2000: MemoryError: memory allocation failed, allocating
    1024 bytes (deepstream/connection.py line 116, in send)' -> a short table cell."""
    m = re.search(r"(\w+Error)\b.*?allocating (\d+) bytes(?: \((\S+) line (\d+), in (\w+)\))?", error)
    if not m:
        return "fails: " + error.split(": ", 1)[-1][:80].replace("|", "/")
    where = " in %s:%s %s()" % (m.group(3).split("/")[-1], m.group(4), m.group(5)) if m.group(3) else ""
    return "fails: %s allocating %s B%s" % (m.group(1), m.group(2), where)


def summary(res):
    ev, rec, rpc, heap = res["events"], res["records"], res["rpc"], res["heap"]
    mpy = heap["state_mpy"]
    state = mpy["state"] - mpy["import"] if "error" not in mpy else None
    return [
        "events, MicroPython: %s of the hand-written floor end to end (target >= 50%%), "
        "%s of its send rate" % (pct(ev["mp"]["rate"], ev["floor"]["rate"]),
                                 pct(ev["mp"]["send_rate"], ev["floor"]["send_rate"])),
        "events, CPython:     %s of the MicroPython floor end to end"
        % pct(ev["cpython"]["rate"], ev["floor"]["rate"]),
        "records, MicroPython: %s of the floor end to end (target >= 50%%), %s of its send rate"
        % (pct(rec["mp"]["rate"], rec["floor"]["rate"]), pct(rec["mp"]["send_rate"], rec["floor"]["send_rate"])),
        "rpc calls/s vs official JS client: MicroPython %s, CPython %s (p50 %s / %s / JS %s ms)"
        % (pct(rpc["mp"]["rate"], rpc["js"]["rate"]), pct(rpc["cpython"]["rate"], rpc["js"]["rate"]),
           num(rpc["mp"]["p50"], "%.2f"), num(rpc["cpython"]["p50"], "%.2f"), num(rpc["js"]["p50"], "%.2f")),
        "heap, MicroPython (64-bit): state %s (target < 16 KB), %s per received event, %s per open record"
        % (kb(state), num(heap["recv"].get("per_event")) + " B",
           num(heap["records"].get("per_record")) + " B"),
    ]


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
    opts = ap.parse_args()
    for path, fix in ((MICROPYTHON, "make venv"), (os.path.join(REPO, "tools", "server", "node_modules"),
                                                    "make node")):
        if not os.path.exists(path):
            sys.exit("missing %s: run `%s`" % (path, fix))
    log("building .mpy (make mpy) ...")
    subprocess.run(["make", "-s", "--no-print-directory", "mpy"], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL)
    t0 = time.monotonic()
    res = {}
    with DeepstreamServer(log_level="WARN") as srv:
        log("server up at %s" % srv.url)
        log("events (%d per run) ..." % N_EVENTS)
        res["events"] = publish_all(srv, "events", N_EVENTS, opts.reps)
        log("records (%d path sets per run) ..." % N_SETS)
        res["records"] = publish_all(srv, "records", N_SETS, opts.reps)
        log("rpc (%d sequential calls per run) ..." % N_RPC)
        res["rpc"] = rpc_all(srv, opts.reps)
        log("heap ...")
        res["heap"] = {
            "state_py": heap_state(srv, LIB_PY, opts.reps),
            "state_mpy": heap_state(srv, LIB_MPY, opts.reps),
            "recv": heap_recv(srv),
            "records": heap_records(srv, opts.reps),
            "send": heap_send(srv),
        }
        for k, v in res["heap"].items():
            if "error" in v:
                log("   heap %s FAILED: %s" % (k, v["error"]))
        log("small heaps (%d messages, 100 per poll) ..." % N_FIT)
        res["fit"] = fit(srv)
    text = render(res, opts.reps)
    log("")
    log(text)
    log("")
    log("(bench took %.0f s)" % (time.monotonic() - t0))
    if not opts.no_write:
        write_doc(text)


if __name__ == "__main__":
    main()
