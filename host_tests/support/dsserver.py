"""Start the real deepstream server (@deepstream/server 7.0.2) for tests and benchmarks.

    with DeepstreamServer() as srv:
        srv.url        # ws://127.0.0.1:PORT/deepstream-v3  (the text protocol endpoint)
        srv.binary_url # ws://127.0.0.1:PORT/deepstream     (the binary protocol endpoint)
        srv.url_for("text") / srv.url_for("binary")   # the same two URLs by protocol name
        srv.port
        srv.stop()     # SIGTERM (then SIGKILL): the server is gone, the port is free
        srv.start()    # start again on the same port (fault-injection tests)
        srv.kill()     # SIGKILL at once
        srv.pause() / srv.resume()   # SIGSTOP / SIGCONT: server alive but silent
        srv.log_text() # everything the server printed (all runs)

Two websocket endpoints share 127.0.0.1 and one free port (with the HTTP service: health
check at /health-check): `ws-text` (the legacy text protocol) at /deepstream-v3 and
`ws-binary` (protobuf, the protocol of @deepstream/client 7.x) at /deepstream, with the
same options (heartbeat interval, auth attempts and timeout), and the same auth and
permissions, so text and binary clients meet on one server. No json/http/mqtt
endpoints, telemetry off, monitoring off.

    DeepstreamServer(default_config=True)

instead runs the configuration the npm package ships (its conf/ directory: config.yml,
permissions.yml, users.yml) with only httpServer's host and port changed to 127.0.0.1
and a free port: a new user's server. It serves the binary protocol at /deepstream and
HTTP at /api, no text endpoint: url_for("binary") works, url_for("text") raises
ServerError (srv.url still names the text path, which nothing serves there); the other
options below do not apply to it.

Options:
  heartbeat_interval  both endpoints' heartbeatInterval (ms); None = server default 30000.
                      Both close a connection silent for 2-3 intervals. Text: the server
                      sends C|PI this often. Binary: the server never pings, the client must
                      send often enough (a 7.0.5 JS client: heartbeatInterval <= this)
  auth                None = open auth; or {"user": {"password": "pw", "clientData": {...},
                      "serverData": {...}}} = file auth (passwords given in clear here,
                      hashed into the generated config)
  permissions         None = no permission checks; or a valve permissions dict
                      (same shape as 7.0.2's permissions.yml), e.g.
                      {"event": {"*": {"publish": True, "subscribe": True, "listen": True}}, ...}
                      Sections you leave out are filled with allow-all rules.
  extra_config        dict deep-merged into the generated config last (wins)
  paths               {"text": path, "binary": path}: where each endpoint is served (url_for
                      follows); e.g. swapped, so that a URL's path guesses the wrong protocol

The config is written as a .js module (module.exports = {...}) because 7.0.2 strips
`#...` "comments" and substitutes `${VAR}` in .json/.yml config text before parsing.
"""

import atexit
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SERVER_DIR = os.path.join(REPO, "tools", "server")
DEEPSTREAM_BIN = os.path.join(SERVER_DIR, "node_modules", "@deepstream", "server",
                              "dist", "bin", "deepstream")
SHIPPED_CONF = os.path.join(os.path.dirname(os.path.dirname(DEEPSTREAM_BIN)), "conf")
URL_PATH = "/deepstream-v3"      # ws-text, the protocol this client speaks today
BINARY_PATH = "/deepstream"      # ws-binary, the path of the shipped config
PATHS = {"text": URL_PATH, "binary": BINARY_PATH}
HOST = "127.0.0.1"

_live = set()


def _cleanup():
    for srv in list(_live):
        try:
            srv.kill()
        except Exception:
            pass


atexit.register(_cleanup)


def die_with_parent():
    """preexec_fn: the child gets SIGKILL when the test process dies (even by a signal,
    when atexit does not run), so no server is left behind. Linux only; harmless elsewhere."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _new_session_dying_with_parent():
    os.setsid()
    die_with_parent()


def free_port(host=HOST):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def deep_merge(base, extra):
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = value
    return base


ALLOW_ALL = {
    "presence": {"*": {"allow": True}},
    "record": {"*": {"create": True, "write": True, "read": True, "delete": True,
                     "listen": True, "notify": True}},
    "event": {"*": {"publish": True, "subscribe": True, "listen": True}},
    "rpc": {"*": {"provide": True, "request": True}},
}


# 7.0.2's file auth insists on a hash algorithm (its schema rejects `hash: false`, so no
# cleartext passwords): we store pbkdf2 hashes computed here, with 1 iteration for speed.
FILE_AUTH_HASH = {"hash": "sha256", "iterations": 1, "keyLength": 32}


def hash_password(password, salt=None):
    """The users-file password format of 7.0.2: base64(pbkdf2(pw, salt)) + salt."""
    if salt is None:
        salt = base64.b64encode(os.urandom(16)).decode()
    digest = hashlib.pbkdf2_hmac(FILE_AUTH_HASH["hash"], password.encode("utf-8"),
                                 salt.encode("utf-8"), FILE_AUTH_HASH["iterations"],
                                 FILE_AUTH_HASH["keyLength"])
    return base64.b64encode(digest).decode() + salt


class ServerError(RuntimeError):
    pass


def health_check(host, port, timeout=1.0):
    """True if GET /health-check answers 200 (the HTTP service of either configuration)."""
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        sock.sendall(b"GET /health-check HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return sock.recv(64).startswith(b"HTTP/1.1 200")
    finally:
        sock.close()


def shipped_config(host, port):
    """The package's config.yml with httpServer bound to host:port (and nothing else changed)."""
    with open(os.path.join(SHIPPED_CONF, "config.yml")) as f:
        text = f.read()
    anchor = "httpServer:\n  type: default\n  options:\n"
    if text.count(anchor) != 1:
        raise ServerError("the shipped config.yml has no `httpServer: type: default` block")
    return text.replace(anchor, anchor + "    host: %s\n    port: %d\n" % (host, port))


def handshake(host, port, path=URL_PATH, timeout=1.0):
    """Open a websocket to the server, return the first text message (e.g. 'C\\x1fA\\x1e').

    Minimal RFC 6455 client on a plain socket (no dependencies). Raises OSError/ValueError."""
    key = base64.b64encode(os.urandom(16)).decode()
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        sock.sendall((
            "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, host, port, key)
        ).encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(4096)
            if not chunk:
                raise ValueError("connection closed during handshake")
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ValueError("no 101: %r" % head[:100])

        def need(n):
            nonlocal rest
            while len(rest) < n:
                chunk = sock.recv(4096)
                if not chunk:
                    raise ValueError("connection closed")
                rest += chunk
            out, rest = rest[:n], rest[n:]
            return out

        b0, b1 = need(2)
        length = b1 & 0x7F
        if length == 126:
            length = int.from_bytes(need(2), "big")
        elif length == 127:
            length = int.from_bytes(need(8), "big")
        payload = need(length)
        if b0 & 0x0F != 1:
            raise ValueError("first frame is not text: opcode %d" % (b0 & 0x0F))
        # polite close (masked, status 1000)
        mask = os.urandom(4)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(b"\x03\xe8"))
        try:
            sock.sendall(bytes([0x88, 0x80 | 2]) + mask + body)
        except OSError:
            pass
        return payload.decode("utf-8")
    finally:
        sock.close()


class DeepstreamServer:
    def __init__(self, heartbeat_interval=None, auth=None, permissions=None, extra_config=None,
                 port=None, log_level="INFO", startup_timeout=20.0, node="node", default_config=False,
                 paths=None):
        if not os.path.exists(DEEPSTREAM_BIN):
            raise ServerError("@deepstream/server is not installed (%s): run `make node`"
                              % DEEPSTREAM_BIN)
        self.heartbeat_interval = heartbeat_interval
        self.auth = auth
        self.permissions = permissions
        self.extra_config = extra_config
        self.log_level = log_level
        self.startup_timeout = startup_timeout
        self.node = node
        self.default_config = default_config
        self.paths = PATHS if paths is None else paths  # {"text": path, "binary": path}: where each is served
        self.host = HOST
        self._fixed_port = port is not None
        self.port = port
        self.proc = None
        self.tmpdir = tempfile.mkdtemp(prefix="dsserver-")
        self.config_path = os.path.join(self.tmpdir, "config.yml" if default_config else "config.js")
        self.log_path = os.path.join(self.tmpdir, "server.log")
        self._log_file = None

    # ------------------------------------------------------------------ config
    @property
    def url(self):
        """The text endpoint's URL (also on the shipped config, where nothing serves it)."""
        return "ws://%s:%d%s" % (self.host, self.port, URL_PATH)

    @property
    def binary_url(self):
        return self.url_for("binary")

    def url_for(self, protocol):
        """The URL of the endpoint of `protocol`: "text" or "binary"."""
        if protocol not in PATHS:
            raise ValueError("protocol must be one of %s, not %r" % (sorted(PATHS), protocol))
        if self.default_config and protocol == "text":
            raise ServerError("the shipped config (default_config=True) has no ws-text endpoint: "
                              "only the binary protocol at %s" % BINARY_PATH)
        return "ws://%s:%d%s" % (self.host, self.port, self.paths[protocol])

    def build_config(self):
        ws_options = {"maxAuthAttempts": 3, "unauthenticatedClientTimeout": 180000}
        if self.heartbeat_interval is not None:
            ws_options["heartbeatInterval"] = int(self.heartbeat_interval)
        endpoints = [{"type": "ws-" + protocol, "options": dict(ws_options, urlPath=self.paths[protocol])}
                     for protocol in ("text", "binary")]
        config = {
            "serverName": "test-%d" % self.port,
            "showLogo": False,
            "logLevel": self.log_level,
            "exitOnFatalError": True,
            "logger": {"type": "default", "options": {"colors": False}},
            "httpServer": {"type": "default", "options": {"host": self.host, "port": self.port}},
            "connectionEndpoints": endpoints,
            "telemetry": {"type": "deepstreamIO", "options": {"enabled": False}},
            "monitoring": {"type": "none", "options": {}},
        }
        if self.auth is None:
            config["auth"] = [{"type": "none", "options": {}}]
        else:
            users = {}
            for name, entry in self.auth.items():
                entry = dict(entry)
                entry["password"] = hash_password(entry.get("password", ""))
                users[name] = entry
            config["auth"] = [{"type": "file", "options": dict(users=users, **FILE_AUTH_HASH)}]
        if self.permissions is None:
            config["permission"] = {"type": "none", "options": {}}
        else:
            perms = json.loads(json.dumps(ALLOW_ALL))
            for section, rules in self.permissions.items():
                perms[section] = rules
            config["permission"] = {"type": "config", "options": {"permissions": perms}}
        if self.extra_config:
            deep_merge(config, json.loads(json.dumps(self.extra_config)))
        return config

    def _write_config(self):
        if self.default_config:  # with the permissions.yml and users.yml it refers to
            for name in os.listdir(SHIPPED_CONF):
                shutil.copy(os.path.join(SHIPPED_CONF, name), self.tmpdir)
            text = shipped_config(self.host, self.port)
        else:
            text = "module.exports = %s\n" % json.dumps(self.build_config(), indent=1)
        with open(self.config_path, "w") as f:
            f.write(text)

    # ------------------------------------------------------------------ lifetime
    def start(self):
        """Start the server (again) and wait until the text endpoint says C|A."""
        if self.proc is not None and self.proc.poll() is None:
            return self
        tries = 1 if (self._fixed_port or self.port is not None) else 3
        last = None
        for _ in range(tries):
            if self.port is None or (not self._fixed_port and last is not None):
                self.port = free_port()
            try:
                self._start_once()
                _live.add(self)
                return self
            except ServerError as e:
                last = e
                if "EADDRINUSE" not in str(e):
                    break
        raise last

    def _start_once(self):
        self._write_config()
        self._log_file = open(self.log_path, "ab")
        self._log_file.write(("\n=== start on port %d ===\n" % self.port).encode())
        self._log_file.flush()
        self.proc = subprocess.Popen(
            [self.node, DEEPSTREAM_BIN, "start", "-c", self.config_path],
            cwd=self.tmpdir, stdin=subprocess.DEVNULL, stdout=self._log_file,
            stderr=subprocess.STDOUT, preexec_fn=_new_session_dying_with_parent,
            env=dict(os.environ, NODE_ENV="test", TELEMETRY_URL="http://127.0.0.1:9/"),
        )
        deadline = time.monotonic() + self.startup_timeout
        last_err = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._close_log()
                raise ServerError("deepstream exited with %s during startup:\n%s"
                                  % (self.proc.returncode, self.log_text()[-4000:]))
            try:
                if self.default_config:  # no text endpoint to ask
                    if health_check(self.host, self.port):
                        return
                    last_err = "health check not answered with 200"
                    time.sleep(0.05)
                    continue
                first = handshake(self.host, self.port, self.paths["text"], timeout=1.0)
                if first.startswith("C\x1fA"):
                    return
                last_err = "unexpected first message %r" % first
            except (OSError, ValueError) as e:
                last_err = e
            time.sleep(0.05)  # poll interval while waiting for the condition
        self._terminate(signal.SIGKILL)
        raise ServerError("deepstream did not answer C|A within %.0fs (%s):\n%s"
                          % (self.startup_timeout, last_err, self.log_text()[-4000:]))

    def _close_log(self):
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def _terminate(self, sig, grace=5.0):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
                os.killpg(self.proc.pid, signal.SIGCONT)  # a paused server must see it too
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=5)
        self._close_log()
        _live.discard(self)

    def stop(self):
        """Stop the server (SIGTERM, SIGKILL after 5 s). The port stays reserved for start()."""
        self._terminate(signal.SIGTERM)

    def kill(self):
        """Kill the server at once (SIGKILL): connections drop without close frames."""
        self._terminate(signal.SIGKILL)

    def pause(self):
        """Freeze the server (SIGSTOP): sockets stay open, nothing is answered."""
        os.killpg(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.killpg(self.proc.pid, signal.SIGCONT)

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def close(self):
        """Stop and remove the temp dir (config and log)."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.resume()
            except Exception:
                pass
        self.stop()
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


def main(argv=None):
    """`python host_tests/support/dsserver.py [--port N] [--default-config]`: the server
    the tests use (or the shipped configuration), in the foreground until Ctrl-C."""
    import argparse
    parser = argparse.ArgumentParser(description=main.__doc__.split(":", 1)[1].strip())
    parser.add_argument("--port", type=int, help="default: a free port")
    parser.add_argument("--default-config", action="store_true",
                        help="the package's own config.yml (binary protocol only), bound to 127.0.0.1")
    args = parser.parse_args(argv)
    srv = DeepstreamServer(port=args.port, default_config=args.default_config)
    with srv:
        print("deepstream 7.0.2 on 127.0.0.1:%d; config %s; log %s" % (srv.port, srv.config_path, srv.log_path))
        protocols = ("binary",) if args.default_config else ("text", "binary")
        print("client urls: " + ", ".join(srv.url_for(p) for p in protocols))
        print("Ctrl-C to stop")
        try:
            srv.proc.wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
