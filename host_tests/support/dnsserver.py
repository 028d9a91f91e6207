"""A small DNS server for tests (UDP, 127.0.0.1, a free port, a thread).

    dns = DnsServer({"deepstream.test": "10.0.2.2"}).start()
    dns.port, dns.queries ({name: count}), dns.silent = True (stop answering), dns.close()

A query for a name in the table gets one A record; any other name NXDOMAIN. Only
what the client's resolver sends is understood: one question, no compression in it.
"""
import socket
import struct
import threading


class DnsServer:
    def __init__(self, names):
        self.names = dict(names)
        self.queries = {}
        self.silent = False
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def _serve(self):
        while not self.closed:
            try:
                data, peer = self.sock.recvfrom(512)
            except (socket.timeout, OSError):
                continue
            reply = self.answer(data)
            if reply is not None and not self.silent:
                self.sock.sendto(reply, peer)

    def answer(self, query):
        if len(query) < 17:
            return None
        labels, i = [], 12
        while query[i]:
            labels.append(query[i + 1:i + 1 + query[i]].decode("ascii", "replace"))
            i += 1 + query[i]
        name = ".".join(labels).lower()
        question = query[12:i + 5]
        self.queries[name] = self.queries.get(name, 0) + 1
        address = self.names.get(name)
        flags = 0x8180 if address else 0x8183  # response, RD, RA; rcode 0 or 3 (NXDOMAIN)
        head = query[:2] + struct.pack(">HHHHH", flags, 1, 1 if address else 0, 0, 0)
        if not address:
            return head + question
        record = struct.pack(">HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(address)
        return head + question + record

    def close(self):
        self.closed = True
        self.thread.join(1)
        self.sock.close()
