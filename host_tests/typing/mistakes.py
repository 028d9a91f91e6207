"""Mistakes the stubs must catch: mypy --strict must report exactly the error code
written at the end of each marked line, and nothing else (host_tests/test_stubs.py).
Never run; only type-checked."""
from typing import List

from deepstream import Client, errors
from deepstream.constants import OPEN
from deepstream.rpc import RpcResponse

Client("localhost:6020", subscription_timout=2000)  # E: call-arg
Client("localhost:6020", heartbeat_interval="30s")  # E: arg-type
Client("localhost:6020", max_queued_messages=200)  # E: call-arg
Client(6020)  # E: arg-type
client = Client("localhost:6020")
client.login("device-1")  # E: arg-type
client.login(lambda: "token")  # E: arg-type return-value
client.poll("100")  # E: arg-type
client.flush(timeout=100)  # E: call-arg
client.on("error", lambda message: print(message))  # E: misc arg-type
state: int = client.get_connection_state()  # E: assignment
if client.get_connection_state() == "OPNE":  # E: comparison-overlap
    pass
if client.get_connection_state() == OPEN:
    pass
print(errors.CONECTION_ERROR)  # E: attr-defined

client.event.emit("devices/1/ids", {1, 2})  # E: arg-type
client.event.subscribe("devices/1/command", lambda data, extra: None)  # E: misc arg-type
client.event.subscribe(42, print)  # E: arg-type

rec = client.record.get_record("devices/1")
rec.set(5)  # E: call-overload
rec.sett("status.uptime", 42)  # E: attr-defined
rec.set("status", object())  # E: call-overload
rec.subscribe("config", print, "yes")  # E: call-overload
client.record.get_list("devices").add_entry(7)  # E: call-overload


def provider(data: str, response: RpcResponse) -> None:
    response.send({"ids": {1, 2}})  # E: dict-item


client.rpc.provide("devices/1/led", provider)
client.rpc.make("backend/time", None, lambda result: None)  # E: misc arg-type
client.presence.get_all(["alice"], lambda users: users.append("x"))  # E: attr-defined


async def main() -> None:
    names: List[str] = await client.presence.get_all_async(["alice"])  # E: assignment
    print(names)
