"""A virtual board for mpremote: the unix port behind a pseudo-terminal (CPython, host side).

    with VirtualBoard(root, micropython) as vb:
        subprocess.run(["mpremote", "connect", vb.port, "fs", "ls"])   # vb.port: /dev/pts/N

mpremote opens `port` (a pty) as if it were a board's USB serial port. Behind it the
unix-port `micropython` runs in its own pty with `root` as its current directory (the
board's filesystem: /main.py, /lib, ...) and the fake board modules first on its path.
Bytes are forwarded both ways. When the MicroPython process ends (machine.reset() in
the fake board, Ctrl-D soft reset, a crash) it is started again, "booting" like a board:
boot.py, then main.py if present, then the REPL (raw REPL for mpremote). `boots` counts
the starts; `log` keeps everything the board printed.

Soft reset: the unix port's REPL ends the process on Ctrl-D where a board soft-resets
(mpremote sends one in the raw REPL when it connects). An exit with code 0 is therefore
turned into what a board does: "soft reboot", boot.py, and back into the raw REPL
(main.py is skipped, as boards skip it after a soft reset from the raw REPL). Any
other exit (99 = the fake machine.reset()) is a hard reset: boot.py, main.py, REPL.
"""
import os
import pty
import select
import subprocess
import threading
import time
import termios
import tty
import fcntl

HERE = os.path.dirname(os.path.abspath(__file__))
BOOT = os.path.join(HERE, "vboard_boot.py")


def _controlling_tty():
    """In the child: own session with the pty as controlling terminal, so that Ctrl-C
    (which mpremote sends to stop the running program) becomes SIGINT ->
    KeyboardInterrupt while a script runs, as a board's USB/UART driver does."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class VirtualBoard:
    def __init__(self, root, micropython, heap="192K", env=None):
        self.root = str(root)
        self.micropython = micropython
        self.heap = heap
        self.env = dict(os.environ, MICROPYPATH=os.pathsep.join([HERE, "", "lib", ".frozen"]))
        self.env.update(env or {})
        self.boots = 0
        self.log = bytearray()
        self.exit_codes = []
        self._stop = False
        self.host_fd, slave = pty.openpty()  # mpremote's side
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        self._host_slave = slave  # kept open so the pty survives mpremote reconnecting
        self.proc = None
        self.board_fd = None

    def _boot(self, soft=False):
        master, slave = pty.openpty()
        # a terminal as the unix port expects (ISIG: Ctrl-C -> SIGINT), but no output
        # processing: a board's REPL sends its bytes as they are ("\r\n", not "\r\r\n")
        attrs = termios.tcgetattr(slave)
        attrs[1] &= ~termios.OPOST
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        env = dict(self.env, VBOARD_SKIP_MAIN="1") if soft else self.env
        self._enter_raw = soft
        self.proc = subprocess.Popen([self.micropython, "-X", "heapsize=" + self.heap, "-i", BOOT],
                                     cwd=self.root, env=env, stdin=slave, stdout=slave,
                                     stderr=slave, close_fds=True, preexec_fn=_controlling_tty)
        os.close(slave)
        self.board_fd = master
        self.boots += 1

    def start(self):
        self._boot()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()
        return self

    def _pump(self):
        while not self._stop:
            fds = [self.host_fd] + ([self.board_fd] if self.board_fd is not None else [])
            ready, _, _ = select.select(fds, [], [], 0.05)
            if self.host_fd in ready:
                data = os.read(self.host_fd, 4096)
                if self.board_fd is not None:
                    os.write(self.board_fd, data)
            if self.board_fd is not None and self.board_fd in ready:
                try:
                    data = os.read(self.board_fd, 4096)
                except OSError:  # EIO: the board process is gone
                    data = b""
                if data:
                    self.log += data
                    os.write(self.host_fd, data)
                    if self._enter_raw and self.log.endswith(b">>> "):
                        self._enter_raw = False
                        os.write(self.board_fd, b"\r\x01")  # back into the raw REPL
                    continue
                self._reboot()
            elif self.proc is not None and self.proc.poll() is not None:
                self._reboot()

    def _reboot(self):
        self.proc.wait()
        self.exit_codes.append(self.proc.returncode)
        self._drain()
        os.close(self.board_fd)
        self.board_fd = None
        if not self._stop:
            soft = self.proc.returncode == 0
            if soft:
                os.write(self.host_fd, b"soft reboot\r\n")
            else:
                time.sleep(0.1)  # a board takes a moment to come back from a hard reset
            self._boot(soft)

    def _drain(self):
        """What the process printed just before it ended (it may end between the
        pump's select and its poll): forwarded, as a board's last bytes would be."""
        while select.select([self.board_fd], [], [], 0)[0]:
            try:
                data = os.read(self.board_fd, 4096)
            except OSError:  # EIO: nothing left
                return
            if not data:
                return
            self.log += data
            os.write(self.host_fd, data)

    def close(self):
        self._stop = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._thread.join(2)
        for fd in (self.host_fd, self._host_slave, self.board_fd):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
