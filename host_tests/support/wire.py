"""What a client put on the wire, read without the library under test: binary
payloads with the server's own protobuf package (support/pbdecode.py), text ones by
splitting them. From the payloads a TcpProxy(keep_sent=True) kept per connection:

    sent(payloads, "text")       -> ["C|CHR|ws://...", "A|REQ|{...}", "E|S|a", ...]
    sent(payloads, "binary")     -> [{"topic": 4, "action": 3, "fields": {...}}, ...]

(text in the documentation notation, `|` for 0x1f, one entry per message however
they were framed). The record messages, in one shape for both protocols:

    tap = WireTap(server, "binary")     # a TcpProxy in front of the server's endpoint
    client = Client(tap.url, ...)       # (tap.proxy: cut(), reject(), restore() ...)
    tap.sent() -> [{"action": "PATCH", "name": "r/1", "version": 3, "path": "a.b",
                    "write_ack": False, "names": None, "data": 1}, ...]
    tap.close()

action: the binary protocol's RECORD action name (/work/shared/protocol-binary.md
§1.4); a text message gets the name of the binary action it stands for (R|CU with a
path is CREATEANDPATCH, R|P of U is ERASE). version is an int (or None), path a string (or None),
names a list (binary subscriptions; text has one name per message).
"""
import json
from urllib.parse import urlsplit

try:
    from .pbdecode import decode_frames
    from .tcpproxy import TcpProxy
except ImportError:  # imported as a top-level module (host_tests/support on sys.path)
    from pbdecode import decode_frames
    from tcpproxy import TcpProxy

RECORD = 5
ACTIONS = (
    "UNKNOWN", "ERROR", "NOTIFY", "READ", "READ_RESPONSE", "HEAD", "HEAD_RESPONSE", "HEAD_BULK",
    "HEAD_RESPONSE_BULK", "DELETE", "DELETE_SUCCESS", "DELETE_BULK", "DELETE_BULK_SUCCESS", "DELETED",
    "WRITE_ACKNOWLEDGEMENT", "CREATE", "CREATEANDUPDATE", "CREATEANDPATCH", "UPDATE", "PATCH", "ERASE",
    "SUBSCRIBEANDHEAD", "SUBSCRIBEANDREAD", "SUBSCRIBECREATEANDREAD", "SUBSCRIBECREATEANDUPDATE",
    "SUBSCRIBE", "UNSUBSCRIBE", "LISTEN", "UNLISTEN", "LISTEN_ACCEPT", "LISTEN_REJECT",
)
# text action -> the binary action it stands for, and the index of its path (None: no path)
TEXT = {"CR": ("SUBSCRIBECREATEANDREAD", None), "U": ("UPDATE", None), "P": ("PATCH", 4),
        "SN": ("READ", None), "HD": ("HEAD", None), "D": ("DELETE", None), "US": ("UNSUBSCRIBE", None)}
WRITE_ACK = '{"writeSuccess":true}'


def sent(payloads, protocol):
    """The deepstream messages in one connection's client payloads."""
    if protocol == "binary":
        return decode_frames(payloads)
    return [m.replace("\x1f", "|") for p in payloads for m in p.decode().split("\x1e") if m]


class WireTap:
    def __init__(self, server, protocol):
        self.protocol = protocol
        self.proxy = TcpProxy(server.port, keep_sent=True).start()
        self.url = self.proxy.url(urlsplit(server.url_for(protocol)).path)

    def sent(self):
        """The record messages clients sent through the tap so far, in order
        (connection after connection)."""
        return [m for conn in self.proxy.sent_payloads() for m in record_messages(conn, self.protocol)]

    def close(self):
        self.proxy.close()


def record_messages(payloads, protocol):
    """The RECORD messages in a client's websocket payloads, in order."""
    if protocol == "binary":
        return [_binary(d["fields"]) for d in decode_frames(payloads) if d.get("topic") == RECORD]
    out = []
    for payload in payloads:
        for msg in payload.decode().split("\x1e"):
            parts = msg.split("\x1f")
            if parts[0] == "R" and len(parts) > 2:
                out.append(_text(parts))
    return out


def _binary(f):
    return {"action": ACTIONS[f["action"]] if f["action"] < len(ACTIONS) else f["action"],
            "name": f.get("name"), "names": f.get("names"), "version": f.get("version"),
            "path": f.get("path"), "write_ack": bool(f.get("isWriteAck")),
            "data": json.loads(f["data"]) if "data" in f else None}


def _text(parts):
    code = parts[1]
    if code == "CU":  # R|CU|name|-1|json|config or R|CU|name|-1|path|typed|config
        action, path_at = ("CREATEANDPATCH", 4) if len(parts) == 7 else ("CREATEANDUPDATE", None)
    elif code == "P" and len(parts) > 5 and parts[5] == "U":  # a path set to undefined
        action, path_at = "ERASE", 4
    else:
        action, path_at = TEXT.get(code, (code, None))
    version = parts[3] if len(parts) > 3 and parts[3].lstrip("-").isdigit() else None
    return {"action": action, "name": parts[2], "names": None,
            "version": None if version is None else int(version),
            "path": parts[path_at] if path_at is not None else None, "write_ack": parts[-1] == WRITE_ACK,
            "data": None}
