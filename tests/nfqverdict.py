#!/usr/bin/env python3
"""Answer every packet of an NFQUEUE queue with one fixed verdict, for the
tests (an IPS or userspace filter in inline mode, as tests/guard.sh needs).

usage: nfqverdict.py QUEUE VERDICT READY_FILE

VERDICT is the netfilter verdict number: 1 NF_ACCEPT, 5 NF_STOP.  Creates
READY_FILE once bound, then runs until killed.  Python stdlib only; run it
only inside a test's own network namespace.
"""

import socket
import struct
import sys

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_VERDICT = 1
NFQNL_MSG_CONFIG = 2
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4


def attr(kind, payload):
    """One netlink attribute, padded to 4 bytes."""
    n = 4 + len(payload)
    return struct.pack("=HH", n, kind) + payload + b"\0" * (-n % 4)


def message(kind, flags, seq, res_id, payload):
    """One nfnetlink message of the queue subsystem."""
    body = struct.pack("=BBH", 0, 0, socket.htons(res_id)) + payload
    kind |= NFNL_SUBSYS_QUEUE << 8
    return struct.pack("=IHHII", 16 + len(body), kind, flags, seq, 0) + body


def main():
    queue, verdict, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    s.bind((0, 0))
    s.send(message(NFQNL_MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, 1, queue,
                   attr(NFQA_CFG_CMD, struct.pack("=BxH",
                                                  NFQNL_CFG_CMD_BIND, 0))))
    s.recv(65536)
    s.send(message(NFQNL_MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, 2, queue,
                   attr(NFQA_CFG_PARAMS, struct.pack(">IB", 0xffff,
                                                     NFQNL_COPY_META))))
    s.recv(65536)
    open(ready, "w").close()
    seq = 3
    while True:
        data = s.recv(65536)
        off = 0
        while off + 16 <= len(data):
            length, kind = struct.unpack_from("=IH", data, off)
            if kind == NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_PACKET:
                a, pid = off + 20, None
                while a + 4 <= off + length:
                    alen, akind = struct.unpack_from("=HH", data, a)
                    if akind & 0x7fff == NFQA_PACKET_HDR:
                        pid = struct.unpack_from(">I", data, a + 4)[0]
                    a += (alen + 3) & ~3
                if pid is not None:
                    s.send(message(NFQNL_MSG_VERDICT, NLM_F_REQUEST, seq,
                                   queue, attr(NFQA_VERDICT_HDR,
                                               struct.pack(">II", verdict,
                                                           pid))))
                    seq += 1
            off += (length + 3) & ~3


if __name__ == "__main__":
    main()
