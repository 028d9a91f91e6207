"""The durable outbox end to end on MicroPython: readings emitted while the
server is unreachable survive the process being killed, and go out exactly
once after the next login; a torn last record is skipped with an error.
Both protocols (the file holds each message as its protocol encodes it), with
the JS client of the protocol's as the subscriber; a file of the other protocol
is skipped; protocol="auto" (CPython) on binary is a reported failure."""
import os
import signal
import subprocess

import pytest

from support.dsserver import PATHS, free_port
from support.mp import micropython_path, mp_lib
from support.pyclient import pump_until

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "peers", "mp_outbox_peer.py")


def peer(*args):
    env = dict(os.environ, MICROPYPATH=mp_lib() + ":.frozen")
    return subprocess.Popen([micropython_path(), "-X", "heapsize=96K", PEER] + list(args),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)


def store_then_kill(outbox, n, protocol):
    dead_url = "ws://127.0.0.1:%d%s" % (free_port(), PATHS[protocol])  # nothing listens there
    proc = peer("store", dead_url, outbox, str(n))
    try:
        seen = []
        for line in proc.stdout:  # connection errors first, then "stored N"
            seen.append(line)
            if line.startswith("stored"):
                break
        assert seen and seen[-1].strip() == "stored %d" % n, "".join(seen)
    finally:
        proc.send_signal(signal.SIGKILL)  # no close(), no flush: a power loss
        proc.wait(10)
    assert os.path.getsize(outbox) > 0


def send(url, outbox):
    proc = peer("send", url, outbox)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "sent" in out, out
    assert not os.path.exists(outbox)
    return out


def received(js, n_expected):
    got = []
    while len(got) < n_expected:
        got.append(js.wait_event("outbox/readings", timeout=10)["i"])
    js.assert_none(lambda n: n["kind"] == "event", within=0.5)  # and nothing more
    return got


def subscriber(js_client, protocol):
    js = js_client(protocol=protocol, login=True)
    js.event_subscribe("outbox/readings")
    js.sync()
    return js


def test_readings_survive_a_kill_and_arrive_once(protocol, ds_server, js_client, tmp_path):
    outbox = str(tmp_path / "outbox.bin")
    js = subscriber(js_client, protocol)
    store_then_kill(outbox, 12, protocol)
    out = send(ds_server.url_for(protocol), outbox)
    assert "error" not in out, out
    assert received(js, 12) == list(range(12))


def test_torn_last_record_is_skipped_with_an_error(protocol, ds_server, js_client, tmp_path):
    outbox = str(tmp_path / "outbox.bin")
    js = subscriber(js_client, protocol)
    store_then_kill(outbox, 3, protocol)
    with open(outbox, "rb+") as f:
        f.truncate(os.path.getsize(outbox) - 4)  # the last write was cut short
    out = send(ds_server.url_for(protocol), outbox)
    assert received(js, 2) == [0, 1]
    assert "error OUTBOX_CORRUPT" in out, out


def test_a_file_of_the_other_protocol_is_skipped_with_an_error(protocol, ds_server, js_client, tmp_path):
    """Readings stored for one protocol, then the device's URL names the other: its
    messages would be garbage on the new link, so they are skipped and reported."""
    other = "binary" if protocol == "text" else "text"
    outbox = str(tmp_path / "outbox.bin")
    js = subscriber(js_client, other)
    store_then_kill(outbox, 3, protocol)
    out = send(ds_server.url_for(other), outbox)
    assert "error OUTBOX_CORRUPT" in out, out
    js.assert_none(lambda n: n["kind"] == "event", within=0.5)


# protocol="auto" starts with the text codec and switches to binary when the endpoint stays
# silent (handshake.py): what was encoded before that (the outbox's records, the frame
# buffer's messages) is text on a binary link. The stored readings are skipped as corrupt;
# queued ones, without an outbox, are sent as they are and the server drops the link (and
# them) without a word. Reported; re-encoding them is a change of design.
AUTO_QUEUE = pytest.mark.xfail(strict=True, reason="auto: messages encoded before the binary endpoint was found")


@pytest.mark.parametrize("protocol", ["text", pytest.param("binary", marks=AUTO_QUEUE)])
def test_readings_stored_before_auto_found_the_protocol_arrive(protocol, ds_server, js_client, tmp_path):
    """A client that asks the endpoint (protocol="auto"): readings emitted before the
    first connection go out once it knows. CPython: the queue code is the same."""
    from deepstream import Client

    outbox = str(tmp_path / "outbox.bin")
    js = subscriber(js_client, protocol)
    client = Client(ds_server.url_for(protocol), protocol="auto", outbox_file=outbox)
    errors = []
    client.on("error", lambda msg, event, topic: errors.append((event, msg)))
    client.login({"username": "auto"})
    client.event.emit("outbox/readings", {"i": 0})  # not connected yet: into the file
    try:
        assert pump_until(client, lambda: client.get_connection_state() == "OPEN" and not os.path.exists(outbox))
        assert errors == []
        assert received(js, 1) == [0]
    finally:
        client.close()
        client.poll(20)
