"""A paced datagram sender on Python's socket module, independent of the process under test.

    python3 paced_sender.py PORT COUNT PPS

Sends COUNT datagrams to 127.0.0.1:PORT, the i-th carrying the decimal text of i, at PPS a
second: datagram i leaves at start + i / PPS (spinning on the clock, so that they come one by
one rather than in bursts). Prints {"sent": COUNT, "seconds": ...} when done.
"""
import json
import socket
import sys
import time


def main():
    port, count, rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.connect(("127.0.0.1", port))
    start = time.perf_counter()
    for i in range(count):
        due = start + i / rate
        while time.perf_counter() < due:
            pass
        sender.send(str(i).encode())
    print(json.dumps({"sent": count, "seconds": time.perf_counter() - start}), flush=True)


if __name__ == "__main__":
    main()
