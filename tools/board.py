#!/usr/bin/env python3
"""Run one MicroPython script on the emulated board: a firmware for QEMU's
mps2-an385 (Cortex-M3) with LAN9118 Ethernet, lwIP sockets, a fixed heap,
littlefs and ROMFS (README "The emulated board" says how to build one).

    tools/board.py [--firmware F] [--heap 64K] [--romfs] [--timeout S] [--no-net]
                   [--files PATH ...] [--] SCRIPT.py [ARGS ...]

The firmware is --firmware, else $BOARD_FIRMWARE. QEMU (qemu-system-arm) boots it with
user-mode networking: the board is 10.0.2.15, gets its address by DHCP, and reaches
the host as 10.0.2.2 (a server on the host's 127.0.0.1:PORT is at 10.0.2.2:PORT); QEMU's
DNS proxy is 10.0.2.3. The board connects out; it cannot accept connections.

Files: each PATH (a directory's contents, or a file) and the script go into one ROMFS
image that QEMU loads into the board's memory. By default they are copied at boot onto
a fresh littlefs at / (RAM standing in for flash), so .mpy files are loaded into the heap
as from a board's filesystem (`make deploy`); --romfs leaves the .mpy files in the ROMFS at
/rom, where their bytecode runs in place, and copies only the others (main.py, config.json
at the top level) to / (`make deploy ROMFS=1`). --heap SIZE makes the board
behave as a firmware built with a SIZE heap: a ballast allocated first takes the rest.

The script runs as __main__ with sys.argv = [SCRIPT.py, ARGS...] through the raw REPL
(boot.py and main.py are not run by themselves). Its output goes to stdout as it comes
(a traceback to stderr); lines written to our stdin reach the script's sys.stdin. Exit code: the script's (0, 1 for an uncaught exception, N for
sys.exit(N)); 124 when --timeout (boot included) ran out; 125 when the board did not
come up or stopped (machine.reset() ends QEMU). QEMU is killed when the script ends: bytes
still on their way out are lost, as when a board loses power.
"""
import argparse
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from deploy import make_romfs  # noqa: E402

# Where the image goes: two regions of the AN385's 16 MB PSRAM (the firmware mounts a
# ROMFS found at the first by itself; the second stands in for the flash of littlefs).
ROMFS_AT = 0x21000000
FLASH_AT = 0x21400000
FLASH_BLOCKS = 256  # of 4 KB: 1 MB
HEAP_MAX = 163840  # the firmware's heap (MICROPY_HEAP_SIZE)
EXIT_TIMEOUT, EXIT_NO_BOARD = 124, 125
MARK = "@board-rc "

# First raw-REPL command: runs on the fresh heap, so the ballast lands at its low end.
# The GC's tables take 1 byte per 64 bytes of heap (2 bits per 16-byte block for the
# allocation table, 1 bit for the finaliser table): a SIZE heap holds SIZE * 64 / 65.5
# bytes of blocks, and the ballast takes what this firmware has beyond that.
PREPARE = r"""
import gc
_b = None
if %(heap)d:
    _b = gc.mem_free() + gc.mem_alloc() - (%(heap)d - 1) * 8 // 524 * 64 - 16
    _b = bytearray(_b) if _b > 0 else None
def _prepare(romfs, net, script, argv):
    import os, sys, time, vfs, uctypes
    class RamFlash:
        def __init__(self):
            self.mem = memoryview(uctypes.bytearray_at(%(flash)d, %(blocks)d * 4096))
        def readblocks(self, n, buf, off=0):
            i = n * 4096 + off
            buf[:] = self.mem[i:i + len(buf)]
        def writeblocks(self, n, buf, off=0):
            i = n * 4096 + off
            self.mem[i:i + len(buf)] = buf
        def ioctl(self, op, arg):
            return {4: %(blocks)d, 5: 4096}.get(op, 0)
    dev = RamFlash()
    vfs.VfsLfs2.mkfs(dev, progsize=256)
    vfs.mount(vfs.VfsLfs2(dev, progsize=256), '/')
    chunk = bytearray(512)
    def copy(src, dst):
        for e in os.ilistdir(src):
            name = e[0]
            if e[1] == 0x4000:
                if not romfs:
                    os.mkdir(dst + name)
                    copy(src + name + '/', dst + name + '/')
                continue
            if romfs and name.endswith('.mpy'):
                continue  # bytecode stays in the ROMFS; the rest goes to the filesystem
            with open(src + name, 'rb') as f, open(dst + name, 'wb') as g:
                while True:
                    n = f.readinto(chunk)
                    if not n:
                        break
                    g.write(memoryview(chunk)[:n])
    copy('/rom/', '/')
    if romfs:
        sys.path[:] = ['', '.frozen', '/rom', '/rom/lib', '/lib']
        script = '/rom/' + script
    else:
        vfs.umount('/rom')
        sys.path[:] = ['', '.frozen', '/lib']
    os.chdir('/')
    sys.argv[:] = argv
    if net:
        import network
        lan = network.LAN()
        lan.active(True)
        lan.ipconfig(dhcp4=True)
        start = time.ticks_ms()
        while not lan.isconnected() or lan.ipconfig('addr4')[0] == '0.0.0.0':
            if time.ticks_diff(time.ticks_ms(), start) > 15000:
                raise OSError('no DHCP lease in 15 s')
            time.sleep_ms(10)
    with open(script) as f:
        return compile(f.read(), script, 'exec')
_code = _prepare(%(romfs)r, %(net)r, %(script)r, %(argv)r)
del _prepare
"""
# Second command: kept short, its text stays on the heap while the script runs.
RUN = r"""import gc
gc.collect()
try:
    exec(_code, {'__name__': '__main__', '__file__': %(file)r})
except SystemExit as e:
    _r = e.args[0] if e.args else 0
    if _r:
        raise Exception('%(mark)s' + (str(_r) if isinstance(_r, int) else '1 ' + str(_r)))
"""


def parse_size(text):
    """'96K' or '98304' -> bytes."""
    text = text.strip()
    if text[-1:] in "kK":
        return int(float(text[:-1]) * 1024)
    return int(text)


def firmware_path(given=None):
    """--firmware, else $BOARD_FIRMWARE; None when neither names a file."""
    path = given or os.environ.get("BOARD_FIRMWARE")
    return os.path.abspath(path) if path and os.path.isfile(path) else None


def image_tree(paths, script, into):
    """Lay PATHs and the script out in directory `into` as they appear on the board."""
    for p in list(paths) + [script]:
        if os.path.isdir(p):
            for name in os.listdir(p):
                src = os.path.join(p, name)
                if os.path.isdir(src):
                    shutil.copytree(src, os.path.join(into, name), dirs_exist_ok=True,
                                    ignore=shutil.ignore_patterns("*.pyc", "*.pyi", "__pycache__"))
                else:
                    shutil.copy(src, into)
        else:
            shutil.copy(p, into)


def _die_with_parent():
    try:  # Linux: QEMU gets SIGKILL when this process dies, even by SIGKILL
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)
    except Exception:
        pass


class Session:
    """One boot: QEMU's serial console as a raw REPL."""

    def __init__(self, qemu, firmware, image, deadline):
        cmd = [qemu, "-M", "mps2-an385", "-display", "none", "-monitor", "none", "-serial", "stdio",
               "-semihosting", "-nic", "user", "-kernel", firmware,
               "-device", "loader,file=%s,addr=0x%x,force-raw=on" % (image, ROMFS_AT)]
        self.deadline = deadline
        self.buf = bytearray()
        self.stdin = None  # while the script runs: our stdin, forwarded to the board's
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, preexec_fn=_die_with_parent)

    def read_until(self, marker, sink=None):
        """Bytes up to `marker` (which is consumed), handed to sink as they arrive;
        None when the deadline passed or QEMU ended first."""
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[:i + len(marker)]
                if sink:
                    sink(out)
                return out
            keep = len(marker) - 1  # the start of a marker may be at the end
            if sink and len(self.buf) > keep:
                sink(bytes(self.buf[:len(self.buf) - keep]))
                del self.buf[:len(self.buf) - keep]
            left = self.deadline - time.monotonic()
            watch = [self.proc.stdout] + ([self.stdin] if self.stdin is not None else [])
            ready = select.select(watch, [], [], left)[0] if left > 0 else ()
            if self.stdin is not None and self.stdin in ready:
                self.forward()
            if self.proc.stdout not in ready:
                if left <= 0:
                    return None
                continue
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                return None
            self.buf += chunk

    def forward(self):
        data = os.read(self.stdin.fileno(), 4096)
        if not data:
            self.stdin = None  # EOF: nothing more to forward
            return
        # plain text only: control characters would speak to the raw REPL itself
        self.proc.stdin.write(bytes(b for b in data if b >= 32 or b in b"\n\t"))
        self.proc.stdin.flush()

    def command(self, code, sink=None):
        """Run code in the raw REPL: (output, error text), or None without an answer."""
        self.proc.stdin.write(code.encode() + b"\x04")
        self.proc.stdin.flush()
        if self.read_until(b"OK") is None:
            return None
        out = self.read_until(b"\x04", sink)
        err = None if out is None else self.read_until(b"\x04>")
        if err is None:
            return None
        return out, err.decode("utf-8", "replace").replace("\r\n", "\n")

    def end(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        return self.proc.stderr.read().decode("utf-8", "replace").strip()


class Console:
    """The script's output to stdout, with the board's \\r\\n made \\n (also across chunks)."""

    def __init__(self, stream):
        self.stream = stream
        self.cr = False

    def __call__(self, data):
        if self.cr:
            data = b"\r" + data
        self.cr = data.endswith(b"\r")
        if self.cr:
            data = data[:-1]
        self.stream.write(data.replace(b"\r\n", b"\n"))
        self.stream.flush()


def run(script, args=(), files=(), firmware=None, heap=None, romfs=False, net=True, timeout=120.0,
        qemu="qemu-system-arm", out=None, err=None):
    """Boot, run the script, return its exit code (see the module's doc)."""
    out = out or sys.stdout.buffer
    err = err or sys.stderr
    firmware = firmware_path(firmware)
    if firmware is None:
        err.write("board: no firmware: give --firmware or set BOARD_FIRMWARE (README 'The emulated board')\n")
        return EXIT_NO_BOARD
    if not shutil.which(qemu):
        err.write("board: %s not found (Debian/Ubuntu: apt-get install qemu-system-arm)\n" % qemu)
        return EXIT_NO_BOARD
    name = os.path.basename(script)
    tmp = tempfile.mkdtemp(prefix="board-")
    try:
        tree = os.path.join(tmp, "tree")
        os.mkdir(tree)
        image_tree(files, script, tree)
        image = os.path.join(tmp, "image.romfs")
        if make_romfs(tree, image) > FLASH_AT - ROMFS_AT:
            err.write("board: the files do not fit the 4 MB ROMFS region\n")
            return EXIT_NO_BOARD
        board = Session(qemu, firmware, image, time.monotonic() + timeout)
        try:
            return _run(board, name, args, heap, romfs, net, Console(out), err)
        finally:
            qemu_err = board.end()
            if qemu_err and board.proc.returncode not in (0, -signal.SIGKILL):
                err.write("qemu: %s\n" % qemu_err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(board, name, args, heap, romfs, net, console, err):
    if board.read_until(b">>> ") is None:
        err.write("board: no REPL (the firmware did not start)\n")
        return EXIT_NO_BOARD
    board.proc.stdin.write(b"\x01")
    board.proc.stdin.flush()
    if board.read_until(b"raw REPL; CTRL-B to exit\r\n>") is None:
        err.write("board: no raw REPL\n")
        return EXIT_NO_BOARD
    res = board.command(PREPARE % dict(heap=heap or 0, flash=FLASH_AT, blocks=FLASH_BLOCKS, romfs=romfs,
                                       net=net, script=name, argv=[name] + list(args)))
    if res is None or res[1]:
        err.write("board: set-up failed: %s\n" % (res[1] if res else "no answer in time"))
        return EXIT_NO_BOARD
    board.stdin = sys.stdin if _readable(sys.stdin) else None
    res = board.command(RUN % dict(file=("/rom/" if romfs else "/") + name, mark=MARK), console)
    if res is None:
        console(bytes(board.buf))
        if board.proc.poll() is not None:
            err.write("board: the board stopped (QEMU exited with %d)\n" % board.proc.returncode)
            return EXIT_NO_BOARD
        err.write("board: time limit reached\n")
        return EXIT_TIMEOUT
    text = res[1]
    last = text.rstrip("\n").rsplit("\n", 1)[-1]
    if MARK in last:
        code, _, why = last.split(MARK, 1)[1].partition(" ")
        if why:
            err.write(why + "\n")
        return int(code)
    err.write(text)
    return 1 if text else 0


def _readable(stream):
    try:
        return stream is not None and not stream.isatty() and stream.fileno() >= 0
    except (OSError, ValueError):
        return False


def main(argv=None):
    doc = __doc__.split("\n\n")
    ap = argparse.ArgumentParser(description=doc[0], usage=doc[1].strip())
    ap.add_argument("--firmware", help="default: $BOARD_FIRMWARE")
    ap.add_argument("--files", nargs="+", action="extend", default=[], metavar="PATH")
    ap.add_argument("--romfs", action="store_true", help="run .mpy files in place from ROMFS")
    ap.add_argument("--heap", type=parse_size, metavar="SIZE", help="behave as a SIZE heap (16K-160K)")
    ap.add_argument("--timeout", type=float, default=120.0, metavar="S")
    ap.add_argument("--no-net", action="store_true", help="leave the Ethernet down")
    ap.add_argument("--qemu", default="qemu-system-arm")
    ap.add_argument("script")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    if a.heap is not None and not 16384 <= a.heap <= HEAP_MAX:
        ap.error("--heap must be between 16K and 160K")
    for p in a.files + [a.script]:
        if not os.path.exists(p):
            ap.error("no such file: " + p)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the finally clauses end QEMU
    return run(a.script, a.args, a.files, a.firmware, a.heap, a.romfs, not a.no_net, a.timeout, a.qemu)


if __name__ == "__main__":
    sys.exit(main())
