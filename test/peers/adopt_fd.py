"""Makes a UDP socket on 127.0.0.1 (port 0) in Python, then execs Node with it inherited.

    adopt_fd.py NODE SCRIPT [ARGS...]

The socket's descriptor number and bound port are appended to the Node command line, so
the Node process gets a datagram socket it did not create: what `listen({ fd })` adopts.
"""
import os
import socket
import sys

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.set_inheritable(True)
fd = s.fileno()
port = s.getsockname()[1]
os.execv(sys.argv[1], sys.argv[1:] + [str(fd), str(port)])
