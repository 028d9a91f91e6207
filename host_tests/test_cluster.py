"""Failover on a real deepstream cluster: two @deepstream/server 7.0.2 nodes
sharing one Redis (support/dscluster.py), a device (peers/mp_cluster_peer.py,
on MicroPython with the library as .mpy, and on CPython) given both nodes'
URLs, and the official JS client of the same protocol on the other node
(2.3.4 on the text protocol, 7.0.5 on the binary one).

The device publishes at 100 Hz with confirm_events, holds a record, provides
an RPC and logs in (presence). When its node dies (SIGKILL) or hangs
(SIGSTOP), it moves to the other node by itself and restores everything there:
* every event reaches the JS subscriber; the only duplicates are events that
  were still unconfirmed at the kill (none of those that had reached the
  subscriber a second before it);
* its RPC answers again, from the other node;
* record edits made on both sides during the failover converge;
* presence lists it again.
Then the dead node comes back and the other one dies: the device fails back.
A list whose first node is unreachable, or accepts TCP but never answers the
upgrade, costs at most one connect timeout; one that opens the websocket but
never says C|A is skipped after handshake_timeout (issue 13's option).

On the binary protocol: the SIGKILL failover and failback on both runtimes, the
hung node and the node that never answers our CHALLENGE on MicroPython (the
device's runtime). The unreachable first node fails below the websocket,
where the protocols do not differ: text only.
"""
import collections
import json
import os
import re
import socket
import sys
import time

import pytest

from support.dscluster import ClusterDevice, DeepstreamCluster
from support.dsserver import PATHS, free_port

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "features", "support"))
from test_server import TestServer  # noqa: E402  (the scripted server: opens, never says C|A)

HEARTBEAT = 1000  # ms, nodes and device: a hung node is noticed in 2-3 s
RECONNECT = 500  # ms: reconnect_interval_increment and max_reconnect_interval
CONNECT_TIMEOUT = 1500
DEVICE_OPTIONS = {
    "confirm_events": True,
    "heartbeat_interval": HEARTBEAT,
    "reconnect_interval_increment": RECONNECT,
    "max_reconnect_interval": RECONNECT,
    "max_reconnect_attempts": 1000,
    "connect_timeout": CONNECT_TIMEOUT,
    # 100 Hz for up to 3 heartbeats and the move (a hung node) is ~400 events of ~60
    # bytes unconfirmed or queued: the default 8 KB would drop the oldest
    "max_queued_bytes": 32768,
}
RUNTIMES = ("micropython", "cpython")
HEAP = "256K"  # MicroPython (64-bit unix port), library as .mpy
# A hung node holds ~400 events (100 Hz for 2-3 heartbeats and the move) unconfirmed
# and queued, in the 32 KB byte ring: the SIGSTOP test passes at 192K (3 of 3 runs),
# at 160K in 2 of 4 (a 464-byte block not found while restoring), fails at 144K
# (measured 2026-12; with one str per queued message it needed 1M)
SETTLED = 1.0  # s: an event that reached the subscriber this long before a kill is confirmed
# the JS clients' own heartbeat: 7.0.5 pings, and a node cuts a client silent for 2-3 of
# its intervals (2.3.4 takes the link for dead without the node's pings)
JS_OPTIONS = {"heartbeatInterval": HEARTBEAT}


@pytest.fixture(scope="module")
def cluster():
    c = DeepstreamCluster(nodes=2, heartbeat_interval=HEARTBEAT)
    c.start()
    yield c
    c.close()


@pytest.fixture
def fresh(cluster):
    """Both nodes up and joined before each test."""
    cluster.revive()
    return cluster


@pytest.fixture
def devices():
    started = []
    yield started
    for dev in started:
        dev.stop()


def start_device(devices, runtime, urls, name, heap=HEAP, **options):
    dev = ClusterDevice(runtime, urls, name, heap=heap, **dict(DEVICE_OPTIONS, **options)).start()
    devices.append(dev)
    return dev


def subscriber(js_client, url, name):
    """A JS client on the node at `url` (its path names the protocol, and so the client)."""
    js = js_client(url, options=JS_OPTIONS, login={"username": "js-" + name})
    js.event_subscribe("cluster/out/" + name)
    js.presence_subscribe()
    js.sync()
    return js


def received(js, name):
    """Indices of the device's events the JS client got, in arrival order."""
    return [n["data"]["i"] for n in js.history
            if n["kind"] == "event" and n["name"] == "cluster/out/" + name and "i" in n["data"]]


def wait_events(js, name, count, timeout=10.0):
    deadline = time.monotonic() + timeout
    while len(received(js, name)) < count:
        assert time.monotonic() < deadline, "only %d events" % len(received(js, name))
        time.sleep(0.02)  # poll interval while events arrive


def wait_open_on(dev, url, after, timeout):
    line = dev.wait_line(r"^@open %s$" % url, timeout=timeout, after=after)
    return [t for t, opened in dev.opened() if opened == url and t >= after][0], line


def retry(fn, ok, timeout=10.0):
    """Call fn() until ok(result); return the last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = fn()
        if ok(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.1)  # between attempts: the cluster registry catches up


def kill_and_check(cluster, urls, dead, alive, js, dev, name, outage):
    """SIGKILL node `dead` under the device (at urls[dead]); check the failover to `alive`.
    Returns how many events had reached `js` SETTLED seconds before the kill."""
    settled = len(received(js, name))
    time.sleep(SETTLED)
    t_kill = time.monotonic()
    cluster.kill(dead)
    # an edit on the JS side during the failover (the device makes its own when it sees
    # the link go: peer's `dev` = "dev-<outage>")
    js_edit(js, "cluster/rec/" + name, "js", "js-%d" % outage)
    wait_open_on(dev, urls[alive], t_kill, timeout=10)
    # the RPC answers again, from the device's new node
    rpc = retry(lambda: js.rpc_make("cluster/rpc/" + name, outage, timeout=10),
                lambda r: r[0] is None)
    assert rpc == (None, {"node": urls[alive], "echo": outage}), rpc
    # presence lists the device again
    users = retry(lambda: js.presence_get_all(), lambda u: "dev-" + name in u)
    assert "dev-" + name in users, users
    # both edits survive, on both sides
    want = {"dev": "dev-%d" % outage, "js": "js-%d" % outage}
    data = retry(lambda: js.record_snapshot("cluster/rec/" + name)[1], lambda d: d == want)
    assert data == want
    assert device_record(dev, want, t_kill) == want
    return settled


def js_edit(js, record, path, value, timeout=10.0):
    """setData(record, path, value) from the JS side (no version: no conflict of its own).
    7.0.2 can refuse a versionless write that meets a read of the same record on the same
    node ("BUG CAUGHT! ... updated during permission" in its log) with VERSION_EXISTS, which
    2.3.4 takes for unsolicited and never answers (7.0.5 answers it as an error): then the
    write is made again."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            refused = js.record_set_data(record, value, path=path, timeout=2)
        except TimeoutError:
            refused = "no answer"
        if refused is None:
            return
        error, data = js.record_snapshot(record)
        if error is None and data.get(path) == value:
            return
        assert time.monotonic() < deadline, "JS edit of %s never made: %r (%s)" % (record, data, refused)


def device_record(dev, want, after, timeout=10.0):
    """The device's latest @rec data since `after`, once it equals `want` (or at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        with dev.cond:
            recs = [text[5:] for t, text in dev.lines if t >= after and text.startswith("@rec ")]
        last = json.loads(recs[-1]) if recs else None
        if last == want or time.monotonic() > deadline:
            return last
        time.sleep(0.05)  # poll interval while the device catches up


def check_events(js, name, settled):
    """Every event arrived; duplicates only among those not settled at the kill."""
    got = received(js, name)
    counts = collections.Counter(got)
    missing = sorted(set(range(max(got) + 1)) - set(got))
    assert not missing, "lost %d events: %r" % (len(missing), missing[:20])
    dups = sorted(i for i, n in counts.items() if n > 1)
    early = set(got[:settled])
    assert not [i for i in dups if i in early], (dups, settled)
    firsts = sorted(set(got), key=got.index)
    assert firsts == sorted(firsts), "out of order"
    return dups


def stop_device(js, dev, name):
    js.event_emit("cluster/ctl/" + name, "stop")
    js.wait_for(lambda n: n["kind"] == "event" and n["name"] == "cluster/out/" + name
                and "end" in n["data"], timeout=10)
    js.event_emit("cluster/ctl/" + name, "quit")
    done = json.loads(dev.wait_line(r"^@done ", timeout=10)[6:])
    errors = dev.matching(r"^@error")
    # the only errors: the lost link and failed attempts at a dead node
    unexpected = [e for e in errors if "cannot connect" not in e and "connection" not in e.lower()
                  and "heartbeat" not in e]
    assert not unexpected, errors
    return done


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_sigkill_failover_and_failback(runtime, protocol, fresh, devices, js_client):
    """On both protocols: the device and the JS clients on the nodes' endpoints of one."""
    cluster = fresh
    urls = cluster.urls_for(protocol)
    name = "kill-%s-%s" % (runtime, protocol)
    js_b = subscriber(js_client, urls[1], name)
    dev = start_device(devices, runtime, urls, name)
    dev.wait_line(r"^@open %s$" % urls[0], timeout=15)
    # the record exists before anyone writes to it: 7.0.2 nodes that create the same record
    # at once may leave the cache with the empty one (no cluster-wide lock on create)
    dev.wait_line(r"^@ready ", timeout=10)
    js_b.wait_presence("dev-" + name, True)
    js_edit(js_b, "cluster/rec/" + name, "js", "js-0")
    dev.wait_line(r'^@rec \{"js": "js-0"\}$', timeout=10)
    assert js_b.rpc_make("cluster/rpc/" + name, 0) == (None, {"node": urls[0], "echo": 0})
    wait_events(js_b, name, 100)

    settled = kill_and_check(cluster, urls, 0, 1, js_b, dev, name, 1)
    wait_events(js_b, name, len(received(js_b, name)) + 100)
    dups = check_events(js_b, name, settled)
    print("%s %s SIGKILL: %d events, duplicates %r" % (runtime, protocol, len(received(js_b, name)), dups))

    # fail back: node 0 returns, node 1 dies (taking js_b with it)
    cluster.revive()
    js_a = subscriber(js_client, urls[0], name)
    wait_events(js_a, name, 100)
    settled = kill_and_check(cluster, urls, 1, 0, js_a, dev, name, 2)
    wait_events(js_a, name, len(received(js_a, name)) + 100)
    done = stop_device(js_a, dev, name)
    got = received(js_a, name)
    first = got[0]  # js_a joined midway: from its first event on, nothing is missing
    assert sorted(set(got)) == list(range(first, done["sent"])), (first, done)
    early = set(got[:settled])
    counts = collections.Counter(got)
    dups = sorted(i for i, n in counts.items() if n > 1)
    assert not [i for i in dups if i in early], (dups, settled)
    assert done["outages"] == 2, done
    print("%s %s failback: %d events, duplicates %r" % (runtime, protocol, len(got), dups))


MICROPYTHON_ON_BINARY = [(runtime, "text") for runtime in RUNTIMES] + [("micropython", "binary")]


@pytest.mark.parametrize("runtime, protocol", MICROPYTHON_ON_BINARY)
def test_sigstop_hung_node_is_left_within_the_heartbeat_window(runtime, protocol, fresh, devices, js_client):
    cluster = fresh
    urls = cluster.urls_for(protocol)
    name = "stop-%s-%s" % (runtime, protocol)
    js = subscriber(js_client, urls[1], name)
    dev = start_device(devices, runtime, urls, name)
    dev.wait_line(r"^@open %s$" % urls[0], timeout=15)
    wait_events(js, name, 100)
    settled = len(received(js, name))
    time.sleep(SETTLED)
    t_stop = time.monotonic()
    cluster.pause(0)  # sockets stay open: only the heartbeat check can tell
    t_open, _ = wait_open_on(dev, urls[1], t_stop, timeout=15)
    moved = t_open - t_stop
    # the verdict comes 2-3 heartbeats after the last ping; the driver then drops the
    # socket at once (a hung node would never answer a close frame: waiting 2 s for
    # one, transport.CLOSE_TIMEOUT, is what this bound now leaves out), then one
    # reconnect (the first one at once); 1 s for connecting and logging in under load
    bound = (3 * HEARTBEAT + RECONNECT + 1000) / 1000
    assert moved < bound, "moved after %.2f s (bound %.2f s)" % (moved, bound)
    assert dev.matching(r"^@error connectionError heartbeat not received"), dev.output()
    wait_events(js, name, len(received(js, name)) + 100)
    done = stop_device(js, dev, name)
    dups = check_events(js, name, settled)
    assert sorted(set(received(js, name))) == list(range(done["sent"]))
    print("%s SIGSTOP: moved after %.2f s, duplicates %r" % (runtime, moved, dups))


@pytest.fixture
def silent_listener():
    """Accepts TCP (the kernel's backlog) but never answers the websocket upgrade."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield "ws://127.0.0.1:%d/deepstream-v3" % sock.getsockname()[1]
    sock.close()


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("first", ("refused", "silent"))
def test_unreachable_first_node_costs_at_most_one_connect_timeout(
        runtime, first, fresh, devices, silent_listener, js_client):
    cluster = fresh
    name = "first-%s-%s" % (first, runtime)
    dead = silent_listener if first == "silent" else "ws://127.0.0.1:%d/deepstream-v3" % free_port()
    js = subscriber(js_client, cluster.urls[1], name)
    dev = start_device(devices, runtime, [dead, cluster.urls[1]], name)
    t_open, _ = wait_open_on(dev, cluster.urls[1], 0, timeout=15)
    waited = t_open - dev.lines[0][0] if dev.lines[0][1] == "@start" else None
    # refused: the reference client's text; a silent listener: the upgrade times out
    assert dev.matching(r"^@error connectionError (cannot connect to|Can't connect! Deepstream server "
                        r"unreachable on) %s" % re.escape(dead)), dev.output()
    limit = ((CONNECT_TIMEOUT if first == "silent" else 0) + 1000) / 1000
    assert waited is not None and waited < limit, (waited, dev.output())
    wait_events(js, name, 50)
    stop_device(js, dev, name)


@pytest.mark.parametrize("runtime, protocol", MICROPYTHON_ON_BINARY)
def test_node_that_never_says_hello_is_skipped_after_handshake_timeout(runtime, protocol, fresh, devices, js_client):
    cluster = fresh
    urls = cluster.urls_for(protocol)
    name = "mute-%s-%s" % (runtime, protocol)
    mute = TestServer(free_port(), path=PATHS[protocol], host="127.0.0.1")
    mute.start()  # completes the websocket upgrade, then never says C|A (text) or answers our CHALLENGE
    try:
        js = subscriber(js_client, urls[1], name)
        dev = start_device(devices, runtime, [mute.url, urls[1]], name, handshake_timeout=500)
        t_open, _ = wait_open_on(dev, urls[1], 0, timeout=15)
        assert mute.connect_count >= 1
        assert dev.matching(r"^@error connectionError .*\(option handshake_timeout\)"), dev.output()  # reported
        waited = t_open - dev.lines[0][0]
        assert waited < 0.5 + 1.0, (waited, dev.output())
        wait_events(js, name, 50)
        stop_device(js, dev, name)
    finally:
        mute.stop()
