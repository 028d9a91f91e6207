"""Helpers shared by the RPC unit tests (test_rpc.py, test_rpc_make.py)."""


def provider(link, name="add"):
    """Provide `name`; returns the list of (data, response) the callback got."""
    calls = []
    link.client.rpc.provide(name, lambda data, response: calls.append((data, response)))
    assert link.sent() == ["P|S|%s+" % name]
    link.receive("P|A|S|%s+" % name)
    return calls


def make(link, name="add", data=None):
    """Make a call; returns (cid, list of callback arguments)."""
    got = []
    cid = link.client.rpc.make(name, data, lambda err, res: got.append((err, res)))
    return cid, got
