"""protocol="auto" against the real server with each endpoint at the other's
usual path (swapped_server), so that the URL's path guesses the protocol
wrong. A device subscribes, emits, writes records and provides an RPC before
its first connection (encoded as the guess); once the client knows the
endpoint's protocol, what waited is re-encoded, and all of it reaches the
official JS client of that protocol. (On MicroPython, with the outbox:
test_outbox.py.)"""
from support.pyclient import close, new_client, pump_during, pump_until


def test_what_waits_before_the_first_link_reaches_the_js_client(protocol, swapped_server, js_client, names):
    url = swapped_server.url_for(protocol)
    js = js_client(url, protocol=protocol, login={"username": "js"})
    js.event_subscribe(names("readings"))
    js.sync()
    client, errors = new_client(url, protocol="auto")
    try:
        commands = []
        client.login({"username": "device"})
        client.event.subscribe(names("cmd"), commands.append)
        client.event.emit(names("readings"), {"i": 0})
        client.record.set_data(names("cfg"), "a.b", 2)
        client.record.set_data(names("log"), {"x": "y"})
        rec = client.record.get_record(names("dev"))
        client.rpc.provide(names("led"), lambda data, response: response.send(["on", data]))
        client.event.emit(names("readings"), {"i": 1})
        assert client._conn.codec.NAME != protocol  # encoded as the path guesses
        assert pump_until(client, lambda: client.get_connection_state() == "OPEN")
        assert client._conn.codec.NAME == protocol
        assert js.wait_event(names("readings")) == {"i": 0}
        assert js.wait_event(names("readings")) == {"i": 1}
        assert pump_until(client, lambda: rec.is_ready and not client._acks.keys)  # subscribed, provided
        js.event_emit(names("cmd"), "go")
        assert pump_until(client, lambda: commands == ["go"])
        assert pump_during(client, lambda: js.rpc_make(names("led"), 3)) == (None, ["on", 3])
        assert js.record_snapshot(names("cfg")) == (None, {"a": {"b": 2}})
        assert js.record_snapshot(names("log")) == (None, {"x": "y"})
        assert errors == []
    finally:
        close(client)
