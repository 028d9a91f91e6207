"""Durable outbox: events emitted while offline, kept in a small append-only
file so they survive a reset or power loss and go out after the next login.

File format: a sequence of records, each
    2 bytes  payload length (big endian)
    4 bytes  CRC-32 of the payload (big endian)
    payload  one complete deepstream message (UTF-8, with its 0x1e)
A record cut short by a power loss, or one whose CRC does not match, ends
the file: it and anything after it are skipped (and reported), everything
before it is kept. One append per queued message (one flash write, no
rewrite); the file is deleted once its messages were handed to the socket.
"""
import os

try:
    from binascii import crc32
except ImportError:  # ports built without binascii.crc32
    def crc32(data, crc=0):
        crc ^= 0xFFFFFFFF
        for b in data:
            crc ^= b
            for _ in range(8):
                crc = (crc >> 1) ^ (0xEDB88320 & -(crc & 1))
        return crc ^ 0xFFFFFFFF

_HEADER = 6


class Outbox:
    def __init__(self, path, max_bytes):
        self.path = path
        self.max_bytes = max_bytes
        self.size = self._file_size()

    def _file_size(self):
        try:
            return os.stat(self.path)[6]
        except OSError:
            return 0

    def append(self, message):
        """Store one message. Returns False (and stores nothing) when full."""
        payload = message.encode()
        n = len(payload)
        if n > 0xFFFF or self.size + _HEADER + n > self.max_bytes:
            return False
        crc = crc32(payload) & 0xFFFFFFFF
        header = bytes((n >> 8, n & 0xFF, crc >> 24, (crc >> 16) & 0xFF, (crc >> 8) & 0xFF, crc & 0xFF))
        with open(self.path, "ab") as f:
            f.write(header + payload)  # one write: a torn tail is caught by length/CRC
        self.size += _HEADER + n
        return True

    def load(self):
        """Return (messages, skipped_bytes): the intact records in order, and
        how many bytes at the end were torn or corrupt."""
        messages = []
        try:
            f = open(self.path, "rb")
        except OSError:
            return messages, 0
        good = 0
        with f:
            while True:
                header = f.read(_HEADER)
                if len(header) < _HEADER:
                    break
                n = (header[0] << 8) | header[1]
                crc = (header[2] << 24) | (header[3] << 16) | (header[4] << 8) | header[5]
                payload = f.read(n)
                if len(payload) < n or (crc32(payload) & 0xFFFFFFFF) != crc:
                    break
                try:
                    messages.append(payload.decode())
                except UnicodeError:
                    break
                good += _HEADER + n
        return messages, self._file_size() - good

    def clear(self):
        try:
            os.remove(self.path)
        except OSError:
            pass
        self.size = 0
