"""The command-line client (`python -m deepstream`, or an installed `deepstream`) in a
subprocess, for end-to-end tests.

    r = run_cli(["pub", "news", "1"], url=srv.url)       # CompletedProcess (text)
    with CliProcess(["sub", "news"], url=srv.url) as p:
        p.next_line()                                    # the next stdout line, as JSON
        p.interrupt()                                    # SIGINT; -> exit code

Commands run with lib/ on PYTHONPATH, unless `cmd` names another program (an installed
`deepstream`: then nothing is added to the path).
"""
import json
import os
import queue
import signal
import subprocess
import sys
import threading

from .dsserver import REPO, die_with_parent

LIB = os.path.join(REPO, "lib")


def cli_env(url=None, env=None, lib=True):
    e = dict(os.environ)
    for name in ("DEEPSTREAM_URL", "DEEPSTREAM_AUTH", "PYTHONPATH"):
        e.pop(name, None)
    if lib:
        e["PYTHONPATH"] = LIB
    e["PYTHONUNBUFFERED"] = "1"
    if url is not None:
        e["DEEPSTREAM_URL"] = url
    e.update(env or {})
    return e


def cli_cmd(cmd=None):
    return list(cmd) if cmd else [sys.executable, "-m", "deepstream"]


def run_cli(args, url=None, env=None, cmd=None, timeout=30):
    return subprocess.run(cli_cmd(cmd) + list(args), env=cli_env(url, env, not cmd), capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          preexec_fn=die_with_parent)


class CliProcess:
    def __init__(self, args, url=None, env=None, cmd=None):
        self.proc = subprocess.Popen(cli_cmd(cmd) + list(args), env=cli_env(url, env, not cmd),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, preexec_fn=die_with_parent)
        self._lines = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.stderr = ""

    def _read(self):
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def next_line(self, timeout=10.0):
        """The next stdout line parsed as JSON; AssertionError if none comes in time."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no output line within %.0fs (stderr so far: %r)"
                                 % (timeout, self._peek_stderr()))
        if line is None:
            raise AssertionError("the command ended (exit %s, stderr %r)" % (self.wait(), self.stderr))
        return json.loads(line)

    def _peek_stderr(self):
        return "(read at exit)" if self.proc.poll() is None else self.stderr

    def wait(self, timeout=10.0):
        """Exit code once it ended; stderr is then in .stderr."""
        try:
            self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        self.stderr = self.proc.stderr.read()
        self._reader.join(timeout=2)
        return self.proc.returncode

    def interrupt(self, sig=signal.SIGINT, timeout=10.0):
        self.proc.send_signal(sig)
        return self.wait(timeout)

    def rest(self):
        """The stdout lines left after exit, parsed."""
        out = []
        while True:
            line = self._lines.get(timeout=2)
            if line is None:
                return out
            out.append(json.loads(line))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
        self.wait()
