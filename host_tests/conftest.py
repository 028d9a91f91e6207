"""Shared pytest fixtures for the host tests.

ds_server          session-wide real deepstream 7.0.2 (open auth, no permissions), both
                   protocols on one port: .url = ws://127.0.0.1:PORT/deepstream-v3 (text),
                   .binary_url = ws://127.0.0.1:PORT/deepstream (binary), .url_for(protocol).
                   Restarted if a test stopped it.
                   Tests that kill/pause/restart a server should use ds_server_factory.
swapped_server     session-wide 7.0.2 with the two endpoints at each other's path (text at
                   /deepstream, binary at /deepstream-v3; .url_for(protocol) follows): a URL's
                   path guesses the protocol wrong (protocol="auto")
stock_server       session-wide 7.0.2 with the configuration its npm package ships
                   (DeepstreamServer(default_config=True)): binary only, at .binary_url
ds_server_factory  make(heartbeat_interval=None, auth=None, permissions=None,
                   extra_config=None) -> a started DeepstreamServer of your own,
                   closed at teardown
protocol           "text" or "binary" (ids text/binary): a test that takes it runs once per
                   wire protocol; pass it on, e.g. js_client(protocol=protocol),
                   ds_server.url_for(protocol)
protocol_server    the server for `protocol`: binary, stock_server (what a new user runs);
                   text, ds_server (its ws-text endpoint)
protocol_url       protocol_server's endpoint of `protocol`
js                 the JS client of `protocol` on protocol_url, logged in as "js"
tap                support.wire.WireTap: protocol_url through a proxy that keeps what
                   clients send (.url, .sent(), .proxy)
names              names("x", under="e2e") -> "e2e/<this test and parametrisation>/x": names
                   no other test uses (the servers live for the session)
js_client          make(url=None, options=None, login=None, protocol=None) -> JsClient (an
                   official JS client in node), closed at teardown. protocol "text": 2.3.4,
                   "binary": 7.0.5; None: from url's path (/deepstream-v3 is text, else
                   binary), text when url is None too. url defaults to
                   ds_server.url_for(protocol). options: in 2.3.4's names (jsclient.js maps
                   them). login: dict of auth data (or True for {}) -> logged in, success
                   asserted
py_client          make(url, login=True, **options) -> (client, errors): our Client on CPython,
                   its error events in `errors` as (event, message, topic); closed (socket
                   too) at teardown. login: True = {"username": "py-client"}, a dict of
                   auth data, or None (not logged in): logged in, success asserted
runtime            "cpython" or "micropython" (ids the same): a test that takes it runs
                   once per runtime of our client; device() follows it
device             make(url, username="device", **options) -> support.device.Device: our
                   client on `runtime`, logged in; closed at teardown
micropython        absolute path of the unix-port binary
run_micropython    run_micropython(code_or_script, heap="96K", timeout=60, args=()) ->
                   (rc, stdout, stderr), with lib/ on the path (see support/mp.py)
"""

import os
import re

import pytest

from support.device import RUNTIMES, Device
from support.dsserver import DeepstreamServer
from support.jsclient import JsClient
from support.mp import micropython_path, run_micropython as _run_micropython
from support.pyclient import close, login as _login, new_client
from support.wire import WireTap


@pytest.fixture(scope="session")
def _session_server():
    srv = DeepstreamServer()
    srv.start()
    yield srv
    srv.close()


@pytest.fixture
def ds_server(_session_server):
    if not _session_server.running:
        _session_server.start()
    return _session_server


@pytest.fixture(scope="session")
def swapped_server():
    """Both endpoints at each other's usual path (text at /deepstream, binary at
    /deepstream-v3): every URL's path guesses the protocol wrong (protocol="auto")."""
    with DeepstreamServer(paths={"text": "/deepstream", "binary": "/deepstream-v3"}) as srv:
        yield srv


@pytest.fixture(scope="session")
def stock_server():
    with DeepstreamServer(default_config=True) as srv:
        yield srv


@pytest.fixture
def ds_server_factory():
    servers = []

    def make(**kwargs):
        srv = DeepstreamServer(**kwargs)
        servers.append(srv)
        return srv.start()

    yield make
    for srv in servers:
        srv.close()


@pytest.fixture(params=["text", "binary"], ids=["text", "binary"])
def protocol(request):
    return request.param


@pytest.fixture
def protocol_server(protocol, request):
    return request.getfixturevalue("stock_server" if protocol == "binary" else "ds_server")


@pytest.fixture
def protocol_url(protocol_server, protocol):
    return protocol_server.url_for(protocol)


@pytest.fixture
def js(js_client, protocol_url):
    return js_client(protocol_url, login={"username": "js"})


@pytest.fixture
def tap(protocol_server, protocol):
    tap = WireTap(protocol_server, protocol)
    yield tap
    tap.close()


@pytest.fixture
def names(request):
    prefix = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")
    return lambda suffix, under="e2e": "%s/%s/%s" % (under, prefix, suffix)


@pytest.fixture(params=RUNTIMES, ids=RUNTIMES)
def runtime(request):
    return request.param


@pytest.fixture
def device(runtime):
    devices = []

    def make(url, username="device", **options):
        dev = Device(runtime, url, username, **options)
        devices.append(dev)
        return dev

    yield make
    for dev in devices:
        dev.close()


@pytest.fixture
def js_client(request):
    clients = []

    def make(url=None, options=None, login=None, protocol=None):
        if url is None:
            url = request.getfixturevalue("ds_server").url_for(protocol or "text")
        c = JsClient(url, options=options, protocol=protocol)
        clients.append(c)
        if login is not None:
            ok, data = c.login({} if login is True else login)
            assert ok, "JS client login failed: %r (errors %r)" % (data, c.errors)
        return c

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def py_client():
    clients = []

    def make(url, login=True, **options):
        client, errors = new_client(url, **options)
        clients.append(client)
        if login:
            result = _login(client, {"username": "py-client"} if login is True else login)
            assert result[0] is True, (result, errors)
        return client, errors

    yield make
    for client in clients:
        close(client)


@pytest.fixture(scope="session")
def micropython():
    path = micropython_path()
    if not os.path.exists(path):
        pytest.fail("MicroPython unix port not found at %s: run `make venv`" % path)
    return path


@pytest.fixture
def run_micropython(micropython):
    def run(code_or_script, heap="96K", timeout=60, **kwargs):
        kwargs.setdefault("micropython", micropython)
        return _run_micropython(code_or_script, heap=heap, timeout=timeout, **kwargs)

    return run
