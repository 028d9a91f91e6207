"""hashlib.sha1 in pure Python, for the MicroPython WebAssembly port (its hashlib has only
sha256). tools/mp32/device.mjs installs this module as sys.modules["hashlib"] before the
library is imported; the library needs sha1 once per connection, for the websocket
handshake's Sec-WebSocket-Accept check (lib/deepstream/ws_handshake.py).

Runs on CPython and MicroPython (host_tests/test_firmware_wasm.py compares it with
CPython's hashlib and runs it on the 32-bit VM). Words are kept as 16-bit halves, so it
allocates almost nothing on a 32-bit VM (see sha1). The builtin sha256 stays available.
"""

try:  # keep the port's own sha256 reachable through the replaced hashlib
    import hashlib as _hashlib

    sha256 = _hashlib.sha256
except (ImportError, AttributeError):
    pass

_M16 = 0xFFFF
# round constants as (high, low) 16-bit halves
_K = ((0x5A82, 0x7999), (0x6ED9, 0xEBA1), (0x8F1B, 0xBCDC), (0xCA62, 0xC1D6))
_IV = (0x6745, 0x2301, 0xEFCD, 0xAB89, 0x98BA, 0xDCFE, 0x1032, 0x5476, 0xC3D2, 0xE1F0)


class sha1:
    """The state is ten 16-bit halves (high, low of h0..h4) and the message schedule two
    lists of 16-bit halves: every intermediate value stays below 2**30, a small int on a
    32-bit MicroPython (31-bit small ints), so hashing allocates no long ints. (With plain
    32-bit words each operation allocates: about 70 KB of garbage per handshake, all made
    within one step of the port's asyncio, where this port cannot collect.)"""

    digest_size = 20
    block_size = 64
    name = "sha1"

    def __init__(self, data=None):
        self._h = list(_IV)
        self._buf = b""
        self._len = 0
        if data:
            self.update(data)

    def update(self, data):
        data = bytes(data)
        self._len += len(data)
        buf = self._buf + data
        i = 0
        while len(buf) - i >= 64:
            _block(self._h, buf, i)
            i += 64
        self._buf = buf[i:]

    def digest(self):
        h = list(self._h)
        n = self._len
        tail = self._buf + b"\x80" + bytes((55 - n) % 64) + (n * 8).to_bytes(8, "big")
        for i in range(0, len(tail), 64):
            _block(h, tail, i)
        return bytes(b for x in h for b in (x >> 8, x & 0xFF))

    def hexdigest(self):
        return "".join("%02x" % x for x in self.digest())

    def copy(self):
        other = sha1()
        other._h = list(self._h)
        other._buf = self._buf
        other._len = self._len
        return other


def _block(h, b, off):
    wh = [0] * 80
    wl = [0] * 80
    for t in range(16):
        j = off + 4 * t
        wh[t] = (b[j] << 8) | b[j + 1]
        wl[t] = (b[j + 2] << 8) | b[j + 3]
    for t in range(16, 80):  # w[t] = rotl1(w[t-3] ^ w[t-8] ^ w[t-14] ^ w[t-16])
        xh = wh[t - 3] ^ wh[t - 8] ^ wh[t - 14] ^ wh[t - 16]
        xl = wl[t - 3] ^ wl[t - 8] ^ wl[t - 14] ^ wl[t - 16]
        wh[t] = ((xh << 1) | (xl >> 15)) & _M16
        wl[t] = ((xl << 1) | (xh >> 15)) & _M16
    ah, al, bh, bl, ch, cl, dh, dl, eh, el = h
    for t in range(80):
        if t < 20:
            fh = (bh & ch) | ((bh ^ _M16) & dh)
            fl = (bl & cl) | ((bl ^ _M16) & dl)
        elif t < 40 or t >= 60:
            fh = bh ^ ch ^ dh
            fl = bl ^ cl ^ dl
        else:
            fh = (bh & ch) | (bh & dh) | (ch & dh)
            fl = (bl & cl) | (bl & dl) | (cl & dl)
        kh, kl = _K[t // 20]
        # temp = rotl5(a) + f + e + k + w[t]
        lo = (((al << 5) | (ah >> 11)) & _M16) + fl + el + kl + wl[t]
        hi = ((((ah << 5) | (al >> 11)) & _M16) + fh + eh + kh + wh[t] + (lo >> 16)) & _M16
        eh, el = dh, dl
        dh, dl = ch, cl
        ch, cl = ((bh >> 2) | (bl << 14)) & _M16, ((bl >> 2) | (bh << 14)) & _M16  # rotl30(b)
        bh, bl = ah, al
        ah, al = hi, lo & _M16
    _add(h, 0, ah, al)
    _add(h, 2, bh, bl)
    _add(h, 4, ch, cl)
    _add(h, 6, dh, dl)
    _add(h, 8, eh, el)


def _add(h, i, xh, xl):
    lo = h[i + 1] + xl
    h[i] = (h[i] + xh + (lo >> 16)) & _M16
    h[i + 1] = lo & _M16
