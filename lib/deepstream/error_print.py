"""Errors that no `error` listener takes are printed, one line each:

    deepstream: connectionError (C): cannot connect to ws://...: ECONNREFUSED

so that a newcomer whose device cannot connect sees why. A reconnect loop
repeats the same error for as long as it lasts: an error is printed the 1st,
2nd, 4th, 8th... time it is seen (with the count), so a serial console gets
a few lines per hour instead of one per attempt. Errors are told apart by a
hash, in a table of at most _KEEP entries (emptied when full): the memory
this takes does not grow with the errors. Loaded on the first such error
(client.py); option print_errors=False turns printing off.
"""
_KEEP = 8  # distinct errors counted at once
_MAX_TEXT = 200  # characters of a message printed: one console line
_seen = {}  # hash of (event, topic, message) -> times seen


def print_error(message, event, topic):
    key = hash(message) ^ hash(event) ^ hash(topic)
    n = _seen.get(key, 0) + 1
    if n == 1 and len(_seen) >= _KEEP:
        _seen.clear()
    _seen[key] = n
    if n & (n - 1):
        return  # not a power of two: a repeat that stays quiet
    text = str(message)
    if len(text) > _MAX_TEXT:
        text = text[:_MAX_TEXT] + "..."
    text = text.replace("\r", " ").replace("\n", " ")
    if n > 1:
        text += " (seen %d times)" % n
    print("deepstream: %s (%s): %s" % (event, topic, text))
