"""An independent UDP peer for the ancillary-data tests, on Python's socket module.

    ancillary_peer.py send FAMILY DEST PORT HEX [--tos N] [--ttl N] [--tclass N] [--hops N]
                                                [--segment N] [--source ADDR]
        sends one datagram (UDP_SEGMENT splits it in the kernel) and prints {"port": source port}
    ancillary_peer.py recv FAMILY BIND [--count K] [--timeout S]
        prints {"port": bound port}, then one line per datagram:
        {"data": hex, "from": address, "port": port, "tos"|"ttl"|"tclass"|"hoplimit": n}
    ancillary_peer.py icmp FAMILY
        prints {"port": p} of a port that was bound and closed (nothing listens there)
"""
import argparse
import json
import socket
import sys

SOL_UDP = 17
UDP_SEGMENT = 103
IP_RECVTTL = 12
IP_TTL = 2
IPV6_RECVHOPLIMIT = 51
IPV6_HOPLIMIT = 52
IPV6_RECVTCLASS = 66
IPV6_TCLASS = 67


def family_of(name):
    return socket.AF_INET6 if name == "inet6" else socket.AF_INET


def say(value):
    print(json.dumps(value), flush=True)


def send(args):
    s = socket.socket(family_of(args.family), socket.SOCK_DGRAM)
    if args.source:
        s.bind((args.source, 0))
    if args.tos is not None:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, args.tos)
    if args.ttl is not None:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, args.ttl)
    if args.tclass is not None:
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_TCLASS, args.tclass)
    if args.hops is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, args.hops)
    if args.segment is not None:
        s.setsockopt(SOL_UDP, UDP_SEGMENT, args.segment)
    s.sendto(bytes.fromhex(args.hex), (args.dest, args.port))
    say({"port": s.getsockname()[1]})


def recv(args):
    family = family_of(args.family)
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    if family == socket.AF_INET:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
        s.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
    else:
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVTCLASS, 1)
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1)
    s.bind((args.bind, 0))
    s.settimeout(args.timeout)
    say({"port": s.getsockname()[1]})
    for _ in range(args.count):
        data, ancillary, _flags, sender = s.recvmsg(65536, 1024)
        got = {"data": data.hex(), "from": sender[0], "port": sender[1]}
        for level, kind, value in ancillary:
            number = value[0] if len(value) == 1 else int.from_bytes(value[:4], sys.byteorder)
            name = {
                (socket.IPPROTO_IP, socket.IP_TOS): "tos",
                (socket.IPPROTO_IP, IP_TTL): "ttl",
                (socket.IPPROTO_IPV6, IPV6_TCLASS): "tclass",
                (socket.IPPROTO_IPV6, IPV6_HOPLIMIT): "hoplimit",
            }.get((level, kind))
            if name:
                got[name] = number
        say(got)


def icmp(args):
    s = socket.socket(family_of(args.family), socket.SOCK_DGRAM)
    s.bind(("::1" if args.family == "inet6" else "127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    say({"port": port})


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("send")
    p.add_argument("family")
    p.add_argument("dest")
    p.add_argument("port", type=int)
    p.add_argument("hex")
    for flag in ("--tos", "--ttl", "--tclass", "--hops", "--segment"):
        p.add_argument(flag, type=int)
    p.add_argument("--source")
    p = sub.add_parser("recv")
    p.add_argument("family")
    p.add_argument("bind")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--timeout", type=float, default=5)
    p = sub.add_parser("icmp")
    p.add_argument("family")
    args = parser.parse_args()
    {"send": send, "recv": recv, "icmp": icmp}[args.command](args)


main()
