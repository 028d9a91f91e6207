"""Faults between the board and the real server, through a proxy on the host
(support/tcpproxy.py): the stream peer of test_faults.py (peers/mp_fault_peer.py,
unchanged) runs on the emulated board with confirm_events, through a cut and through
a black hole (only the heartbeat notices that one): nothing is lost, and a duplicate
only among the events it had not seen confirmed. Then a slow link: 300 events of
1 KB through 100 KB/s, where lwIP's send buffer takes part of a write and then says
EAGAIN (device/slow.py counts both)."""
import json
import subprocess
import threading
import time

import pytest

from support.board import PROTOCOLS, BoardRun, board_url, from_board
from test_faults import (  # noqa: F401 (fixtures: server, proxy, peers)
    K, PEER, PEER_OPTIONS, STREAM, Peer, check_phase, cut_with_outage, finish, peers, proxy, server,
    stream_check, stream_through_a_black_hole, subscriber,
)


class BoardPeer(Peer):
    """The fault peer on the board: its output lines as test_faults.Peer reads them."""

    def __init__(self, url, name, k=K, **options):
        opts = dict(PEER_OPTIONS, **options)
        self.name = name
        self.lines = []
        self._cond = threading.Condition()
        # from ROMFS: from .mpy files the peer (records, RPC, a 16 KB ring made at once for
        # confirm_events) does not fit the board's 160 KB with the interned-string table's
        # next doubling (a 4.5 KB block) as well
        run = BoardRun(PEER, [from_board(url), name, k, json.dumps(opts)], romfs=True, timeout=150)
        self.proc = run.popen(stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()


def stream_on_board(name, server, proxy, peers, js_client):
    js = subscriber(js_client, server, name)
    js.event_subscribe("fault/stream/" + name)
    js.sync()
    peer = BoardPeer(proxy.url(), name, **STREAM)
    peers.append(peer)
    check_phase(js, peer, 0)
    return js, peer


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_confirmed_stream_through_a_cut(protocol, server, proxy, peers, js_client):
    js, peer = stream_on_board("board-cut-" + protocol, server, proxy, peers, js_client)
    cut_with_outage(proxy, peer, 1)
    check_phase(js, peer, 1)
    stream_check(js, peer, finish(js, peer, 1))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_confirmed_stream_through_a_black_hole(protocol, server, proxy, peers, js_client):
    js, peer = stream_on_board("board-hole-" + protocol, server, proxy, peers, js_client)
    stream_through_a_black_hole(js, peer, proxy)


SLOW_BPS = 100000
SLOW_EVENTS = 300


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_slow_link_takes_partial_writes(protocol, server, proxy, js_client):
    js = js_client(server.url, login={"username": "js-slow"})
    js.event_subscribe("board/slow")
    js.sync()
    proxy.set_rate(SLOW_BPS)
    run = BoardRun("slow.py", [board_url(proxy, protocol), SLOW_EVENTS], timeout=120).start()
    try:
        line = run.wait_line(r"^@sent ", timeout=90)
        assert line.endswith(" True"), run.output()
        writes, partial, eagain = map(int, run.wait_line(r"^@writes ", timeout=10).split()[1:])
        deadline = time.monotonic() + 20
        while len(got(js)) < SLOW_EVENTS and time.monotonic() < deadline:
            time.sleep(0.1)
        assert got(js) == list(range(SLOW_EVENTS))
        # 1 KB events faster than their confirmations: the 8 KB send queue cannot keep them
        # all for sending again, and says so; nothing else goes wrong
        errors = run.matching(r"^@error")
        assert run.finish() == 0 and all("not yet confirmed" in e for e in errors), run.output()
        print("slow link: %s; %d writes, %d partial, %d EAGAIN" % (line, writes, partial, eagain))
        assert partial > 0 and eagain > 0  # the link was slow enough to show both
    finally:
        run.kill()


def got(js):
    return [n["data"]["i"] for n in list(js.history) if n["kind"] == "event" and n["name"] == "board/slow"]
