"""Helpers shared by the callback-isolation tests (test_callbacks*.py)."""


class Boom:
    """A callback that records its calls and raises."""

    def __init__(self, exc=ValueError):
        self.calls = []
        self.exc = exc

    def __call__(self, *args):
        self.calls.append(args)
        raise self.exc("boom %d" % len(self.calls))


def callback_errors(link):
    return [e for e in link.errors if e[0] == "CALLBACK_ERROR"]


def only_callback_errors(link, topic, n=1):
    assert [e[0] for e in link.errors] == ["CALLBACK_ERROR"] * n, link.errors
    assert all(e[2] == topic for e in link.errors), link.errors
    assert link.errors[0][1] == "ValueError: boom 1", link.errors
    del link.errors[:]
