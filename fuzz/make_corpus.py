"""Writes the seed corpora: control buffers laid out as Linux x86-64 lays them out
(cmsghdr = u64 len, i32 level, i32 type; each message padded to 8 bytes)."""
import os
import socket
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def cmsg(level, kind, payload):
    length = 16 + len(payload)
    return struct.pack("=Qii", length, level, kind) + payload + b"\0" * ((-length) % 8)


def write(target, name, data):
    directory = os.path.join(HERE, "corpus", target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


IP, IPV6, UDP, SOL = socket.IPPROTO_IP, socket.IPPROTO_IPV6, socket.IPPROTO_UDP, socket.SOL_SOCKET
v4 = socket.inet_aton
v6 = lambda text: socket.inet_pton(socket.AF_INET6, text)
messages = {
    "tos": cmsg(IP, 1, b"\xb8"),
    "ttl": cmsg(IP, 2, struct.pack("=i", 64)),
    "pktinfo4": cmsg(IP, 8, struct.pack("=i", 1) + v4("127.0.0.1") + v4("127.0.0.5")),
    "origdst4": cmsg(IP, 20, struct.pack("=H", socket.AF_INET) + struct.pack("!H", 53) + v4("127.0.0.1") + b"\0" * 8),
    "recverr4": cmsg(IP, 11, struct.pack("=IBBBBII", 111, 2, 3, 3, 0, 0, 0)
                     + struct.pack("=H", socket.AF_INET) + b"\0\0" + v4("127.0.0.1") + b"\0" * 8),
    "tclass": cmsg(IPV6, 67, struct.pack("=i", 0x20)),
    "hoplimit": cmsg(IPV6, 52, struct.pack("=i", 9)),
    "pktinfo6": cmsg(IPV6, 50, v6("::1") + struct.pack("=I", 1)),
    "origdst6": cmsg(IPV6, 74, struct.pack("=H", socket.AF_INET6) + struct.pack("!H", 53) + b"\0" * 4 + v6("::1") + b"\0" * 4),
    "recverr6": cmsg(IPV6, 25, struct.pack("=IBBBBII", 111, 3, 1, 4, 0, 0, 0)
                     + struct.pack("=H", socket.AF_INET6) + b"\0" * 6 + v6("::1") + b"\0" * 4),
    "timestamp": cmsg(SOL, 35, struct.pack("=qq", 1700000000, 123456789)),
    "dropped": cmsg(SOL, 40, struct.pack("=I", 7)),
    "gro": cmsg(UDP, 104, struct.pack("=i", 1400)),
    "rights": cmsg(SOL, socket.SCM_RIGHTS, struct.pack("=3i", 7, 8, 9)),
}
for name, data in messages.items():
    write("cmsg_decode", name, data)
write("cmsg_decode", "everything", b"".join(messages.values()))
write("cmsg_decode", "cut", b"".join(messages.values())[:-5])
write("cmsg_decode", "empty", b"")

# FuzzedDataProvider takes integers from the end of the input: a few plain shapes are enough.
for index, seed in enumerate([b"\0" * 64, b"\xff" * 64, bytes(range(64)), bytes(range(255, 191, -1))]):
    write("send_encode", f"seed{index}", seed)
    write("option_codec", f"seed{index}", seed)
    write("segments", f"seed{index}", seed * 8)
    write("coalesce", f"seed{index}", seed * 4)
for name, text in {"v4": b"127.0.0.1", "v6": b"fe80::1%1", "mapped": b"::ffff:10.0.0.1", "path": b"/tmp/x.sock"}.items():
    write("address_parse", name, b"\x00\x35" + text)
