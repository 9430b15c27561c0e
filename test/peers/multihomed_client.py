"""Asks a server on the wildcard address from several of the host's addresses and reports,
for each reply, where it came from and the TTL and TOS it arrived with.

    python3 multihomed_client.py PORT DEST:TTL:TOS [DEST:TTL:TOS ...]
"""
import json
import socket
import sys

IP_RECVTTL = 12  # not exported by Python's socket module
IP_TTL_CMSG = 2


def ask(port, destination, ttl, tos):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, tos)
        s.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
        s.settimeout(3)
        s.sendto(("to " + destination).encode(), (destination, port))
        data, ancillary, _flags, sender = s.recvmsg(2048, 256)
        reply = {"data": data.decode(), "from": sender[0], "port": sender[1]}
        for level, kind, value in ancillary:
            if level == socket.IPPROTO_IP and kind == IP_TTL_CMSG:
                reply["ttl"] = int.from_bytes(value[:4], sys.byteorder)
            if level == socket.IPPROTO_IP and kind == socket.IP_TOS:
                reply["tos"] = value[0]
        return reply
    finally:
        s.close()


def main():
    port = int(sys.argv[1])
    replies = []
    for spec in sys.argv[2:]:
        destination, ttl, tos = spec.split(":")
        replies.append(ask(port, destination, int(ttl), int(tos)))
    print(json.dumps(replies))


main()
