"""Sends one unix datagram carrying COUNT open descriptors (SCM_RIGHTS) to PATH.

    python3 pass_fds.py PATH COUNT TEXT

A second, independent implementation of a unix peer that passes descriptors, which a
datagram server receives whether it wants them or not.
"""
import array
import os
import socket
import sys


def main():
    path, count, text = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    fds = [os.open(os.devnull, os.O_RDONLY) for _ in range(count)]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
        rights = (socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))
        sender.sendmsg([text.encode()], [rights], 0, path)
    for fd in fds:
        os.close(fd)


if __name__ == "__main__":
    main()
