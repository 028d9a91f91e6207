"""wss:// with certificate verification, on CPython and MicroPython.

A CA and server certificates are made here with the openssl CLI; a
TLS-terminating proxy (support/tcpproxy.py) in front of the real deepstream
server presents them. The peer (peers/mp_tls_peer.py) is the same script on
both runtimes, with the poll and the asyncio driver.

Proven here:
* with the CA given (PEM or DER), for an IP or a DNS host name: connects,
  logs in and events flow both ways (with PEM: on both protocols);
* a certificate for another host name is refused (hostname checking is on
  by default, also on MicroPython's mbedtls, which checks DNS and IP
  subjectAltNames: verified for real in test_mbedtls_hostname_checking);
* a self-signed certificate is refused; so is any certificate when no CA is
  given (CPython: not in the system store; MicroPython: no store at all, a
  clear error asks for ca_file);
* verify=False connects and reports INSECURE_CONNECTION once per connection.
"""
import json
import os
import shutil
import ssl
import subprocess
import sys

import pytest

from support.dsserver import PATHS
from support.mp import LIB, micropython_path
from support.tcpproxy import TcpProxy

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "peers", "mp_tls_peer.py")
RUNTIMES = ("cpython", "micropython")


def _openssl(*args):
    subprocess.run(("openssl",) + args, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("no openssl command to make test certificates")
    d = tmp_path_factory.mktemp("pki")
    p = lambda name: str(d / name)  # noqa: E731
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl("req", "-x509", *ec, "-days", "2", "-keyout", p("ca.key"), "-out", p("ca.pem"),
             "-subj", "/CN=deepstream test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    _openssl("x509", "-in", p("ca.pem"), "-outform", "DER", "-out", p("ca.der"))
    for name, san in (("good", "DNS:localhost,IP:127.0.0.1"), ("other", "DNS:other.example")):
        _openssl("req", *ec, "-keyout", p(name + ".key"), "-out", p(name + ".csr"),
                 "-subj", "/CN=" + san.split(",")[0][4:])
        with open(p(name + ".ext"), "w") as f:
            f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n" % san)
        _openssl("x509", "-req", "-in", p(name + ".csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
                 "-CAcreateserial", "-days", "2", "-out", p(name + ".pem"), "-extfile", p(name + ".ext"))
    # self-signed, for the right names: only the missing chain makes it wrong
    _openssl("req", "-x509", *ec, "-days", "2", "-keyout", p("self.key"), "-out", p("self.pem"),
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
    return p


@pytest.fixture(scope="module")
def endpoints(certs, _session_server):
    """name -> TLS proxy in front of the real server presenting that certificate."""
    if not _session_server.running:
        _session_server.start()
    out = {}
    for name in ("good", "other", "self"):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certs(name + ".pem"), certs(name + ".key"))
        out[name] = TcpProxy(_session_server.port, tls_context=ctx).start()
    yield out
    for proxy in out.values():
        proxy.close()


def run_peer(runtime, url, mode="poll", rounds=1, on_line=None, **options):
    """Run the peer; returns its JSON summary. on_line(proc) runs while it lives."""
    options.setdefault("max_reconnect_attempts", 0)
    options.setdefault("reconnect_interval_increment", 100)
    options.setdefault("connect_timeout", 5000)
    if runtime == "micropython":
        cmd = [micropython_path(), "-X", "heapsize=256K", PEER]
    else:
        cmd = [sys.executable, PEER]
    env = dict(os.environ, MICROPYPATH=LIB + ":.frozen", PYTHONPATH=LIB)
    proc = subprocess.Popen(cmd + [url, mode, str(rounds), json.dumps(options)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        if on_line is not None:
            on_line(proc)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out
    return json.loads(out.strip().splitlines()[-1])


def answer_rounds(js, rounds, between=None):
    """JS side: answer each round's tls/out with tls/in; between(r) after round r."""
    def run(proc):
        for r in range(1, rounds + 1):
            js.wait_for(lambda n: n["kind"] == "event" and n["name"] == "tls/out"
                        and n["data"]["round"] == r, timeout=20)
            js.event_emit("tls/in", r)
            js.wait_for(lambda n: n["kind"] == "event" and n["name"] == "tls/got"
                        and n["data"]["round"] == r, timeout=20)
            if between is not None and r < rounds:
                between(r)
    return run


@pytest.fixture
def js(js_client, _session_server, request):
    """The JS client of the test's protocol (text if it has none), subscribed to the peer's events."""
    protocol = request.getfixturevalue("protocol") if "protocol" in request.fixturenames else "text"
    c = js_client(_session_server.url_for(protocol), login={"username": "js-tls"})
    c.event_subscribe("tls/out")
    c.event_subscribe("tls/got")
    c.sync()
    return c


def refused(res, *texts):
    """The peer never got past the TLS handshake, and said why."""
    assert res["rounds"] == 0
    assert "OPEN" not in res["states"] and "AWAITING_CONNECTION" not in res["states"], res
    conn_errors = [text for event, text in res["errors"] if event == "connectionError"]
    assert conn_errors, res
    text = conn_errors[0]
    assert any(t in text for t in texts), text
    assert "tls-peer-password" not in json.dumps(res)


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("mode", ["poll", "aio"])
def test_verified_with_pem_ca(runtime, mode, endpoints, certs, protocol, js):
    res = run_peer(runtime, endpoints["good"].url(PATHS[protocol]), mode, on_line=answer_rounds(js, 1),
                   ca_file=certs("ca.pem"))
    assert res["rounds"] == 1 and res["errors"] == [], res
    assert "OPEN" in res["states"]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_verified_with_der_ca_and_dns_name(runtime, endpoints, certs, js):
    url = endpoints["good"].url().replace("127.0.0.1", "localhost")
    res = run_peer(runtime, url, on_line=answer_rounds(js, 1), ca_file=certs("ca.der"))
    assert res["rounds"] == 1 and res["errors"] == [], res


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("mode", ["poll", "aio"])
def test_certificate_for_another_host_is_refused(runtime, mode, endpoints, certs):
    res = run_peer(runtime, endpoints["other"].url(), mode, ca_file=certs("ca.pem"))
    # CPython: "IP address mismatch"; mbedtls: "Common Name (CN) does not match"
    refused(res, "mismatch", "does not match")


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("mode", ["poll", "aio"])
def test_self_signed_certificate_is_refused(runtime, mode, endpoints, certs):
    res = run_peer(runtime, endpoints["self"].url(), mode, ca_file=certs("ca.pem"))
    refused(res, "self-signed", "self signed", "not correctly signed")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_no_ca_given_means_refused_not_unverified(runtime, endpoints):
    res = run_peer(runtime, endpoints["good"].url())
    # CPython: our CA is not in the system store; MicroPython: no store, ca_file needed
    refused(res, "certificate verify failed", "ca_file")


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("mode", ["poll", "aio"])
def test_verify_false_warns_once_per_connection(runtime, mode, endpoints, js):
    proxy = endpoints["self"]
    res = run_peer(runtime, proxy.url(), mode, rounds=2, verify=False, max_reconnect_attempts=5,
                   on_line=answer_rounds(js, 2, between=lambda r: proxy.cut()))
    assert res["rounds"] == 2, res
    opened = res["states"].count("AWAITING_CONNECTION")
    assert opened == 2, res
    warnings = [e for e in res["errors"] if e[0] == "INSECURE_CONNECTION"]
    assert len(warnings) == opened, res
    assert "not authenticated" in warnings[0][1]


def test_mbedtls_hostname_checking(micropython, endpoints, certs):
    """MicroPython's own ssl module, without our library: what does mbedtls check?"""
    code = """
import socket, ssl, binascii
d = open(%r, 'rb').read()
ca = binascii.a2b_base64(d[d.find(b'-----BEGIN CERTIFICATE-----') + 27:d.find(b'-----END')])
for port, host in %r:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    print('default verify_mode', ctx.verify_mode)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cadata=ca)
    s = socket.socket()
    s.connect(socket.getaddrinfo('127.0.0.1', port)[0][-1])
    try:
        ctx.wrap_socket(s, server_hostname=host)
        print(host, 'accepted')
    except Exception as e:
        print(host, 'refused')
    s.close()
""" % (certs("ca.pem"), [(endpoints["good"].port, "127.0.0.1"), (endpoints["good"].port, "localhost"),
                         (endpoints["good"].port, "wrong.example"), (endpoints["other"].port, "127.0.0.1")])
    out = subprocess.run([micropython, "-X", "heapsize=256K", "-c", code], capture_output=True,
                         text=True, timeout=30).stdout.splitlines()
    # CERT_NONE is MicroPython's default for PROTOCOL_TLS_CLIENT: why transport.py sets it
    assert out[0] == "default verify_mode 0"
    assert [line for line in out if not line.startswith("default")] == [
        "127.0.0.1 accepted", "localhost accepted", "wrong.example refused", "127.0.0.1 refused"]
