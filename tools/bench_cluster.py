"""`make bench` (after tools/bench.py): failover and throughput on a real
two-node deepstream cluster with Redis (host_tests/support/dscluster.py).

    .venv/bin/python tools/bench_cluster.py [--kills N] [--reps N] [--no-write]

Failover, MicroPython (unix port, library as .mpy): the device
(host_tests/peers/mp_cluster_peer.py) publishes at 100 Hz with
confirm_events, given both nodes' URLs; a raw-websocket subscriber sits on
each node. N times each, the device's node is killed (SIGKILL) or frozen
(SIGSTOP); the failover time runs from the signal to the first event that
the subscriber on the other node receives among those the device emitted
for that node (each event carries the index of the node the client was
using or trying when it was emitted, so it can only have come through the
new node). Between rounds the dead node is restarted and rejoins. Per kill
the subscriber on the surviving node also counts lost and duplicated events.
Then the same SIGKILL rounds without confirm_events: the loss it prevents.

Throughput: tools/bench/ds_publish.py (our client on MicroPython, 20,000
events of ~40 bytes) to a counting raw subscriber (tools/bench/rawws.py):
on a single server, and through the cluster (publisher on node A,
subscriber on node B), interleaved, medians of REPS runs.

Prints a table and rewrites the figures section of docs/CLUSTER.md (between
the `cluster-figures:start` / `cluster-figures:end` markers).
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "host_tests"))
sys.path.insert(0, os.path.join(HERE, "bench"))

from support.dscluster import ClusterDevice, DeepstreamCluster  # noqa: E402
from support.dsserver import DeepstreamServer  # noqa: E402
from support.mp import micropython_path, mp_lib  # noqa: E402
from rawws import Counter, RawWs  # noqa: E402

DOC = os.path.join(REPO, "docs", "CLUSTER.md")
HEARTBEAT = 1000  # ms, nodes and device
DEVICE = {  # as in host_tests/test_cluster.py
    "heartbeat_interval": HEARTBEAT, "reconnect_interval_increment": 500,
    "max_reconnect_interval": 500, "max_reconnect_attempts": 1000, "connect_timeout": 1500,
    "max_queued_bytes": 32768,
}
DEVICE_HEAP = "256K"  # a frozen node leaves ~500 events in its byte ring (see test_cluster.py)
N_EVENTS = 20000
MP_HEAP = "512K"  # the throughput runs, as tools/bench.py's
STEADY = 1.0  # s of steady delivery through the node to kill before each kill


def log(*args):
    print(*args, flush=True)


def pct(values, p):
    """Nearest-rank percentile (of 10 values, p99 is the largest)."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, -(-p * len(s) // 100) - 1))]


class Arrivals(threading.Thread):
    """A raw subscriber on one node: (monotonic time, i, node index) of every event."""

    def __init__(self, url, name):
        super().__init__(daemon=True)
        self.ws = RawWs(url)
        self.ws.login("bench-arrivals")
        self.topic = ("cluster/out/" + name).encode()
        self.ws.send_text("E\x1fS\x1f%s\x1e" % self.topic.decode())
        self.ws.wait_for(b"E\x1fA\x1fS")
        self.got = []
        self.lock = threading.Lock()
        self.start()

    def run(self):
        prefix = b"E\x1fEVT\x1f" + self.topic + b"\x1fO"
        try:
            for msg in self.ws.messages():
                if msg.startswith(prefix):
                    data = json.loads(msg[len(prefix):])
                    if "i" in data:
                        with self.lock:
                            self.got.append((time.monotonic(), data["i"], data["n"]))
        except (OSError, ValueError):
            pass  # the node died, or we closed

    def since(self, t):
        with self.lock:
            return [g for g in self.got if g[0] >= t]

    def close(self):
        self.ws.close()


def failover_rounds(cluster, how, kills, confirm):
    """`kills` rounds of killing or freezing the device's node; per round a dict."""
    name = "bench-%s-%s" % (how, "c" if confirm else "n")
    dev = ClusterDevice("micropython", cluster.urls, name, heap=DEVICE_HEAP,
                        confirm_events=confirm, **DEVICE).start()
    subs = {}
    rounds = []
    try:
        dev.wait_line(r"^@open ", timeout=20)
        dead = None
        for k in range(kills):
            cluster.revive()
            for i, node in enumerate(cluster.nodes):
                if i == dead:
                    subs.pop(i).close()
                if i not in subs:
                    subs[i] = Arrivals(node.url, name)
            on = dead = cluster.urls.index(dev.opened()[-1][1])
            other = 1 - on
            sub = subs[other]
            time.sleep(STEADY)
            t0 = time.monotonic()
            if how == "SIGKILL":
                cluster.kill(on)
            else:
                cluster.pause(on)
            dev.wait_line(r"^@open %s$" % cluster.urls[other], timeout=20, after=t0)
            deadline = time.monotonic() + 10
            while not [g for g in sub.since(t0) if g[2] == other]:
                if time.monotonic() > deadline:
                    raise RuntimeError("no event through the new node: " + dev.output()[-2000:])
                time.sleep(0.01)
            first = [g for g in sub.since(t0) if g[2] == other][0][0]
            time.sleep(0.5)  # what the device had queued and resent has arrived
            seen = [g[1] for g in sub.since(t0 - STEADY + 0.2)]
            expected = set(range(min(seen), max(seen) + 1))
            rounds.append({"ms": (first - t0) * 1000, "lost": len(expected - set(seen)),
                           "dups": len(seen) - len(set(seen))})
            log("   %s %-7s round %2d: %6.0f ms, lost %d, duplicates %d"
                % ("confirm" if confirm else "no-conf", how, k + 1, rounds[-1]["ms"],
                   rounds[-1]["lost"], rounds[-1]["dups"]))
    finally:
        dev.stop()
        for sub in subs.values():
            sub.close()
    return rounds


def throughput_once(pub_url, sub_url, tag):
    name, done = "bench/tp/" + tag, "bench/tp-done/" + tag
    counter = Counter(sub_url, "events", name, N_EVENTS, done)
    counter.start()
    time.sleep(0.3)  # the subscription reaches the other node through Redis
    cmd = [micropython_path(), "-X", "heapsize=" + MP_HEAP, os.path.join(HERE, "bench", "ds_publish.py"),
           pub_url, "events", name, str(N_EVENTS), done]
    env = dict(os.environ, MICROPYPATH=mp_lib() + ":.frozen")
    try:
        subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=180)
        counter.finished.wait(10)
        return counter.rate()
    finally:
        counter.close()


def throughput(cluster, single, reps):
    runs = {"single": [], "cluster": []}
    for rep in range(reps):
        for kind in runs:
            if kind == "single":
                rate = throughput_once(single.url, single.url, "s%d" % rep)
            else:
                rate = throughput_once(cluster.urls[0], cluster.urls[1], "c%d" % rep)
            log("   events/s %-7s run %d: %s" % (kind, rep + 1, "FAILED" if rate is None else "%.0f" % rate))
            if rate is not None:
                runs[kind].append(rate)
    return {k: statistics.median(v) if v else None for k, v in runs.items()}


def stats(rounds):
    ms = [r["ms"] for r in rounds]
    return {"p50": pct(ms, 50), "p99": pct(ms, 99), "n": len(ms),
            "lost": sum(r["lost"] for r in rounds), "dups": sum(r["dups"] for r in rounds)}


def report(results, tp, args):
    mp = subprocess.run([micropython_path(), "-c", "import sys; print(sys.version.split('; ')[-1])"],
                        capture_output=True, text=True).stdout.strip()
    lines = ["Run of %s; %s (unix port, 64-bit), CPython %s, %s, %d CPUs." % (
        time.strftime("%Y-%m-%d %H:%M"), mp, platform.python_version(), platform.machine(), os.cpu_count()),
        "Two @deepstream/server 7.0.2 nodes and Redis 6.2 on 127.0.0.1; heartbeat %d ms (nodes and "
        "device); device at 100 Hz, `-X heapsize=%s`, library as .mpy." % (HEARTBEAT, DEVICE_HEAP), "",
        "| failover, MicroPython | kills | p50 | p99 | events lost | duplicates |",
        "|---|---|---|---|---|---|"]
    for label, s in results:
        lines.append("| %s | %d | %.0f ms | %.0f ms | %d | %d |" % (label, s["n"], s["p50"], s["p99"],
                                                                  s["lost"], s["dups"]))
    lines += ["", "p99 is nearest-rank: of %d kills, the slowest." % args.kills, "",
              "| events/s, {:,} events of ~40 bytes, MicroPython publisher (`-X heapsize={}`) | median of {} |"
              .format(N_EVENTS, MP_HEAP, args.reps), "|---|---|"]
    single, clustered = tp["single"], tp["cluster"]
    lines.append("| single server (publisher and subscriber on it) | %s |" % _rate(single))
    ratio = " (%.0f%% of the single server)" % (100 * clustered / single) if single and clustered else ""
    lines.append("| cluster: publisher on node A, subscriber on node B | %s%s |" % (_rate(clustered), ratio))
    return "\n".join(lines)


def _rate(r):
    return "failed" if r is None else "{:,.0f}".format(r)


def write_doc(text):
    with open(DOC) as f:
        doc = f.read()
    new = re.sub(r"(<!-- cluster-figures:start -->\n).*?(<!-- cluster-figures:end -->)",
                 lambda m: m.group(1) + text + "\n" + m.group(2), doc, flags=re.S)
    with open(DOC, "w") as f:
        f.write(new)


def main():
    ap = argparse.ArgumentParser(description="failover and throughput on a two-node cluster")
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-write", action="store_true", help="print only, leave docs/CLUSTER.md")
    args = ap.parse_args()
    results = []
    with DeepstreamCluster(nodes=2, heartbeat_interval=HEARTBEAT) as cluster:
        for how, confirm in (("SIGKILL", True), ("SIGSTOP", True), ("SIGKILL", False)):
            log("failover: %s, confirm_events=%s, %d rounds" % (how, confirm, args.kills))
            label = "%s%s" % (how, "" if confirm else ", without confirm_events")
            results.append((label, stats(failover_rounds(cluster, how, args.kills, confirm))))
        cluster.revive()
        log("throughput: single server and cluster, %d runs each" % args.reps)
        with DeepstreamServer() as single:
            tp = throughput(cluster, single, args.reps)
    text = report(results, tp, args)
    log("\n" + text)
    if not args.no_write:
        write_doc(text)
        log("\nwritten to " + os.path.relpath(DOC, REPO))


if __name__ == "__main__":
    main()
