"""Client options: the reference client's names in snake_case, with its
defaults, plus the limits a board needs. Unknown names are refused, since a
typo in a config file should not silently fall back to a default.

Used while a Client is constructed (with the URL rules below), then
unloaded again: the options live on in client.options (docs/MEMORY.md)."""

DEFAULTS = {
    # reference client (deepstream.io-client-js 2.3.4) options and defaults
    "heartbeat_interval": 30000,  # ms; the link is dead after 2x this without C|PI
    "reconnect_interval_increment": 4000,  # ms added to the delay per failed attempt
    "max_reconnect_interval": 180000,  # ms cap of that delay
    "max_reconnect_attempts": 5,  # then CLOSED
    "rpc_ack_timeout": 6000,
    "rpc_response_timeout": 10000,
    "subscription_timeout": 2000,  # ms for any subscribe/unsubscribe/listen ack
    "max_messages_per_packet": 100,  # kept for API parity: frames are bounded by bytes (docs/API.md)
    "time_between_sending_queued_packages": 16,  # kept for API parity (see README)
    "record_read_ack_timeout": 15000,
    "record_read_timeout": 15000,
    "record_delete_timeout": 15000,
    "path": "/deepstream",  # used when the url is a bare host:port
    # ours: the wire protocol. None: chosen by the URL path (/deepstream-v3: text, any
    # other: binary); "binary", "text"; "auto": told apart by the endpoint's first words
    "protocol": None,
    "merge_strategy": None,  # None = remote wins, as in the reference client
    "record_deep_copy": True,
    # ours: limits and transport settings with board-sized defaults
    "max_message_size": 16384,  # bytes; a larger incoming frame is refused, never allocated
    "max_queued_bytes": 8192,  # the send queue (offline, behind the writer, confirm_events): one bytearray
    "send_timeout": 2000,  # ms a frame may take to be written (polling driver); then the link is dead
    "reconnect_jitter": 25,  # percent of the reconnect delay added at random
    "confirm_events": False,  # resend events a dead link may have swallowed (see README)
    "outbox_file": None,  # path: keep events emitted offline on flash/disk
    "outbox_max_bytes": 16384,  # size cap of that file
    "max_pending_acks": 64,  # ack timers kept at once; beyond it no timer is armed
    "max_pending_rpcs": 16,  # RPC calls in flight; beyond it make() fails at once
    "connect_timeout": 10000,  # ms for resolving the name, TCP connect, TLS, websocket upgrade
    # the DNS server asked for the server's name ("a.b.c.d", or "a.b.c.d:port"); None: the
    # one the network interface uses (MicroPython: network.ipconfig("dns")), else getaddrinfo
    "dns_server": None,
    # ms from the websocket upgrade to the server's first deepstream message (a C message:
    # C|A or C|CH, with which every deepstream text endpoint starts); past it the
    # attempt fails with a connectionError naming the likely causes (a binary-protocol
    # endpoint, not deepstream). A node that accepts TCP but never completes the deepstream
    # handshake is given up this way (and skipped by the cluster helper). 0: no limit.
    "handshake_timeout": 5000,
    "print_errors": True,  # with no "error" listener, print each error as one line (repeats limited)
    "random_first_node": False,  # several urls: start at a random one (a fleet spreads)
    "ca_file": None,  # wss: CA certificate for verification
    "verify": True,  # wss: False = no certificate check (raises INSECURE_CONNECTION)
}


PROTOCOLS = (None, "binary", "text", "auto")

REMOVED = {"max_queued_messages": "the send queue is bounded by max_queued_bytes alone"}


def merge(user):
    """Return the effective options: DEFAULTS updated with `user` (a dict)."""
    opts = dict(DEFAULTS)
    for key in user:
        if key in REMOVED:
            raise ValueError("option '%s' was removed: %s" % (key, REMOVED[key]))
        if key not in DEFAULTS:
            raise ValueError("unknown option '%s' (options use snake_case, e.g. subscription_timeout)" % key)
        value = user[key]
        default = DEFAULTS[key]
        if key == "protocol" and value not in PROTOCOLS:
            raise ValueError("option 'protocol' must be one of 'binary', 'text', 'auto' (or None: by the URL), "
                             "got %r" % (value,))
        if isinstance(default, int) and not isinstance(default, bool):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError("option '%s' must be a non-negative integer, got %r" % (key, value))
        opts[key] = value
    return opts


def choose_codec(protocol, url):
    """The codec module for option `protocol` ("binary", "text"; None: by the
    URL path, /deepstream-v3 is text, anything else binary). "auto" starts
    as text: handshake.py switches to binary when the server stays silent."""
    if protocol is None:
        path = url[url.find("/", url.find("://") + 3):]
        protocol = "text" if path == "/deepstream-v3" else "binary"
    if protocol == "binary":
        from . import binary_codec
        return binary_codec
    from . import text_codec
    return text_codec


def normalize_urls(url, opts):
    """One url, or a list of them (cluster nodes, tried in turn): a list of
    normalized urls. With random_first_node the list starts at a random one."""
    path = opts["path"]
    if isinstance(url, (list, tuple)):
        if not url:
            raise ValueError("the url list is empty")
        urls = [normalize_url(u, path) for u in url]
    else:
        urls = [normalize_url(url, path)]
    if opts["random_first_node"] and len(urls) > 1:
        from .compat import urandom
        k = urandom(1)[0] % len(urls)
        urls = urls[k:] + urls[:k]
    return urls


def normalize_url(url, default_path):
    """The reference client's URL rules: no scheme means ws://, and a URL
    without a path gets the `path` option (default /deepstream)."""
    if not isinstance(url, str) or not url:
        raise ValueError("url must be a non-empty string")
    if url.startswith("http:") or url.startswith("https:"):
        raise ValueError("url must use ws:// or wss://, not http(s): %s" % url)
    if url.startswith("//"):
        url = "ws:" + url
    elif "://" not in url:
        url = "ws://" + url
    scheme = url[:url.find("://")]
    if scheme not in ("ws", "wss"):
        raise ValueError("unsupported url scheme '%s' (use ws:// or wss://)" % scheme)
    if url.find("/", len(scheme) + 3) < 0:
        url += default_path
    return url
