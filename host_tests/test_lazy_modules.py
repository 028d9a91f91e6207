"""Code a device does not use is not loaded (docs/MEMORY.md): checked in a fresh
MicroPython process, with the library as .mpy, by which modules are in sys.modules."""
import json

SCRIPT = r"""
import sys, json
from deepstream.testing import FakeLink

def loaded():
    return sorted(m.split(".")[-1] for m in sys.modules if m.startswith("deepstream."))

link = FakeLink()
link.open()
link.login()
link.client.event.emit("devices/x/t", 21.5)
link.client.rpc.provide("devices/x/led", lambda data, response: response.send("on"))
link.receive("P|REQ|devices/x/led|c1|Stoggle+")
import deepstream.aio  # the firmware's driver (imported, not run)
served = loaded()
link.client.rpc.make("other", 1, lambda error, result: None)
print(json.dumps({"served": served, "after_make": loaded()}))
"""


def test_a_device_that_serves_rpcs_loads_no_caller_poll_driver_or_tls(run_micropython):
    rc, out, err = run_micropython(SCRIPT)
    assert rc == 0, out + err
    res = json.loads(out.strip().splitlines()[-1])
    served = res["served"]
    assert "rpc" in served and "aio" in served and "transport" in served
    # the RPC caller side, the polling driver and TLS are for other clients
    assert "rpc_call" not in served, served
    assert "poll" not in served, served
    assert "tls" not in served, served
    assert "rpc_call" in res["after_make"]  # and they do load when used
