"""Uses the whole public API with types: mypy --strict must accept it
(host_tests/test_stubs.py). Never run; only type-checked."""
import asyncio
from typing import Any, Dict, List, Optional

import deepstream
from deepstream import (UNDEFINED, Client, DeepstreamError, LoginError, PresenceError,
                        RecordError, RpcError)
from deepstream import constants, errors
from deepstream.constants import ConnectionState
from deepstream.listener import ListenResponse
from deepstream.options import Options
from deepstream.record import LOCAL_WINS, REMOTE_WINS, Record, RecordHandler
from deepstream.record_list import List as DsList
from deepstream.rpc import RpcResponse
from deepstream.testing import FakeLink, open_link, ready_record

version: str = deepstream.__version__

options: Options = {"heartbeat_interval": 10000, "path": "/deepstream-v3", "verify": True,
                    "outbox_file": None, "merge_strategy": LOCAL_WINS}
client = Client("ws://127.0.0.1:6020/deepstream-v3", **options)
Client("ws://127.0.0.1:6020/deepstream-v3", subscription_timeout=2000)
Client("localhost:6020", clock=lambda: 0, ca_file="ca.pem", max_message_size=4096)


def on_error(message: str, event: str, topic: str) -> None:
    if event == errors.CONNECTION_ERROR or event == errors.ACK_TIMEOUT:
        print(message, topic)


def on_state(state: ConnectionState) -> None:
    if state == constants.OPEN or state == "RECONNECTING":
        print(state)


def on_login(success: bool, data: Any) -> None:
    print(success, data)


client.on("error", on_error).on("connectionStateChanged", on_state)
client.on(errors.MESSAGE_DENIED, lambda topic, message: print(topic, message))
client.off("error", on_error).off("connectionStateChanged").off()
client.login({"username": "device-1"}, on_login).login()


def fresh_token() -> Optional[dict[str, str]]:  # called before every login; None: not now
    return {"token": "abc"}


client.login(fresh_token, on_login)
client.on(errors.REAUTHENTICATION_FAILURE, lambda topic, message: print(topic, message))
state: ConnectionState = client.get_connection_state()
last: Optional[tuple[str, str, str]] = client.last_error
timeout: Any = client.options["subscription_timeout"]
client.poll(100)
client.poll()
node: str = client.get_url()
cluster = Client(["ws://10.0.0.1:6020/deepstream-v3", "ws://10.0.0.2:6020/deepstream-v3"], random_first_node=True)
flushed: bool = client.flush(2000)
flushed = client.flush()

# events
client.event.subscribe("devices/1/command", lambda data: print(data))
client.event.unsubscribe("devices/1/command")
client.event.emit("devices/1/temperature", 21.5)
client.event.emit("devices/1/boot")
client.event.emit("devices/1/status", {"up": True, "load": [0.5, 1], "name": None})
client.event.emit("devices/1/gone", UNDEFINED)


def on_match(name: str, is_subscribed: bool, response: Optional[ListenResponse]) -> None:
    if response is not None:
        response.accept() if is_subscribed else response.reject()


client.event.listen("devices/.*", on_match)
client.event.unlisten("devices/.*")

# records
records: RecordHandler = client.record
rec: Record = records.get_record("devices/1")
rec.when_ready(lambda r: print(r.get("config"), r.version))
rec.subscribe("config.interval", lambda seconds: print(seconds))
rec.subscribe(lambda data: print(data), True)
rec.subscribe(lambda data: print(data), trigger_now=True)
rec.unsubscribe("config.interval")
rec.unsubscribe()


def written(error: Optional[str]) -> None:
    print(error)


rec.set("status.uptime", 42)
rec.set("status.uptime", 43, written)
rec.set({"config": {"interval": 5}}, written)
rec.set(["a", "b"])
rec.set("obsolete", UNDEFINED)
rec.set_merge_strategy(REMOTE_WINS)
rec.set_merge_strategy(lambda record, remote, version, done: done(None, remote))
rec.on("hasProviderChanged", lambda has: print(has))
rec.off("hasProviderChanged")
flags: List[bool] = [rec.is_ready, rec.is_destroyed, rec.has_provider]
name: str = rec.name
rec_version: Optional[int] = rec.version
rec.discard()
rec.delete()

records.snapshot("devices/1", lambda error, data: print(error, data))
records.has("devices/1", lambda error, exists: print(error, exists))
records.head("devices/1", lambda error, v: print(error, v))
records.set_data("devices/1", {"a": 1})
records.set_data("devices/1", "a.b", 2, written)
records.set_data("devices/1", {"a": 1}, written)
records.listen("devices/.*", on_match)
records.unlisten("devices/.*")

lst: DsList = records.get_list("devices")
lst.when_ready(lambda l: print(l.get_entries()))
entries: List[str] = lst.get_entries()
empty: bool = lst.is_empty()
lst.set_entries(["devices/1"], written)
lst.add_entry("devices/2")
lst.add_entry("devices/0", 0)
lst.add_entry("devices/3", written)
lst.remove_entry("devices/2")
lst.remove_entry("devices/0", 0, written)
lst.subscribe(lambda names: print(len(names)), True)
lst.on("entry-added", lambda entry, index: print(entry, index))
lst.off("entry-added")
list_name: str = lst.name
lst.discard()

# RPC


def led(data: Any, response: RpcResponse) -> None:
    if data == "on":
        response.auto_ack = False
        response.ack()
        response.send("ok")
    elif data is None:
        response.reject()
    else:
        response.error("unknown command %r" % (data,))
    print(response.name, response.correlation_id, response.answered)


client.rpc.provide("devices/1/led", led)
client.rpc.unprovide("devices/1/led")
cid: Optional[str] = client.rpc.make("backend/time", None, lambda error, result: print(error, result))
client.rpc.make("backend/add", {"a": 1, "b": 2})
provided: List[str] = client.rpc.provider_names()

# presence
client.presence.get_all(lambda users: print(users[0]))
client.presence.get_all(["alice", "bob"], lambda online: print(online["alice"]))
client.presence.subscribe(lambda user, online: print(user, online))
client.presence.subscribe("alice", lambda user, online: print(user, online))
client.presence.unsubscribe("alice")
client.presence.unsubscribe()


# asyncio
async def main() -> None:
    task: "asyncio.Task[None]" = client.start()
    try:
        data: Any = await client.login_async({"username": "a"})
        result: Any = await client.rpc.make_async("backend/time")
        ready: Record = await rec.when_ready_async()
        ready_list: DsList = await lst.when_ready_async()
        snap: Any = await client.record.snapshot_async("devices/1")
        users: List[str] = await client.presence.get_all_async()
        online: Dict[str, bool] = await client.presence.get_all_async(["alice"])
        await client.drain()
        print(data, result, ready, ready_list, snap, users, online)
    except (LoginError, RpcError, RecordError, PresenceError) as err:
        print(err.code)
    except DeepstreamError as err:
        print(err.code, err.data)
    client.close()
    await task
    await client.run()

# testing helpers
link: FakeLink = FakeLink(subscription_timeout=100)
link.open()
link.login()
link.client.event.emit("temp", 21)
sent: List[str] = link.sent()
link.advance(150)
link.receive("E|A|S|temp+")
link.drop()
logged_in: FakeLink = open_link(heartbeat_interval=1000)
held: Record = ready_record(logged_in, "rec", 2, '{"a": 2}')
closed: str = constants.CLOSED
