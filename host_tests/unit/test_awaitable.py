"""The awaitable forms (x_async) on asyncio, driven by a FakeLink."""
import asyncio

from deepstream.awaitable import DeepstreamError, LoginError, PresenceError, RpcError, Waiter
from deepstream.testing import FakeLink, open_link


def run(coro):
    return asyncio.run(coro)


async def settle():
    for _ in range(3):
        await asyncio.sleep(0)


def test_waiter_value_and_error():
    async def main():
        w = Waiter()
        w.set(5)
        w.set(6)  # one shot
        assert await w.wait() == 5
        w = Waiter()
        w.fail(RpcError("X"))
        try:
            await w.wait()
        except RpcError as err:
            assert err.code == "X" and isinstance(err, DeepstreamError)
        else:
            raise AssertionError("no error")
    run(main())


def test_make_async_result():
    link = open_link()

    async def main():
        task = asyncio.create_task(link.client.rpc.make_async("add", [1, 2]))
        await settle()
        (req,) = link.sent()
        cid = req.split("|")[3]
        link.receive("P|A|REQ|add|%s+" % cid)
        link.receive("P|RES|add|%s|N3+" % cid)
        return await task
    assert run(main()) == 3


def test_make_async_raises_rpc_error():
    link = open_link()

    async def main():
        task = asyncio.create_task(link.client.rpc.make_async("nope"))
        await settle()
        cid = link.sent()[0].split("|")[3]
        link.receive("P|E|NO_RPC_PROVIDER|nope|%s+" % cid)
        try:
            await task
        except RpcError as err:
            return err
    err = run(main())
    assert err.code == "NO_RPC_PROVIDER"
    assert "nope" in str(err)


def test_make_async_timeout():
    link = open_link(rpc_ack_timeout=50)

    async def main():
        task = asyncio.create_task(link.client.rpc.make_async("slow", 1))
        await settle()
        link.advance(60)
        try:
            await task
        except RpcError as err:
            return err.code
    assert run(main()) == "ACK_TIMEOUT"


def test_login_async():
    link = FakeLink()
    link.open()

    async def main():
        task = asyncio.create_task(link.client.login_async({"username": "u"}))
        await settle()
        link.receive("A|A|O{\"role\":\"x\"}+")
        ok = await task
        other = FakeLink()  # a failed login (an answer while OPEN would be unsolicited)
        other.open()
        task = asyncio.create_task(other.client.login_async({"username": "bad"}))
        await settle()
        other.receive("A|E|INVALID_AUTH_DATA|Sno+")
        try:
            await task
        except LoginError as err:
            return ok, err
    ok, err = run(main())
    assert ok == {"role": "x"}
    assert err.code == "LOGIN_FAILED" and err.data == "no"


def test_presence_get_all_async():
    link = open_link()

    async def main():
        t1 = asyncio.create_task(link.client.presence.get_all_async())
        t2 = asyncio.create_task(link.client.presence.get_all_async(["a"]))
        t3 = asyncio.create_task(link.client.presence.get_all_async(["b"]))
        await settle()
        link.receive("U|Q|x|y+")
        link.receive("U|Q|1|{\"a\":false}+")
        link.receive("U|Q|2|oops+")
        r1, r2 = await t1, await t2
        try:
            await t3
        except PresenceError as err:
            return r1, r2, err
    r1, r2, err = run(main())
    assert r1 == ["x", "y"] and r2 == {"a": False}
    assert err.code == "MESSAGE_PARSE_ERROR"


def test_record_when_ready_and_snapshot_async():
    from deepstream.awaitable import RecordError
    link = open_link()

    async def main():
        rec = link.client.record.get_record("dev/1")
        task = asyncio.create_task(rec.when_ready_async())
        await settle()
        assert link.sent() == ["R|CR|dev/1+"]
        link.receive("R|A|S|dev/1+")
        link.receive("R|R|dev/1|3|{\"on\":true}+")
        ready = await task
        snap = asyncio.create_task(link.client.record.snapshot_async("dev/2"))
        missing = asyncio.create_task(link.client.record.snapshot_async("dev/3"))
        await settle()
        link.sent()
        link.receive("R|R|dev/2|1|{\"x\":1}+")
        link.receive("R|E|RECORD_NOT_FOUND|dev/3+")
        data = await snap
        try:
            await missing
        except RecordError as err:
            return ready is rec, rec.get(), data, err.code
    assert run(main()) == (True, {"on": True}, {"x": 1}, "RECORD_NOT_FOUND")
