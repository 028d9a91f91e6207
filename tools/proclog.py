"""The output lines of a device process, and waiting for them.

Shared by host_tests/test_firmware.py's Device (the firmware on the unix port),
host_tests/support/dscluster.py's ClusterDevice and tools/mp32_device.py's WasmDevice
(the firmware on the 32-bit VM): a reader thread (_read here, or the class's own)
appends (monotonic time, text) to self.lines under self.cond and sets
self.reader_done once the process's output has ended.
"""
import re
import threading
import time


class LineLog:
    def read_lines(self):
        """Start the reader thread on self.proc's stdout (text mode)."""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append((time.monotonic(), line.rstrip("\n")))
                self.cond.notify_all()
        with self.cond:
            self.reader_done = True
            self.cond.notify_all()

    def output(self):
        with self.cond:
            return "\n".join(t for _, t in self.lines)

    def wait_line(self, pattern, timeout=10.0, after=0.0):
        """The first output line matching the regex (seen after monotonic time `after`)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, text in self.lines:
                    if t >= after and rx.search(text):
                        return text
                left = deadline - time.monotonic()
                if left <= 0 or self.reader_done:
                    raise AssertionError("no line matching %r within %.1fs; output:\n%s"
                                         % (pattern, timeout, self.output()[-4000:]))
                self.cond.wait(min(left, 0.2))

    def matching(self, pattern):
        rx = re.compile(pattern)
        with self.cond:
            return [text for _, text in self.lines if rx.search(text)]
