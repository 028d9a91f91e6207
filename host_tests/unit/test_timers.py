"""Timers: the deadline table the core runs its timeouts from."""
from deepstream.timers import Timers


class Clock:
    def __init__(self):
        self.now = 1000

    def __call__(self):
        return self.now


class CountingTable:
    """A table that counts the walks through it."""

    def __init__(self):
        self.d = {}
        self.walks = 0

    def __setitem__(self, key, value):
        self.d[key] = value

    def __len__(self):
        return len(self.d)

    def __contains__(self, key):
        return key in self.d

    def pop(self, key, default=None):
        return self.d.pop(key, default)

    def clear(self):
        self.d.clear()

    def items(self):
        self.walks += 1
        return list(self.d.items())

    def values(self):
        self.walks += 1
        return list(self.d.values())


def timers_with_log():
    clock = Clock()
    timers = Timers(clock)
    fired = []
    return clock, timers, fired


def test_due_timers_fire_once_in_the_order_added():
    clock, timers, fired = timers_with_log()
    timers.add("b", 20, fired.append, "b")
    timers.add("a", 10, fired.append, "a")
    timers.add("c", 30, fired.append, "c")
    clock.now += 25
    timers.fire()
    assert fired == ["b", "a"]
    timers.fire()
    assert fired == ["b", "a"]
    clock.now += 10
    timers.fire()
    assert fired == ["b", "a", "c"]
    assert timers.next_deadline() is None


def test_next_deadline_is_the_earliest():
    clock, timers, fired = timers_with_log()
    assert timers.next_deadline() is None
    timers.add("late", 500, fired.append)
    timers.add("soon", 50, fired.append)
    assert timers.next_deadline() == 1050


def test_after_a_cancel_the_next_deadline_is_found_again():
    clock, timers, fired = timers_with_log()
    timers.add("soon", 50, fired.append, "soon")
    timers.add("late", 500, fired.append, "late")
    timers.cancel("soon")
    # it may still say 1050 (waking early is harmless), never later than the true one
    assert timers.next_deadline() in (1050, 1500)
    clock.now = 1050
    timers.fire()
    assert fired == []
    assert timers.next_deadline() == 1500
    timers.cancel("late")
    assert timers.next_deadline() is None


def test_a_deadline_moved_later_in_place_fires_then():
    clock, timers, fired = timers_with_log()
    entry = timers.add("call", 100, fired.append, "call")
    entry[0] = 1400  # as an RPC call's accept does
    clock.now = 1100
    timers.fire()
    assert fired == []
    assert timers.next_deadline() == 1400
    clock.now = 1400
    timers.fire()
    assert fired == ["call"]


def test_a_timer_added_by_a_firing_one_is_counted():
    clock, timers, fired = timers_with_log()

    def again(arg):
        fired.append(arg)
        timers.add("again", 30, fired.append, "again")
    timers.add("first", 10, again, "first")
    timers.add("far", 1000, fired.append, "far")
    clock.now += 10
    timers.fire()
    assert timers.next_deadline() == clock.now + 30
    clock.now += 30
    timers.fire()
    assert fired == ["first", "again"]


def test_a_turn_with_nothing_due_does_not_walk_the_table():
    clock, timers, fired = timers_with_log()
    timers._table = table = CountingTable()
    timers.add("heartbeat", 20000, fired.append)
    for key in ("a", "b", "c"):
        timers.add(key, 5000, fired.append)
    for _ in range(100):  # a device loop's poll turns
        clock.now += 1
        timers.fire()
        timers.next_deadline()
    assert table.walks == 0
    clock.now += 5000
    timers.fire()
    assert len(fired) == 3 and table.walks > 0


def test_cancel_all_keeps_what_it_is_told_to():
    clock, timers, fired = timers_with_log()
    timers.add("keep", 10, fired.append, "keep")
    timers.add("drop", 5, fired.append, "drop")
    timers.cancel_all(keep=("keep",))
    clock.now += 10
    timers.fire()
    assert fired == ["keep"]
    timers.add("x", 10, fired.append, "x")
    timers.cancel_all()
    assert timers.next_deadline() is None
    clock.now += 10
    timers.fire()
    assert fired == ["keep"]
