"""Code a device does not use is not loaded (docs/MEMORY.md): checked in a fresh
MicroPython process, with the library as .mpy, by which modules are in sys.modules.
On both protocols: the test plays the server, frames in, frames out, no socket."""
import json

from deepstream.binary_codec import encode

SCRIPT = r"""
import sys, json
from deepstream import Client

protocol, frames = %r, %r

def loaded():
    return sorted(m.split(".")[-1] for m in sys.modules if m.startswith("deepstream."))

client = Client("ws://h:1", protocol=protocol)
conn = client._conn
conn.take_open_request()
conn.socket_opened()

def server_says(frame):
    if protocol == "text":
        conn.receive_text(frame)
    else:
        conn.receive_binary(bytes.fromhex(frame))
    while conn.take_payload():  # what the client answers (what a driver would write)
        pass

server_says(frames[0])  # the connection is accepted
client.login({"username": "device"})
server_says(frames[1])  # logged in
client.event.emit("devices/x/t", 21.5)
requests = []
client.rpc.provide("devices/x/led", lambda data, response: (requests.append(data), response.send("on")))
server_says(frames[2])  # a request for the provider
import deepstream.aio  # the firmware's driver (imported, not run)
served = loaded()
client.rpc.make("other", 1, lambda error, result: None)
print(json.dumps({"requests": requests, "served": served, "after_make": loaded()}))
"""


def payload(frame):
    """A message encoded by the binary codec, as the server sends it: the frame's payload."""
    return bytes(frame[6:]).hex()  # a short frame: 2 header bytes and an (empty) mask key


# the server's side of the script: accept, login answered, an RPC request
FRAMES = {"text": ["C\x1fA\x1e", "A\x1fA\x1e", "P\x1fREQ\x1fdevices/x/led\x1fc1\x1fStoggle\x1e"],
          "binary": [payload(encode(2, 4)), payload(encode(3, 3)),
                     payload(encode(6, 2, name="devices/x/led", data="toggle", cid="c1"))]}
OTHER_CODEC = {"text": ["binary_codec"], "binary": ["text_codec", "text_more"]}


def test_a_device_that_serves_rpcs_loads_no_caller_poll_driver_tls_or_other_codec(run_micropython, protocol):
    rc, out, err = run_micropython(SCRIPT % (protocol, FRAMES[protocol]), heap="112K")  # 96K before the codecs (docs/MEMORY.md)
    assert rc == 0, out + err
    res = json.loads(out.strip().splitlines()[-1])
    served = res["served"]
    assert res["requests"] == ["toggle"]
    assert "rpc" in served and "aio" in served and "transport" in served
    # the RPC caller side, the polling driver, TLS and the other protocol are for other clients
    for module in ["rpc_call", "poll", "tls"] + OTHER_CODEC[protocol]:
        assert module not in served, (module, served)
    assert "rpc_call" in res["after_make"]  # and they do load when used
