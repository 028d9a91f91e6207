"""Fault injection between our client and the real deepstream server.

Topology: peer (peers/mp_fault_peer.py, run by CPython or by MicroPython)
-> TcpProxy (support/tcpproxy.py) -> deepstream 7.0.2 <- the official JS
client of the same protocol (the subscriber and RPC caller, connected
directly): 2.3.4 on the text protocol, 7.0.5 on the binary one.

Faults: cut (FIN both ways), black hole (bytes dropped, no FIN: only the
client's heartbeat check can notice), delay (every chunk 150 ms late both
ways), trickle (one byte per TCP segment both ways), server killed (SIGKILL)
and restarted on the same port. In each case, for each runtime:
* the client reconnects by itself;
* its event subscription, RPC provide and record subscription work again
  after the outage, and the record write it made offline reached the server;
* the K events it emitted while offline (queued) arrive exactly once, in
  order, at the JS subscriber; so do the K emitted before the first login.
The proxy keeps the peer offline until it has emitted its K events, so those
are really emitted while not OPEN.

On both protocols: the confirm_events streams (cut, black hole, trickle) and
the link that takes nothing (send_timeout) on both runtimes, the emit right
after the heartbeat verdict (CPython); the server restart on binary on
CPython only (it fails there: LOST_RECORD). Binary only: heartbeat pongs
confirm no events (an uplink lost under a stream). The plain cut, black hole,
delay and trickle run on text only, to keep the file's time: on binary the
streams go through the same faults with the same phase checks.
"""
import json
import os
import subprocess
import sys
import threading
import time

import pytest

from support.dsserver import PATHS, DeepstreamServer
from support.mp import LIB, micropython_path, mp_lib
from support.tcpproxy import TcpProxy

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "peers", "mp_fault_peer.py")
HEARTBEAT = 1000  # ms, server and client: a black hole is noticed in 2-3 s
K = 20  # events emitted per offline phase
PEER_OPTIONS = {
    "heartbeat_interval": HEARTBEAT,
    "reconnect_interval_increment": 100,
    "max_reconnect_interval": 400,
    "max_reconnect_attempts": 1000,
    "connect_timeout": 1500,
}


class Peer:
    """A peer process; its `@...` lines are collected by a thread."""

    def __init__(self, runtime, url, name, k=K, heap="256K", mpy=False, **options):
        opts = dict(PEER_OPTIONS, **options)
        if runtime == "micropython":
            cmd = [micropython_path(), "-X", "heapsize=" + heap, PEER]
        else:
            cmd = [sys.executable, PEER]
        env = dict(os.environ, MICROPYPATH=(mp_lib() if mpy else LIB) + ":.frozen", PYTHONPATH=LIB)
        self.name = name
        self.lines = []
        self._cond = threading.Condition()
        self.proc = subprocess.Popen(cmd + [url, name, str(k), json.dumps(opts)], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self.lines.append("@eof")
            self._cond.notify_all()

    def wait(self, line, timeout=15.0, after=0):
        """Wait until the peer printed `line` (exactly, or as a prefix ending in a space),
        as its line number `after` or later (a count of lines: see mark())."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for seen in self.lines[after:]:
                    if seen == line or seen.startswith(line + " "):
                        return seen
                left = deadline - time.monotonic()
                if left <= 0 or "@eof" in self.lines:
                    raise AssertionError("peer %s: no %r within %.0fs; output:\n%s"
                                         % (self.name, line, timeout, "\n".join(self.lines[-60:])))
                self._cond.wait(left)

    def output(self):
        with self._cond:
            return list(self.lines)

    def mark(self):
        """How many lines the peer printed so far: wait(after=) looks past them."""
        with self._cond:
            return len(self.lines)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)
        self._reader.join(2)


# the JS clients' own heartbeat: 7.0.5 pings, and the server cuts a client silent for
# 2-3 of its intervals (2.3.4 takes the link for dead without the server's pings)
JS_OPTIONS = {"heartbeatInterval": HEARTBEAT}


@pytest.fixture(scope="module")
def server():
    srv = DeepstreamServer(heartbeat_interval=HEARTBEAT)
    srv.start()
    yield srv
    srv.close()


@pytest.fixture
def proxy(server):
    if not server.running:
        server.start()
    p = TcpProxy(server.port).start()
    yield p
    p.close()
    assert p.errors == []


@pytest.fixture
def peers():
    started = []
    yield started
    for peer in started:
        peer.kill()


def js_for(js_client, server, name, protocol):
    """A logged-in JS client of the protocol's (2.3.4 text, 7.0.5 binary), directly on the server."""
    return js_client(server.url_for(protocol), options=JS_OPTIONS, protocol=protocol,
                     login={"username": "js-" + name})


def subscriber(js_client, server, name, protocol="text"):
    js = js_for(js_client, server, name, protocol)
    js.event_subscribe("fault/out/" + name)
    js.sync()
    return js


def check_phase(js, peer, p):
    """After outage p: queued events exactly once and in order, event
    subscription and RPC provide working again."""
    name = peer.name
    peer.wait("@synced %d" % p, timeout=20)
    topic = "fault/out/" + name
    js.wait_for(lambda n: n["kind"] == "event" and n["name"] == topic
                and n["data"].get("p") == p and n["data"].get("end"), timeout=10)
    # everything the peer sent before the end marker has arrived with it
    got = [n["data"]["i"] for n in js.notifications("event")
           if n["name"] == topic and n["data"].get("p") == p]
    assert got == list(range(K)), "phase %d: events %r" % (p, got)
    js.clear()
    js.event_emit("fault/in/" + name, p)
    peer.wait("@in %d" % p, timeout=10)
    assert js.rpc_make("fault/rpc/" + name, p, timeout=10) == (None, {"peer": name, "echo": p})
    rec = "fault/rec/" + name
    error, data = js.record_snapshot(rec, timeout=10)
    assert error is None and data["offline"] == p, (error, data)
    js.record_set(rec, "in-%d" % p, path="in")  # (7.0.2 refuses falsy scalars as path sets)
    peer.wait('@rec "in-%d"' % p, timeout=10)


def quit_peer(js, peer):
    """End the peer; its summary, once everything went out (and, with confirm_events,
    was confirmed: pongs keep coming)."""
    js.event_emit("fault/ctl/" + peer.name, "quit")
    line = peer.wait("@done", timeout=15)
    summary = json.loads(line[len("@done "):])
    assert summary["quit"] and summary["flushed"], summary
    assert "fault-peer-password" not in "\n".join(peer.output())
    return summary


def peer_errors(peer):
    """The peer's errors: (heartbeat verdicts, all others but failed connection attempts)."""
    errors = [line for line in peer.output() if line.startswith("@error")]
    heartbeat = [e for e in errors if "heartbeat not received" in e]
    return heartbeat, [e for e in errors if e not in heartbeat and "cannot connect" not in e]


def finish(js, peer, phases, heartbeat_errors=0):
    summary = quit_peer(js, peer)
    assert summary["phases"] == phases, summary
    # each fault/in event arrived exactly once
    assert summary["received"] == list(range(phases + 1)), summary
    # the only errors: failed attempts during the outage, and the heartbeat verdict
    heartbeat, others = peer_errors(peer)
    assert len(heartbeat) == heartbeat_errors and others == [], (heartbeat, others)
    return summary


def cut_with_outage(proxy, peer, p):
    proxy.reject()  # the outage: reconnection attempts fail until restore()
    proxy.cut()
    peer.wait("@offline %d" % p)
    proxy.restore()


RUNTIMES = ("cpython", "micropython")


def connected(runtime, name, server, proxy, peers, js_client, protocol="text", **peer_options):
    """A JS subscriber and a peer through the proxy, past phase 0 (online)."""
    js = subscriber(js_client, server, name, protocol)
    peer = Peer(runtime, proxy.url(PATHS[protocol]), name, **peer_options)
    peers.append(peer)
    check_phase(js, peer, 0)
    return js, peer


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_cut(runtime, server, proxy, peers, js_client):
    name = "cut-" + runtime
    js, peer = connected(runtime, name, server, proxy, peers, js_client)
    cut_with_outage(proxy, peer, 1)
    check_phase(js, peer, 1)
    finish(js, peer, 1)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_black_hole_is_noticed_by_heartbeat(runtime, server, proxy, peers, js_client):
    name = "hole-" + runtime
    js, peer = connected(runtime, name, server, proxy, peers, js_client)
    proxy.blackhole()  # no FIN, no RST: the socket stays open, silent
    start = time.monotonic()
    peer.wait("@error connectionError heartbeat not received", timeout=10)
    noticed = time.monotonic() - start
    assert noticed < 3.5 * HEARTBEAT / 1000 + 1, noticed
    peer.wait("@offline 1", timeout=10)
    proxy.restore()
    check_phase(js, peer, 1)
    finish(js, peer, 1, heartbeat_errors=1)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_delay(runtime, server, proxy, peers, js_client):
    name = "delay-" + runtime
    proxy.set_delay(150)  # both directions, from the first byte
    js, peer = connected(runtime, name, server, proxy, peers, js_client)
    cut_with_outage(proxy, peer, 1)
    check_phase(js, peer, 1)
    finish(js, peer, 1)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_trickle_one_byte_at_a_time(runtime, server, proxy, peers, js_client):
    name = "trickle-" + runtime
    proxy.set_trickle(True)
    js, peer = connected(runtime, name, server, proxy, peers, js_client)
    cut_with_outage(proxy, peer, 1)
    check_phase(js, peer, 1)
    finish(js, peer, 1)


# binary: a record the restarted server lost is not made again. The offline PATCH is
# refused (RECORD_UPDATE_ERROR), the version check after the login answers -1 and the
# READ it triggers RECORD_NOT_FOUND (record_restore.version_of): the offline write never
# reaches the server. Text re-reads with create (CR), which makes it again. Reported.
LOST_RECORD = pytest.mark.xfail(strict=True, reason="binary: a record the server lost is not created again")


@pytest.mark.parametrize("runtime, protocol", [
    ("cpython", "text"), ("micropython", "text"),
    pytest.param("cpython", "binary", marks=LOST_RECORD),  # one runtime: the record code is the same
])
def test_server_killed_and_restarted(runtime, protocol, server, proxy, peers, js_client):
    name = "kill-%s-%s" % (runtime, protocol)
    # the restarted server has lost every record (memory storage): with the
    # default REMOTE_WINS its empty record would win over the offline write
    js, peer = connected(runtime, name, server, proxy, peers, js_client, protocol, _local_wins=True)
    proxy.reject()
    server.kill()  # SIGKILL: no close frames; the proxy passes the FIN on
    peer.wait("@offline 1")
    server.start()  # same port
    js.close()
    js = subscriber(js_client, server, name, protocol)  # subscribed before the peer is let back in
    proxy.restore()
    check_phase(js, peer, 1)
    finish(js, peer, 1)


def test_emit_right_after_heartbeat_verdict_is_not_lost(protocol, server, proxy, js_client):
    from deepstream import Client

    name = "verdict-" + protocol
    js = subscriber(js_client, server, name, protocol)
    client = Client(proxy.url(PATHS[protocol]), **PEER_OPTIONS)
    verdicts = []
    states = []
    client.on("error", lambda msg, event, topic: "heartbeat" in msg and verdicts.append(msg))
    client.on("connectionStateChanged", states.append)
    client.login({"username": name})

    def pump_until(cond, timeout):
        end = time.monotonic() + timeout
        while not cond():
            assert time.monotonic() < end, (states, verdicts)
            client.poll(10)

    pump_until(lambda: client.get_connection_state() == "OPEN", 10)
    proxy.blackhole()
    pump_until(lambda: verdicts, 10)
    proxy.restore()
    client.event.emit("fault/out/" + name, {"p": 1, "i": 0})  # the link is known dead here
    pump_until(lambda: "RECONNECTING" in states and client.get_connection_state() == "OPEN", 15)
    client.event.emit("fault/out/" + name, {"p": 1, "end": True})
    client.poll(10)
    js.wait_for(lambda n: n["kind"] == "event" and n["data"].get("end"), timeout=10)
    got = [n["data"]["i"] for n in js.notifications("event") if "i" in n["data"]]
    client.close()
    client.poll(10)
    assert got == [0]


# ---- confirm_events: a stream of events through the faults ------------------

STREAM_MS = 20  # 50 events a second, online or not
STREAM = {"confirm_events": True, "_stream_ms": STREAM_MS, "max_queued_bytes": 16384}
# the smallest heap for the stream peer on the 64-bit port (lib as .mpy): the
# peer with records and RPC does not start at 112K on its own; its send queue
# (16 KB: three seconds of events in a black hole, plus the outage's) must fit
# as one block on top, which fails at 128K. 160K passes (measured 2026-12)
STREAM_HEAP = "160K"


def stream_check(js, peer, summary):
    """Every streamed event arrived; a duplicate only among those the peer
    reported unconfirmed when its link broke. Returns the duplicates."""
    topic = "fault/stream/" + peer.name
    n = summary["streamed"]

    def seen():
        return [note["data"]["s"] for note in list(js.history)
                if note["kind"] == "event" and note["name"] == topic]
    deadline = time.monotonic() + 10
    while len(set(seen())) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    got = seen()
    said = [line for line in peer.output() if line.startswith(("@unconfirmed", "@error", "@offline"))]
    assert sorted(set(got)) == list(range(n)), "missing: %r; the peer: %r" % (sorted(set(range(n)) - set(got)), said)
    allowed = set()
    for line in peer.output():
        if line.startswith("@unconfirmed ") and line != "@unconfirmed none":
            first, last = map(int, line.split()[1:])
            allowed.update(range(first, last + 1))
    dups = sorted(s for s in set(got) if got.count(s) > 1)
    assert set(dups) <= allowed, (dups, sorted(allowed))
    print("stream %s: %d events, %d duplicates (%d unconfirmed when the link broke)"
          % (peer.name, n, len(dups), len(allowed)))
    return dups, allowed


def stream_peer(runtime, name, server, proxy, peers, js_client, protocol, **options):
    js = subscriber(js_client, server, name, protocol)
    js.event_subscribe("fault/stream/" + name)
    js.sync()
    peer = Peer(runtime, proxy.url(PATHS[protocol]), name, heap=STREAM_HEAP, mpy=True,
                **dict(STREAM, **options))
    peers.append(peer)
    check_phase(js, peer, 0)
    return js, peer


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_confirmed_stream_through_a_cut(runtime, protocol, server, proxy, peers, js_client):
    js, peer = stream_peer(runtime, "stream-cut-%s-%s" % (runtime, protocol), server, proxy, peers,
                           js_client, protocol)
    time.sleep(0.5)  # the stream runs online for a while
    cut_with_outage(proxy, peer, 1)
    check_phase(js, peer, 1)
    stream_check(js, peer, finish(js, peer, 1))


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_confirmed_stream_through_a_black_hole(runtime, protocol, server, proxy, peers, js_client):
    js, peer = stream_peer(runtime, "stream-hole-%s-%s" % (runtime, protocol), server, proxy, peers,
                           js_client, protocol)
    time.sleep(0.5)
    stream_through_a_black_hole(js, peer, proxy)


def stream_through_a_black_hole(js, peer, proxy):
    proxy.blackhole()  # events go into it until the heartbeat verdict, 2-3 s
    # new connections pass at once: the first reconnect follows the verdict right away, and
    # one held until it times out (1.5 s more of the stream) overflows the 16 KB ring on
    # binary, where the oldest unconfirmed events are dropped without a word (offline.py)
    proxy.restore()
    peer.wait("@error connectionError heartbeat not received", timeout=10)
    peer.wait("@offline 1", timeout=10)
    check_phase(js, peer, 1)
    dups, unconfirmed = stream_check(js, peer, finish(js, peer, 1, heartbeat_errors=1))
    assert unconfirmed, "events went into the black hole unconfirmed, and arrived all the same"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_confirmed_stream_through_a_trickle(runtime, protocol, server, proxy, peers, js_client):
    proxy.set_trickle(True)
    js, peer = stream_peer(runtime, "stream-trickle-%s-%s" % (runtime, protocol), server, proxy, peers,
                           js_client, protocol)
    time.sleep(0.5)
    cut_with_outage(proxy, peer, 1)
    check_phase(js, peer, 1)
    stream_check(js, peer, finish(js, peer, 1))


ROUNDS = 2  # uplink losses in the heartbeat test


def test_heartbeat_pongs_confirm_no_events(server, proxy, peers, js_client):
    """Binary: the client pings every heartbeat_interval and the server answers
    each PING with a PONG, as it answers the barrier ping that confirm_events
    puts after the events it guards; pongs come back in order, and only the
    barrier's confirms. The uplink dies (proxy.deafen(): what the client sends
    is dropped, the server's bytes still arrive) while the stream runs with a
    heartbeat of 200 ms and pongs 300 ms late: a heartbeat ping sent before the
    loss is answered after events sent after it were lost. A core that took any
    pong for the barrier's forgets them: it lost 12-15 events in every round
    (3 runs of 4 rounds on each runtime, 2026-12), so two rounds are enough;
    every event must arrive.
    CPython only: the core is the same code on MicroPython, where the stream
    peer runs out of its 160K heap in some restores now (docs/MEMORY.md); text
    has no such case: its client sends no heartbeat pings."""
    name = "stream-deaf"
    proxy.set_delay(150)  # each way: pongs come 300 ms after the ping, within two heartbeats
    js, peer = stream_peer("cpython", name, server, proxy, peers, js_client, "binary", heartbeat_interval=200)
    for _ in range(ROUNDS):
        time.sleep(0.5)  # the stream runs online, barrier and heartbeat pongs on their way
        mark = peer.mark()
        proxy.deafen()
        peer.wait("@error connectionError heartbeat not received", after=mark)
        peer.wait("@synced", timeout=20, after=mark)  # back, resubscribed, the stream goes on
    summary = quit_peer(js, peer)
    # a loaded machine may add a verdict of its own (a late pong): one more reconnect, the
    # same promise. So the rounds are not counted as phases, and check_phase is left out
    heartbeat, others = peer_errors(peer)
    assert len(heartbeat) >= ROUNDS and others == [], (heartbeat, others)
    stream_check(js, peer, summary)


# ---- send_timeout: a link that takes nothing --------------------------------

STALL_PEER = os.path.join(HERE, "peers", "stall_peer.py")
SEND_TIMEOUT = 300  # ms


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_link_that_takes_nothing_is_dead_after_send_timeout(runtime, protocol, server, proxy, js_client):
    """A tight emit loop into a stalled link (nothing read: the write-through
    blocks once the kernel buffers are full): after send_timeout the link is
    dead (connectionError), no emit() blocked much longer than that, flush()
    returns False while no link can be made, and once one can, every event
    from the frame that could not be written on arrives, in order. At 128K:
    the send queue's 8 KB ring is made at this outage, after 16,000 emits;
    at 112K the scattered heap had no 8 KB block left for it, and with 20
    events behind the failed frame the 4 KB ring it got dropped 4 (counted;
    measured 2026-12, docs/MEMORY.md). The peer emits 10, which fit either."""
    name = "fault/stall/%s/%s" % (runtime, protocol)
    js = js_for(js_client, server, "stall-%s-%s" % (runtime, protocol), protocol)
    js.event_subscribe(name)
    js.sync()
    if runtime == "micropython":
        cmd = [micropython_path(), "-X", "heapsize=128K", STALL_PEER]
    else:
        cmd = [sys.executable, STALL_PEER]
    env = dict(os.environ, MICROPYPATH=mp_lib() + ":.frozen", PYTHONPATH=LIB)
    proc = subprocess.Popen(cmd + [proxy.url(PATHS[protocol]), name, str(SEND_TIMEOUT)], env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert proc.stdout.readline().strip() == "@open"
        proxy.stall()
        proxy.reject()  # the reconnect waits until the flush below has given up
        proc.stdin.write("go\n")
        proc.stdin.flush()
        early = proc.stdout.readline().strip()
        proxy.restore()
        proc.stdin.write("go\n")
        proc.stdin.flush()
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert early == "@early False", early + out[-3000:]  # flush() says when it could not finish
    lines = [ln for ln in out.splitlines() if ln.startswith("@result ")]
    assert lines, out[-3000:]
    res = json.loads(lines[0][len("@result "):])
    assert res["at"] is not None and res["flushed"], res
    errors = res["errors"]
    assert errors[0] == "connectionError: send timed out after %d ms: the link takes no data" % SEND_TIMEOUT, res
    # then only the refused reconnects, and nothing dropped from the queue
    assert all(e.startswith("connectionError: cannot connect") for e in errors[1:]), "\n".join(errors)
    assert res["longest_ms"] < SEND_TIMEOUT + 1000, res  # bounded by send_timeout, not by the link
    n = res["n"]
    js.wait_for(lambda note: note["kind"] == "event" and note["name"] == name and note["data"][0] == n - 1,
                timeout=15, consume=False)
    got = [note["data"][0] for note in js.history if note["kind"] == "event" and note["name"] == name]
    assert got == sorted(set(got)), "out of order or twice"
    # what the kernel had taken before the stall is gone with the link (no confirm_events);
    # the frame that timed out and everything after it went out on the next link
    missing = sorted(set(range(res["at"], n)) - set(got))
    assert not missing, (res, missing)
    print("stall %s: %d emitted, timeout at #%d, %d arrived, longest emit %d ms"
          % (runtime, n, res["at"], len(got), res["longest_ms"]))
