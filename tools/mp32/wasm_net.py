"""asyncio.open_connection for the MicroPython WebAssembly port, over node's `net`.

The port has no socket module. tools/mp32/device.mjs registers a JS module `wasm_net_js`
(TCP connections made with node's net.connect) and installs this module's
open_connection as asyncio.open_connection before the app starts. The streams offer
what lib/deepstream/aio.py uses of MicroPython's asyncio.Stream: read(n), readinto(buf),
write(data), drain(), close(), wait_closed(), and `s` (None: there is no socket object,
so aio.py does not set TCP_NODELAY; node's side sets it).

Bytes cross the JS boundary as hex text (a Python str reaches JS as a copied string; a
bytes object would become a proxy that keeps it alive until the JS garbage collector
runs). Hex, not base64: bytes.hex() and bytes.fromhex() are built in, while this port's
binascii is a frozen pure-Python module. JS promises are awaited directly (the port's
asyncio resumes the task when they settle); they never reject: errors come back as text
starting with "!".

Plain TCP only: ssl is refused (the tests use ws://).
"""
import wasm_net_js as _js

READ_MAX = 4096


class Stream:
    def __init__(self, cid):
        self.cid = cid
        self.s = None

    def _take(self, n):
        """Hex of up to n buffered bytes, "" at end of stream, None if nothing yet."""
        r = _js.take(self.cid, n)
        if r is not None and r[:1] == "!":
            raise OSError(r[1:])
        return r

    async def read(self, n=-1):
        if n is None or n < 0:
            n = READ_MAX
        while True:
            r = self._take(n)
            if r is not None:
                return bytes.fromhex(r) if r else b""
            await _js.readable(self.cid)

    async def readinto(self, buf):
        while True:
            r = self._take(len(buf))
            if r is not None:
                break
            await _js.readable(self.cid)
        if not r:
            return 0
        data = bytes.fromhex(r)
        n = len(data)
        buf[:n] = data
        return n

    def write(self, data):
        if data:
            err = _js.write(self.cid, data.hex())
            if err:
                raise OSError(err)

    async def drain(self):
        err = _js.error(self.cid)
        if err:
            raise OSError(err)
        if _js.backlog(self.cid) > 16384:  # let node's socket empty its write buffer
            await _js.drained(self.cid)

    def close(self):
        _js.close(self.cid)

    async def wait_closed(self):
        await _js.closed(self.cid)


async def open_connection(host, port, ssl=None):
    if ssl:
        raise OSError("wasm_net: no TLS (ws:// only)")
    r = await _js.connect(host, port)
    if isinstance(r, str):
        raise OSError(r)
    s = Stream(r)
    return s, s
