"""deepstream.io client for MicroPython and CPython.

    from deepstream import Client
    client = Client("ws://127.0.0.1:6020/deepstream-v3")
    client.login({"username": "device-1"})
    client.event.emit("devices/1/temp", 21.5)
    while True:
        client.poll(100)
"""
from .client import Client  # noqa: F401
from .message import UNDEFINED  # noqa: F401

__version__ = "0.1.0"
