"""Decode deepstream binary-protocol frames with the server's own protobuf package.

    decode_frames([b"\\x1c\\x10\\x03...", ...]) -> [
        {"topic": 3, "action": 2, "fields": {"action": 2, "data": '{"username":"alice"}'},
         "trailing": ""},
        {"error": "index out of range: ..."},     # a payload the server cannot decode
    ]

One dict per websocket payload, decoded in node by host_tests/support/pbdecode.js with
@deepstream/protobuf as @deepstream/server 7.0.2 loads it (tools/server/node_modules):
the length-delimited wrapper, then its `message` as the topic's message. "fields" holds
the fields present on the wire, by their .proto names (explicit defaults included, so
`"data" not in f["fields"]` means absent while `f["fields"]["data"] == ""` means present
and empty); "trailing" is the hex of any bytes after the first delimited message (the
server ignores them). Field numbers and meanings: /work/shared/protocol-binary.md §1.
"""

import json
import os
import subprocess

try:
    from .dsserver import SERVER_DIR, die_with_parent
except ImportError:  # imported as a top-level module (host_tests/support on sys.path)
    from dsserver import SERVER_DIR, die_with_parent

PBDECODE_JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pbdecode.js")


def decode_frames(payloads, node="node", timeout=30):
    """payloads: websocket payloads (bytes-like, or hex strings) -> list of dicts as above."""
    hexes = [p if isinstance(p, str) else bytes(p).hex() for p in payloads]
    proc = subprocess.run([node, PBDECODE_JS], input=json.dumps(hexes), capture_output=True,
                          text=True, timeout=timeout, preexec_fn=die_with_parent,
                          env=dict(os.environ, DS_NODE_DIR=SERVER_DIR))
    if proc.returncode != 0:
        raise RuntimeError("pbdecode.js failed (%d): %s" % (proc.returncode, proc.stderr))
    return json.loads(proc.stdout)
