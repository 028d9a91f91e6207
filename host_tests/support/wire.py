"""What a client sent on the wire, from the bytes a recording proxy kept
(support/tcpproxy.py: TcpProxy(port, record=True).streams, one per connection).

    frames(stream)                   -> [(opcode, payload), ...]   unmasked, after the upgrade
    sent(stream, "text")             -> ["C|CHR|ws://...", "A|REQ|{...}", "E|S|a", ...]
    sent(stream, "binary")           -> [{"topic": 4, "action": 3, "fields": {...}}, ...]

Text messages in the documentation notation (`|` for 0x1f), one per message however
they were framed; binary ones as the server's own decoder reads them (support/pbdecode.py).
"""

try:
    from .pbdecode import decode_frames
except ImportError:  # imported as a top-level module (host_tests/support on sys.path)
    from pbdecode import decode_frames


def frames(stream):
    """(opcode, payload) of every whole websocket frame the client sent after its
    upgrade request, payloads unmasked."""
    stream = bytes(stream)
    i = stream.find(b"\r\n\r\n")
    if i < 0:
        return []
    i += 4
    out = []
    while i + 2 <= len(stream):
        n, j = stream[i + 1] & 0x7F, i + 2
        if n >= 126:
            size = 2 if n == 126 else 8
            n, j = int.from_bytes(stream[j:j + size], "big"), j + size
        key = stream[j:j + 4] if stream[i + 1] & 0x80 else bytes(4)
        j += 4 if stream[i + 1] & 0x80 else 0
        if j + n > len(stream):
            break  # a frame still on its way
        out.append((stream[i] & 0x0F, bytes(b ^ key[k & 3] for k, b in enumerate(stream[j:j + n]))))
        i = j + n
    return out


def sent(stream, protocol):
    """The deepstream messages in `stream` (text and binary frames; control frames left out)."""
    payloads = [payload for op, payload in frames(stream) if op in (1, 2)]
    if protocol == "binary":
        return decode_frames(payloads)
    return [m.replace("\x1f", "|") for p in payloads for m in p.decode().split("\x1e") if m]
