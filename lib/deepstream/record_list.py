"""Lists (client.record.get_list): a record whose data is a JSON array of
record names. No wire messages of its own: every change is a whole-record
update (R|U) of the underlying record.

    lst = client.record.get_list("devices")
    lst.on("entry-added", lambda entry, index: ...)
    lst.add_entry("device/7")          # or add_entry("device/7", 0) to insert first
    lst.remove_entry("device/3")       # every occurrence; with an index only that one
    lst.get_entries()                  # ["device/7", ...]

Entry events ("entry-added", "entry-removed", "entry-moved": cb(entry, index))
fire for local and remote changes once the list is ready, as in the
reference client.
"""
_ENTRY_EVENTS = ("entry-added", "entry-removed", "entry-moved")
# read from the underlying record (one __getattr__ instead of a forwarder each)
_FROM_RECORD = ("name", "version", "is_ready", "is_destroyed", "discard", "delete")


def _check_entries(entries):
    if not isinstance(entries, list):
        raise TypeError("entries must be a list of record names")
    for e in entries:
        if not isinstance(e, str):
            raise TypeError("entries must be a list of record names")


def _check_index(index, length):
    if isinstance(index, bool) or not isinstance(index, int):
        raise TypeError("index must be an int")
    if index < 0 or index > length:
        raise ValueError("index %d is not within the current entries (0..%d)" % (index, length))


def _structure(entries):
    out = {}
    for i, e in enumerate(entries):
        out.setdefault(e, []).append(i)
    return out


class List:
    __slots__ = ("_record", "_events", "_last", "_wrapped")

    def __init__(self, record):
        self._record = record
        self._events = None  # entry event -> [callbacks]
        self._last = None  # entries before the latest change (only with entry listeners)
        self._wrapped = None  # user subscribe callback -> wrapper

    # ---- record attributes: name, version, is_ready, is_destroyed, discard(), delete()

    def __getattr__(self, attr):
        if attr in _FROM_RECORD:
            return getattr(self._record, attr)
        raise AttributeError(attr)

    def when_ready(self, callback):
        self._record.when_ready(lambda rec: callback(self))

    async def when_ready_async(self):
        """`await lst.when_ready_async()` -> the list (see awaitable.py)."""
        from .awaitable import when_ready_async
        return await when_ready_async(self)

    # ---- entries --------------------------------------------------------------

    def get_entries(self):
        entries = self._record.get()
        return entries if isinstance(entries, list) else []

    def is_empty(self):
        return not self.get_entries()

    def set_entries(self, entries, callback=None):
        _check_entries(entries)
        self._record.set(list(entries), callback) if callback else self._record.set(list(entries))

    def add_entry(self, entry, index=None, callback=None):
        """Append `entry`, or insert it at `index` (0..len)."""
        if not isinstance(entry, str):
            raise TypeError("entry must be a record name (str)")
        if callable(index):
            index, callback = None, index
        rec = self._record
        if not rec.is_ready:
            if not rec._destroyed("add_entry"):
                rec._later(lambda: self.add_entry(entry, index, callback))
            return
        entries = self.get_entries()
        if index is None:
            entries.append(entry)
        else:
            _check_index(index, len(entries))
            entries.insert(index, entry)
        self.set_entries(entries, callback)

    def remove_entry(self, entry, index=None, callback=None):
        """Remove every occurrence of `entry`, or only the one at `index`."""
        if callable(index):
            index, callback = None, index
        rec = self._record
        if not rec.is_ready:
            if not rec._destroyed("remove_entry"):
                rec._later(lambda: self.remove_entry(entry, index, callback))
            return
        current = self.get_entries()
        if index is not None:
            _check_index(index, len(current))
        entries = [e for i, e in enumerate(current) if e != entry or (index is not None and i != index)]
        self.set_entries(entries, callback)

    # ---- subscriptions and entry events --------------------------------------------

    def subscribe(self, callback, trigger_now=False):
        """callback(entries) whenever the entries change."""
        if not callable(callback):
            raise TypeError("subscribe: callback must be callable")
        if self._wrapped is None:
            self._wrapped = {}
        wrapper = self._wrapped.get(callback)
        if wrapper is None:
            wrapper = self._wrapped[callback] = lambda data: callback(self.get_entries())
        self._record.subscribe(wrapper, trigger_now)

    def unsubscribe(self, callback):
        wrapper = self._wrapped.pop(callback, None) if self._wrapped else None
        if wrapper is not None:
            self._record.unsubscribe(wrapper)

    def on(self, event, callback):
        """"entry-added" / "entry-removed" / "entry-moved": callback(entry, index);
        other names (ready, delete, discard) are the record's events."""
        if event not in _ENTRY_EVENTS:
            self._record.on(event, callback)
            return
        if self._events is None:
            self._events = {}
            rec = self._record
            self._last = self.get_entries() if rec.is_ready else None
            rec.subscribe(self._on_change)
        self._events.setdefault(event, []).append(callback)

    def off(self, event, callback=None):
        if event not in _ENTRY_EVENTS:
            self._record.off(event, callback)
            return
        cbs = self._events.get(event) if self._events else None
        if cbs is None:
            return
        if callback is None:
            del self._events[event]
        elif callback in cbs:
            cbs.remove(callback)

    def _emit(self, event, entry, index):
        cbs = self._events.get(event)
        if cbs:
            c = self._record._h._client
            for cb in tuple(cbs):
                c._call("R", cb, entry, index)

    def _on_change(self, data):
        after = data if isinstance(data, list) else []
        before, self._last = self._last, after
        if before is None or not self._record.is_ready:
            return  # the first read is not a change
        b, a = _structure(before), _structure(after)
        # entries in the order they first appear (as the reference client
        # does; a MicroPython dict keeps no order)
        for k, entry in enumerate(before):
            spots = b[entry]
            if spots[0] != k:
                continue
            now = a.get(entry, ())
            for i in range(len(spots)):
                if i >= len(now):
                    self._emit("entry-removed", entry, spots[i])
        for k, entry in enumerate(after):
            spots = a[entry]
            if spots[0] != k:
                continue
            was = b.get(entry, ())
            for i in range(len(spots)):
                if i >= len(was):
                    self._emit("entry-added", entry, spots[i])
                elif was[i] != spots[i]:
                    self._emit("entry-moved", entry, spots[i])
