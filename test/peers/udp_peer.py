"""An independent datagram peer for the tests, on Python's socket module.

Reads one JSON command per line on stdin, answers one JSON line per command on
stdout, echoing the command's "seq". Every answer carries "ok"; a failure is
{"ok": false, "error": "<errno name in lowercase, or 'timeout'>", "message": ...}.
Commands that wait (recv, expect_none) run on a thread of their socket, one
after another in the order they came; all others run at once, in order. So a
test may ask for a recv and then, while it waits, for a send on another socket.

Commands (fields beyond "cmd"):

  bind    family ("inet" | "inet6" | "unix"), addr (IP, or a path for unix;
          omitted for unix: unnamed), port (default 0), rcvbuf (optional)
          -> {id, address, port}   (unix: {id, path})
          IP sockets ask for received TOS/TTL (inet) or TCLASS/HOPLIMIT (inet6).
  send    id, addr, port (ignored for unix), hex, optional tos, ttl, tclass,
          hoplimit (set on the socket for this datagram only), count (send it
          that many times, default 1)
          -> {sent: bytes}
  connect id, addr, port  -> {}
  recv    id, timeout (seconds, default 3), bufsize (default 262144)
          -> {hex, length, address, port, truncated, tos?, ttl?, tclass?, hoplimit?}
             (unix: address is the sender's path, '' when unnamed; port 0)
  expect_none id, wait (seconds): {} when nothing arrives, else fails "unexpected"
  drain   id -> {count}: reads and drops whatever is queued, without waiting
  closedport family -> {port}: a port that was bound and closed, nothing listens there
  close   id -> {}
  fileno  id -> {fd}
  exit    -> {} and the process ends
"""
import errno
import json
import os
import queue
import socket
import sys
import threading

IP_RECVTTL = 12
IP_TTL = 2
IP_TOS = 1
IP_RECVTOS = 13
IPV6_RECVHOPLIMIT = 51
IPV6_HOPLIMIT = 52
IPV6_RECVTCLASS = 66
IPV6_TCLASS = 67
IPV6_UNICAST_HOPS = 16

sockets = {}
next_id = [1]


def family_of(name):
    return {"inet": socket.AF_INET, "inet6": socket.AF_INET6, "unix": socket.AF_UNIX}[name]


class Failure(Exception):
    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason


def cmd_bind(req):
    family = req["family"]
    s = socket.socket(family_of(family), socket.SOCK_DGRAM)
    if "rcvbuf" in req:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, req["rcvbuf"])
    if family == "unix":
        if req.get("addr"):
            s.bind(req["addr"])
        ident = next_id[0]
        next_id[0] += 1
        sockets[ident] = (family, s)
        name = s.getsockname()
        return {"id": ident, "path": name if isinstance(name, str) else name.decode() if name else ""}
    if family == "inet":
        s.setsockopt(socket.IPPROTO_IP, IP_RECVTOS, 1)
        s.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
    else:
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVTCLASS, 1)
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1)
    s.bind((req.get("addr", "127.0.0.1" if family == "inet" else "::1"), req.get("port", 0)))
    ident = next_id[0]
    next_id[0] += 1
    sockets[ident] = (family, s)
    name = s.getsockname()
    return {"id": ident, "address": name[0], "port": name[1]}


def get(req):
    ident = req["id"]
    if ident not in sockets:
        raise Failure("ebadf", "no socket %r" % ident)
    return sockets[ident]


def cmd_send(req):
    family, s = get(req)
    data = bytes.fromhex(req["hex"])
    saved = []
    settings = {
        "tos": (socket.IPPROTO_IP, IP_TOS),
        "ttl": (socket.IPPROTO_IP, IP_TTL),
        "tclass": (socket.IPPROTO_IPV6, IPV6_TCLASS),
        "hoplimit": (socket.IPPROTO_IPV6, IPV6_UNICAST_HOPS),
    }
    for key, (level, opt) in settings.items():
        if key in req:
            saved.append((level, opt, s.getsockopt(level, opt)))
            s.setsockopt(level, opt, req[key])
    try:
        for _ in range(req.get("count", 1)):
            if family == "unix":
                sent = s.sendto(data, req["addr"])
            elif req.get("connected"):
                sent = s.send(data)
            else:
                sent = s.sendto(data, (req["addr"], req["port"]))
    finally:
        for level, opt, value in saved:
            s.setsockopt(level, opt, value)
    return {"sent": sent}


def cmd_connect(req):
    family, s = get(req)
    if family == "unix":
        s.connect(req["addr"])
    else:
        s.connect((req["addr"], req["port"]))
    return {}


def cmd_recv(req):
    family, s = get(req)
    s.settimeout(req.get("timeout", 3))
    bufsize = req.get("bufsize", 262144)
    try:
        data, ancillary, flags, sender = s.recvmsg(bufsize, 1024)
    except socket.timeout:
        raise Failure("timeout", "nothing arrived")
    got = {"hex": data.hex(), "length": len(data), "truncated": bool(flags & socket.MSG_TRUNC)}
    if family == "unix":
        if isinstance(sender, bytes):
            sender = sender.decode()
        got["address"] = sender or ""
        got["port"] = 0
    else:
        got["address"] = sender[0]
        got["port"] = sender[1]
    names = {
        (socket.IPPROTO_IP, IP_TOS): "tos",
        (socket.IPPROTO_IP, IP_TTL): "ttl",
        (socket.IPPROTO_IPV6, IPV6_TCLASS): "tclass",
        (socket.IPPROTO_IPV6, IPV6_HOPLIMIT): "hoplimit",
    }
    for level, kind, value in ancillary:
        name = names.get((level, kind))
        if name:
            got[name] = value[0] if len(value) == 1 else int.from_bytes(value[:4], sys.byteorder)
    return got


def cmd_expect_none(req):
    family, s = get(req)
    s.settimeout(max(req.get("wait", 0.2), 0.001))
    try:
        data, _ = s.recvfrom(262144)
    except (socket.timeout, BlockingIOError):
        return {}
    raise Failure("unexpected", "a datagram arrived: " + data.hex())


def cmd_drain(req):
    _, s = get(req)
    s.setblocking(False)
    count = 0
    try:
        while True:
            s.recvfrom(262144)
            count += 1
    except (BlockingIOError, InterruptedError):
        pass
    finally:
        s.setblocking(True)
    return {"count": count}


def cmd_closedport(req):
    family = req.get("family", "inet")
    s = socket.socket(family_of(family), socket.SOCK_DGRAM)
    s.bind(("127.0.0.1" if family == "inet" else "::1", 0))
    port = s.getsockname()[1]
    s.close()
    return {"port": port}


def cmd_close(req):
    _, s = get(req)
    s.close()
    del sockets[req["id"]]
    return {}


def cmd_fileno(req):
    _, s = get(req)
    return {"fd": s.fileno()}


COMMANDS = {
    "bind": cmd_bind,
    "send": cmd_send,
    "connect": cmd_connect,
    "recv": cmd_recv,
    "expect_none": cmd_expect_none,
    "drain": cmd_drain,
    "closedport": cmd_closedport,
    "close": cmd_close,
    "fileno": cmd_fileno,
}


out_lock = threading.Lock()


def say(value):
    with out_lock:
        sys.stdout.write(json.dumps(value) + "\n")
        sys.stdout.flush()


def run(handler, req):
    seq = req.get("seq")
    try:
        result = handler(req)
        result["ok"] = True
    except Failure as e:
        result = {"ok": False, "error": e.reason, "message": str(e)}
    except OSError as e:
        name = errno.errorcode.get(e.errno, "eunknown").lower() if e.errno else "oserror"
        result = {"ok": False, "error": name, "message": str(e)}
    except Exception as e:  # a bug in a command: report, keep serving
        result = {"ok": False, "error": "exception", "message": repr(e)}
    result["seq"] = seq
    say(result)


WAITING = {"recv", "expect_none", "drain"}
lanes = {}


def lane(ident):
    """The queue of waiting commands of one socket, served in order by its own thread."""
    if ident not in lanes:
        q = queue.Queue()

        def serve():
            while True:
                handler, req = q.get()
                run(handler, req)

        threading.Thread(target=serve, daemon=True).start()
        lanes[ident] = q
    return lanes[ident]


def main():
    say({"ok": True, "ready": True, "pid": os.getpid()})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
        except ValueError as e:
            say({"ok": False, "error": "badjson", "message": str(e)})
            continue
        if req.get("cmd") == "exit":
            say({"ok": True, "seq": req.get("seq")})
            break
        handler = COMMANDS.get(req.get("cmd"))
        if handler is None:
            say({"ok": False, "error": "badcmd", "message": repr(req.get("cmd")), "seq": req.get("seq")})
        elif req["cmd"] in WAITING:
            lane(req.get("id")).put((handler, req))
        else:
            run(handler, req)
    os._exit(0)


main()
