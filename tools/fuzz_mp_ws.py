"""The `ws` target of tools/fuzz_mp.py (see there): websocket byte streams."""
from fuzz_mp import Rng, fail, report


def server_frame(rng, op, payload, fin=True):
    n = len(payload)
    b0 = (0x80 if fin else 0) | op
    if n < 126 and rng.below(8):
        head = bytes((b0, n))
    elif n < 65536 and rng.below(4):
        head = bytes((b0, 126, n >> 8, n & 0xFF))
    else:
        head = bytes((b0, 127)) + n.to_bytes(8, "big")
    return head + payload


def ws_stream(rng, max_size):
    out = []
    expect = []
    for _ in range(1 + rng.below(4)):
        kind = rng.below(8)
        size = rng.pick((0, 1, 5, 125, 126, 300, max_size, max_size + 1))
        if kind < 3:
            text = ("ab\u00e9" * (size // 4 + 1))[:max(0, size // 2)]
            data = text.encode()
            if kind == 2 and len(data) > 2:  # fragmented
                k = len(data) // 2
                out.append(server_frame(rng, 1, data[:k], False))
                out.append(server_frame(rng, 0, data[k:]))
            else:
                out.append(server_frame(rng, 1, data))
            expect.append(("text", text) if len(data) <= max_size else "too-large")
        elif kind == 3:
            data = bytes(size % 126)
            out.append(server_frame(rng, 9, data))
            expect.append(("ping", data))
        elif kind == 4:
            data = bytes(size % 20)
            out.append(server_frame(rng, 10, data))
            expect.append(("pong", data))
        elif kind == 5:
            out.append(server_frame(rng, 8, b"\x03\xe8bye"))
            expect.append(("close", 1000, "bye"))
        else:
            data = bytes(size)
            out.append(server_frame(rng, 2, data))
            expect.append(("binary", data) if size <= max_size else "too-large")
    return b"".join(out), expect


def ws_mutate(rng, data):
    for _ in range(1 + rng.below(3)):
        n = len(data)
        op = rng.below(5)
        i = rng.below(n + 1)
        if op < 2 and n:
            i %= n
            b = data[i] ^ (1 << rng.below(8)) if op == 0 else rng.below(256)
            data = data[:i] + bytes((b,)) + data[i + 1:]
        elif op == 2:
            data = data[:i] + bytes((rng.below(256),)) * (1 + rng.below(4)) + data[i:]
        elif op == 3 and n:
            data = data[:i] + data[i + 1 + rng.below(6):]
        else:
            data = data[:i]
    return data


def drain(ws, events):
    """next_event() until None; MessageTooLarge recorded. Returns False on a fatal error."""
    from deepstream.ws import MessageTooLarge, WebSocketError
    while True:
        try:
            ev = ws.next_event()
        except MessageTooLarge:
            events.append("too-large")
            continue
        except WebSocketError:
            return False
        if ev is None:
            return True
        events.append(ev)


def run_ws(seed, count):
    from deepstream.ws import WebSocket
    rng = Rng(seed)
    max_size = 512
    ws = WebSocket(max_size, 128)
    resets = 0
    for n in range(count):
        data, expect = ws_stream(rng, max_size)
        mutated = rng.below(4) != 0
        if mutated:
            data = ws_mutate(rng, data)
        events = []
        i = 0
        ok = True
        try:
            while i < len(data) and ok:
                k = 1 + rng.below(rng.pick((2, 16, 600)))
                ws.receive_data(data[i:i + k])
                i += k
                ok = drain(ws, events)
        except Exception as err:
            return fail("ws", seed, n, data, "%s: %s" % (type(err).__name__, err))
        if len(ws._buf) > max_size + 16 + 600:  # a whole frame + one read (chunks <= 600)
            return fail("ws", seed, n, data, "receive buffer grew to %d" % len(ws._buf))
        if not mutated and events != expect:
            return fail("ws", seed, n, data, "decoded %r, expected %r" % (events, expect))
        at_boundary = ok and ws._start == ws._end and not ws._skip and not ws._frag_op and not ws._discard
        if at_boundary and n % 64 == 63:
            ws.receive_data(server_frame(rng, 1, b"still-ok"))
            events = []
            if not drain(ws, events) or events != [("text", "still-ok")]:
                return fail("ws", seed, n, data, "valid frame after the input gave %r" % (events,))
        if not at_boundary:  # a fatal error or a frame cut short: the driver drops the link
            ws = WebSocket(max_size, 128)
            resets += 1
    return report("ws", seed, count, 0, resets)
