"""Sends one unix datagram carrying COUNT open descriptors (SCM_RIGHTS) of FILE to PATH.

    python3 pass_fds.py PATH COUNT TEXT FILE

A second, independent implementation of a unix peer that passes descriptors, which a
datagram server receives whether it wants them or not.
"""
import array
import os
import socket
import sys


def main():
    path, count, text, file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    fds = [os.open(file, os.O_RDONLY) for _ in range(count)]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
        rights = (socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))
        sender.sendmsg([text.encode()], [rights], 0, path)
    for fd in fds:
        os.close(fd)


if __name__ == "__main__":
    main()
