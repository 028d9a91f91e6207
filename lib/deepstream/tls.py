"""TLS for wss://, loaded only when a wss:// link is opened (saves heap on
boards that speak ws:// on a trusted network).

The server is verified BY DEFAULT: see transport.py's module doc.
"""
import binascii


def ssl_context(ca_file=None, verify=True):
    """TLS client context. Verifies the server (chain and host name) unless
    verify is False; None counts as True, so that no value but an explicit
    False can switch verification off."""
    try:
        import ssl  # only when wss:// is used: saves RAM on boards
    except ImportError:
        raise OSError("this build has no ssl module: wss:// unavailable")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if verify is False:
        if hasattr(ctx, "check_hostname"):  # CPython: must be off before CERT_NONE
            ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    if ca_file:
        for der in _certificates(ca_file):
            ctx.load_verify_locations(cadata=der)
    elif hasattr(ctx, "load_default_certs"):
        ctx.load_default_certs()
    else:
        raise OSError("wss:// verifies the server certificate: give the ca_file option "
                      "(this runtime has no system CA store), or verify=False to connect unverified")
    # explicit: MicroPython's PROTOCOL_TLS_CLIENT starts with CERT_NONE and does
    # not verify even with a CA loaded; mbedtls then also checks the host name
    # given to wrap_socket(server_hostname=...)
    ctx.verify_mode = ssl.CERT_REQUIRED
    if hasattr(ctx, "check_hostname"):
        ctx.check_hostname = True
    return ctx


def wrap(t, host, failed):
    """The TLS handshake on transport.Transport t's connected socket (ws_handshake.step):
    the one step of opening that blocks, for what is left of the attempt's time. failed:
    poll() said the TCP connect failed; a second connect() says why (POSIX), before TLS
    would hide it (ws:// learns it from the first send, which lwIP answers more truly)."""
    from .compat import ticks_diff, ticks_ms
    from .ws_handshake import EALREADY, EINPROGRESS, getaddrinfo, parse_url
    sock = t.sock
    if failed:
        try:
            sock.connect(getaddrinfo(t.target or host, parse_url(t.url)[2])[-1])
        except OSError as err:
            if not (err.args and err.args[0] in (EINPROGRESS, EALREADY)):
                raise
    ctx = ssl_context(t.ca_file, t.verify)
    try:
        sock.setblocking(True)
        sock.settimeout(max(ticks_diff(t.stop, ticks_ms()), 1) / 1000)
        sock = ctx.wrap_socket(sock, server_hostname=host)
    except Exception as err:  # ssl.SSLError (CPython), ValueError/OSError (mbedtls)
        raise OSError("TLS handshake with %s failed: %s" % (host, tls_error_text(err)))
    sock.setblocking(False)
    t.sock = sock


def tls_error_text(err):
    """One-line text of a TLS failure (mbedtls texts come wrapped in newlines)."""
    return " ".join(str(err).split()) or type(err).__name__


def _certificates(path):
    """DER certificates of a PEM (one or more) or DER file: MicroPython's
    mbedtls binding only parses DER, CPython takes DER too."""
    with open(path, "rb") as f:
        data = f.read()
    begin, end = b"-----BEGIN CERTIFICATE-----", b"-----END CERTIFICATE-----"
    i = data.find(begin)
    if i < 0:
        return [data]
    out = []
    while i >= 0:
        j = data.find(end, i)
        if j < 0:
            raise ValueError("truncated PEM certificate in " + path)
        out.append(binascii.a2b_base64(data[i + len(begin):j]))
        i = data.find(begin, j)
    return out
