"""Connecting never blocks the loop (issue 22, defects 2 and 3), on the emulated board.

Each driver runs every case in one boot (device/connect.py): a resolver that does not
answer, a TCP endpoint that does not answer (10.0.2.99: nothing answers ARP there), a
server that accepts TCP and never answers the websocket upgrade (the proxy's black
hole), a server that upgrades and then says nothing (the handshake timeout), a name
that does not resolve, and a name that does (our DNS server on the host).
No poll(50) may take longer than LONGEST_MS, nor may the asyncio loop stall that long;
the attempts that cannot succeed fail with a clear error after connect_timeout.
"""
import json
import time

import pytest

from support.board import HOST_FROM_BOARD, PROTOCOLS, BoardRun, board_url, from_board
from support.dnsserver import DnsServer
from support.dsserver import DeepstreamServer
from support.tcpproxy import TcpProxy

LONGEST_MS = 400  # "a few hundred ms": poll(50) plus the slowest step of an attempt
CONNECT_TIMEOUT = 2000
ONE_ATTEMPT = {"connect_timeout": CONNECT_TIMEOUT, "max_reconnect_attempts": 0, "handshake_timeout": 0}
SILENT = "10.0.2.99"  # in the board's subnet, unused: no ARP answer, so nothing ever answers


@pytest.fixture(scope="module")
def dns():
    d = DnsServer({"deepstream.test": "10.0.2.2"}).start()
    yield d
    d.close()


@pytest.fixture
def hold(ds_server):
    p = TcpProxy(ds_server.port).start()
    p.blackhole()  # accepts, and never answers
    yield p
    p.close()


@pytest.fixture(scope="module")
def shipped():
    """The server as its package ships it: only the binary endpoint, at /deepstream, which
    answers the upgrade and then waits, silent, for a binary-protocol client."""
    srv = DeepstreamServer(default_config=True)
    srv.start()
    yield srv
    srv.close()


@pytest.fixture
def mute(ds_server):
    """Passes the upgrade, drops the first frame the client sends: a binary client's
    CHALLENGE, which the server then never answers."""
    p = TcpProxy(ds_server.port, keep_sent=True).start()
    p.drop_next(lambda payload: True)
    yield p
    p.close()


def silent_endpoint(shipped, mute, protocol):
    """An endpoint that upgrades and then says nothing to a client of `protocol`: for
    text, the shipped server's binary endpoint (it waits for a CHALLENGE); for binary,
    a server that never got our CHALLENGE."""
    if protocol == "text":
        return "ws://%s:%d/deepstream" % (HOST_FROM_BOARD, shipped.port), {"protocol": "text"}
    return board_url(mute, protocol), {}


def cases(ds_server, hold, dns, silent, protocol):
    url = board_url(ds_server, protocol)
    path = url[url.index("/", 5):]
    port = ds_server.port
    return [
        {"name": "dns-silent", "dns": SILENT, "seconds": 3.5, "options": ONE_ATTEMPT,
         "url": "ws://deepstream.test:%d%s" % (port, path)},
        {"name": "tcp-silent", "dns": "10.0.2.3", "seconds": 3.5, "options": ONE_ATTEMPT,
         "url": "ws://%s:%d%s" % (SILENT, port, path)},
        {"name": "upgrade-silent", "seconds": 3.5, "options": ONE_ATTEMPT,
         "url": from_board(hold.url(path))},
        {"name": "unknown-host", "seconds": 3.5, "options": ONE_ATTEMPT,
         "url": "ws://no-such-host.invalid:%d%s" % (port, path)},
        {"name": "handshake-timeout", "seconds": 3, "url": silent[0],
         "options": dict(ONE_ATTEMPT, handshake_timeout=1000, **silent[1])},
        {"name": "resolves", "seconds": 15, "until_open": True,
         "options": {"dns_server": "10.0.2.2:%d" % dns.port},
         "url": "ws://deepstream.test:%d%s" % (port, path)},
    ]


def connection_errors(case):
    return [message for event, message in case["errors"] if event == "connectionError"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("driver", ["poll", "aio"])
def test_connecting_never_blocks_the_loop(driver, protocol, ds_server, hold, dns, shipped, mute):
    silent = silent_endpoint(shipped, mute, protocol)
    run = BoardRun("connect.py", [driver, json.dumps(cases(ds_server, hold, dns, silent, protocol))],
                   timeout=90).start()
    rc = run.finish()
    got = {c["name"]: c for c in run.records("case")}
    report = run.output()[-3000:]
    for case in got.values():
        print(driver, json.dumps(case))
    assert rc == 0 and len(got) == 6, report
    for name, case in got.items():
        assert not [e for e in case["errors"] if e[0] == "RAISED"], (name, report)
        assert case["longest_ms"] is not None and case["longest_ms"] <= LONGEST_MS, (name, case)
    # the attempts that cannot succeed fail with a clear error, once connect_timeout is up
    for name, said in (("dns-silent", "deepstream.test"), ("tcp-silent", "timed out"),
                       ("upgrade-silent", "timed out")):
        errors = connection_errors(got[name])
        assert errors and said in errors[0], (name, got[name])
        assert "OPEN" not in got[name]["states"]
    dns_error = connection_errors(got["dns-silent"])[0]
    assert "no answer" in dns_error and "10.0.2.99" in dns_error, dns_error
    # defect 3: an unknown host is named, and said not to resolve
    unknown = connection_errors(got["unknown-host"])
    assert unknown and "no-such-host.invalid" in unknown[0] and "did not resolve" in unknown[0], unknown
    # an endpoint that upgrades and then says nothing: the handshake timeout, with its causes
    timed_out = connection_errors(got["handshake-timeout"])
    said = "no deepstream message within 1000 ms" if protocol == "text" else "CHALLENGE within 1000 ms"
    assert timed_out and said in timed_out[0], timed_out
    # and a name that resolves still connects
    assert got["resolves"]["opened_ms"] is not None, got["resolves"]
    assert dns.queries.get("deepstream.test", 0) >= 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_resolved_name_is_kept_until_a_connect_to_it_fails(ds_server, dns, protocol):
    """The address is asked for once; a lost link reconnects to it without asking again;
    a connect that fails (nothing listens) has it asked for again."""
    proxy = TcpProxy(ds_server.port).start()
    port = proxy.port
    url = board_url(proxy, protocol).replace(HOST_FROM_BOARD, "deepstream.test")
    options = {"dns_server": "10.0.2.2:%d" % dns.port, "reconnect_interval_increment": 200,
               "max_reconnect_interval": 500, "reconnect_jitter": 0, "max_reconnect_attempts": 100}
    dns.queries.clear()
    run = BoardRun("states.py", [url, json.dumps(options), 3], timeout=90).start()
    try:
        run.wait_line(r"^@state OPEN", timeout=30)
        assert dns.queries == {"deepstream.test": 1}
        proxy.cut()  # the link is lost; the server's address is still right
        wait_opens(run, 2)
        assert dns.queries == {"deepstream.test": 1}, dns.queries
        proxy.close()  # now nothing listens there: the connect fails
        run.wait_line(r"^@error connectionError", timeout=30)
        proxy = TcpProxy(ds_server.port, port=port).start()
        wait_opens(run, 3)
        assert dns.queries["deepstream.test"] >= 2, (dns.queries, run.output())
        assert run.finish() == 0, run.output()
    finally:
        run.kill()
        proxy.close()


def wait_opens(run, n, timeout=30):
    deadline = time.monotonic() + timeout
    while len(run.matching(r"^@state OPEN$")) < n:
        assert time.monotonic() < deadline, run.output()
        time.sleep(0.1)
