"""A byte ring of whole messages: the queue of what waits to be sent.

One bytearray of fixed size, created once; messages are stored back to back
as the codec encoded them, oldest first: text messages end with 0x1e;
binary ones (framed=True) are whole websocket frames, unmasked, whose header
gives their length. So the heap cost is the size given plus a few words,
however many messages it holds.

The oldest part may be *kept*: messages already handed to the socket that
confirm_events still guards (connection.py), followed by the *queued* ones:

    head -> [ kept: sent, unconfirmed ][ queued: not sent yet ] <- tail

Offsets wrap around the end of the buffer; a message may straddle it. The
hot paths (put, take, drop_oldest) copy at most two slices and scan for one
separator; the rest (filtering, insertion at the front, searching) is for
reconnects and timeouts and walks the messages one by one.
"""
MS = b"\x1e"


class Ring:
    def __init__(self, size, framed=False):
        self.buf = bytearray(size)
        self.size = size
        self.framed = framed
        self.head = 0  # index of the oldest byte
        self.used = 0  # bytes stored
        self.kept = 0  # of which sent and kept (they come first)
        self.grow_tried = False  # offline.py: made smaller than asked, grown once per outage at most

    def free(self):
        return self.size - self.used

    def queued(self):
        return self.used - self.kept

    # ---- hot paths ----------------------------------------------------------

    def put(self, data, at=None):
        """Store data (whole messages) at index `at` (default: the tail);
        the caller has made room."""
        size = self.size
        i = (self.head + self.used) % size if at is None else at
        n = len(data)
        first = size - i
        if n <= first:
            self.buf[i:i + n] = data
        else:
            mv = memoryview(data)
            self.buf[i:] = mv[:first]
            self.buf[:n - first] = mv[first:]
        if at is None:
            self.used += n

    def _length(self, i):
        """Length (with its 0x1e) of the message starting at index i."""
        if self.framed:
            return self._frame_length(i)
        end = self.buf.find(MS, i)
        if end >= 0:
            return end - i + 1
        return self.size - i + self.buf.find(MS) + 1  # it wraps around the end

    def _frame_length(self, i):
        # a websocket frame's header: 2 bytes (+2 for 126 and more), the key gap, the payload
        buf = self.buf
        size = self.size
        n = buf[(i + 1) % size] & 0x7F
        if n == 126:
            return 8 + ((buf[(i + 2) % size] << 8) | buf[(i + 3) % size])
        if n == 127:  # 8 bytes of length; a ring holds far less than 2**32 bytes: the low 4 count
            return 14 + int.from_bytes(bytes(buf[(i + k) % size] for k in range(6, 10)), "big")
        return 6 + n

    def drop_oldest(self):
        """Forget the oldest message; returns (its length, whether it was queued)."""
        n = self._length(self.head)
        self.head = (self.head + n) % self.size
        self.used -= n
        if self.kept:
            self.kept -= n
            return n, False
        return n, True

    def take(self, out, at, room, keep):
        """Copy the oldest queued messages that fit into out[at:at + room],
        whole ones only; with keep they stay here as kept, else they are
        gone. Returns the bytes copied (0 if the oldest does not fit)."""
        size = self.size
        start = (self.head + self.kept) % size
        n = min(room, self.queued())
        if self.framed:
            return self._take_frames(out, at, start, n, keep)
        end = start + n
        buf = self.buf
        if end <= size:
            last = buf.rfind(MS, start, end)
            n = last + 1 - start if last >= 0 else 0
            out[at:at + n] = memoryview(buf)[start:start + n]
        else:  # the queued bytes wrap: the part at the front of buf comes second
            last = buf.rfind(MS, 0, end - size)
            if last >= 0:
                n = size - start + last + 1
                out[at:at + size - start] = memoryview(buf)[start:]
                out[at + size - start:at + n] = memoryview(buf)[:last + 1]
            else:
                last = buf.rfind(MS, start)
                n = last + 1 - start if last >= 0 else 0
                out[at:at + n] = memoryview(buf)[start:start + n]
        if n:
            if keep:
                self.kept += n
            else:
                self.head = (self.head + n) % size
                self.used -= n
        return n

    def _take_frames(self, out, at, start, room, keep):
        # whole frames, found by walking their headers
        n = 0
        while n < room:
            m = self._frame_length((start + n) % self.size)
            if n + m > room:
                break
            n += m
        if n:
            first = min(n, self.size - start)
            out[at:at + first] = memoryview(self.buf)[start:start + first]
            if first < n:
                out[at + first:at + n] = memoryview(self.buf)[:n - first]
            if keep:
                self.kept += n
            else:
                self.head = (self.head + n) % self.size
                self.used -= n
        return n

    def release(self, n):
        """The first n kept bytes are confirmed: forget them."""
        n = min(n, self.kept)
        self.head = (self.head + n) % self.size
        self.used -= n
        self.kept -= n

    # ---- rare paths: reconnects, timeouts -------------------------------------

    def peek(self, n):
        """The first n bytes of the oldest message (or fewer)."""
        return self._read(self.head, min(n, self.used))

    def _read(self, i, n):
        size = self.size
        if i + n <= size:
            return bytes(self.buf[i:i + n])
        return bytes(self.buf[i:]) + bytes(self.buf[:i + n - size])

    def messages(self):
        """Yield (message bytes, queued) oldest first (a copy of each)."""
        i = self.head
        left = self.used
        kept = self.kept
        while left > 0:
            n = self._length(i)
            yield self._read(i, n), kept <= 0
            kept -= n
            left -= n
            i = (i + n) % self.size

    def filter(self, keep):
        """Keep only the messages for which keep(message, queued) is true,
        in order, compacting in place. Returns how many were removed."""
        size = self.size
        read = write = self.head
        left = self.used
        kept = self.kept
        removed = 0
        while left > 0:
            n = self._length(read)
            msg = self._read(read, n)
            queued = kept <= 0
            if keep(msg, queued):
                if write != read:
                    self.put(msg, write)
                write = (write + n) % size
            else:
                removed += 1
                self.used -= n
                if not queued:
                    self.kept -= n
            kept -= n
            left -= n
            read = (read + n) % size
        return removed

    def grow(self, size):
        """Move the messages into a new, larger buffer (oldest at index 0).
        Raises MemoryError, leaving everything as it was, if there is no room."""
        buf = bytearray(size)
        first = min(self.used, self.size - self.head)
        buf[:first] = memoryview(self.buf)[self.head:self.head + first]
        buf[first:self.used] = memoryview(self.buf)[:self.used - first]
        self.buf = buf
        self.size = size
        self.head = 0

    def requeue(self):
        """Every kept message is queued again (to be sent once more)."""
        self.kept = 0

    def insert_front(self, data):
        """Put data (whole messages, len <= free()) before the queued ones:
        the queued bytes move back to make room."""
        size = self.size
        n = len(data)
        q = self.queued()
        start = (self.head + self.kept) % size
        pos = q
        while pos > 0:  # move the queued bytes n further, last chunk first
            step = min(pos, 256)
            pos -= step
            self.put(self._read((start + pos) % size, step), (start + pos + n) % size)
        self.put(data, start)
        self.used += n
