"""The few binary-protocol messages the benchmark's own peers write and read.

Shared by the binary floor (mp_floor.py, MicroPython) and the raw websocket
peer (rawws.py, CPython); not the library. Wire: /work/shared/protocol-binary.md
§1-§2 (docs/PROTOCOL.md): a payload is a length-delimited `Message {topic = 2,
message = 3}` whose field 3 is the topic's message, action first.

    message(EVENT, 3, field(7, b"news"), field(3, b"1"))   # EVENT SUBSCRIBE {names, cid}
    kind(payload)   # (topic, action) of a small message, (0, 0) for another
"""
CONNECTION, AUTH, EVENT, RECORD, RPC = 2, 3, 4, 5, 6


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field(number, value):
    """A length-delimited field (bytes), or a varint one (int >= 0)."""
    if isinstance(value, int):
        return bytes((number << 3,)) + varint(value)
    return bytes(((number << 3) | 2,)) + varint(len(value)) + value


def message(topic, action, *fields):
    """One message as a websocket payload; fields in ascending field order."""
    body = b"\x08" + bytes((action,)) + b"".join(fields)
    wrapper = b"\x10" + bytes((topic,)) + b"\x1a" + varint(len(body)) + body
    return varint(len(wrapper)) + wrapper


def kind(payload):
    """(topic, action) of a message whose lengths are one byte each (every
    message the peers wait for); (0, 0) for another."""
    if len(payload) > 6 and payload[1] == 0x10 and payload[3] == 0x1A and payload[5] == 0x08:
        return payload[2], payload[6]
    return 0, 0


def varint_at(buf, i):
    """(value, index after it) of the varint at buf[i]."""
    value = shift = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def find_field(payload, key):
    """The value of the first field with this one-byte key in a small
    message (bytes for a length-delimited one, an int for a varint one), or
    None. A plain scan: good enough for the messages the peers wait for."""
    i = 7  # after LEN 10 TOPIC 1a BODYLEN 08 ACTION
    while i < len(payload):
        k = payload[i]
        value, j = varint_at(payload, i + 1)
        if k & 7 == 2:
            if k == key:
                return bytes(payload[j:j + value])
            j += value
        elif k == key:
            return value
        i = j
    return None
