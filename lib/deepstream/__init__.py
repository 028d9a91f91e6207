"""deepstream.io client for MicroPython and CPython.

    from deepstream import Client
    client = Client("ws://127.0.0.1:6020/deepstream")  # binary; /deepstream-v3: text
    client.login({"username": "device-1"})
    client.event.emit("devices/1/temp", 21.5)
    while True:
        client.poll(100)

Names are imported on first use (module __getattr__), so importing one
submodule - or a board that only emits events - loads only what it needs.
"""

__version__ = "0.1.0"

_LAZY = {
    "Client": "client",
    "UNDEFINED": "message",
    "RpcError": "awaitable",
    "DeepstreamError": "awaitable",
    "LoginError": "awaitable",
    "RecordError": "awaitable",
    "PresenceError": "awaitable",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        # `from . import record` also lands here on MicroPython: a submodule
        try:
            return __import__("deepstream." + name, None, None, [name])
        except ImportError:
            raise AttributeError("module 'deepstream' has no attribute '%s'" % name)
    mod = __import__("deepstream." + module, None, None, [name])
    return getattr(mod, name)


def _unload(name):
    """Forget submodule `name` once it has done its work (code needed only
    while constructing or connecting): its code becomes garbage instead of
    staying resident. A later import loads it again (docs/MEMORY.md)."""
    import sys
    sys.modules.pop("deepstream." + name, None)
    globals().pop(name, None)
