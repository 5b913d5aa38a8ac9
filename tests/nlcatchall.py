#!/usr/bin/env python3
"""Add the catch-all element ("*") to an nftables set, for the tests.

usage: nlcatchall.py FAMILY TABLE SET

nft 1.0.6 crashes on `add element ... { * }` for an interval set, but the
kernel takes a catch-all in any set, and a lookup then matches every
address.  This sends the one-element batch over netlink itself (Python
stdlib only) and exits 0 once the kernel acknowledged it, 1 otherwise.
Run it only inside a test's own network namespace.
"""

import socket
import struct
import sys

NETLINK_NETFILTER = 12
NFNL_SUBSYS_NFTABLES = 10
NFNL_MSG_BATCH_BEGIN = 16
NFNL_MSG_BATCH_END = 17
NFT_MSG_NEWSETELEM = 12
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_CREATE = 0x400
NLMSG_ERROR = 2
NLA_F_NESTED = 0x8000
NFTA_SET_ELEM_LIST_TABLE = 1
NFTA_SET_ELEM_LIST_SET = 2
NFTA_SET_ELEM_LIST_ELEMENTS = 3
NFTA_LIST_ELEM = 1
NFTA_SET_ELEM_FLAGS = 3
NFT_SET_ELEM_CATCHALL = 0x2
FAMILIES = {"inet": 1, "ip": 2, "ip6": 10}


def attr(kind, payload):
    """One netlink attribute, padded to 4 bytes."""
    n = 4 + len(payload)
    return struct.pack("=HH", n, kind) + payload + b"\0" * (-n % 4)


def message(kind, flags, seq, family, res_id, payload):
    """One nfnetlink message: nlmsghdr, nfgenmsg, attributes."""
    body = struct.pack("=BBH", family, 0, socket.htons(res_id)) + payload
    return struct.pack("=IHHII", 16 + len(body), kind, flags, seq, 0) + body


def main():
    family, table, name = sys.argv[1:4]
    elem = attr(NFTA_LIST_ELEM | NLA_F_NESTED,
                attr(NFTA_SET_ELEM_FLAGS,
                     struct.pack("!I", NFT_SET_ELEM_CATCHALL)))
    payload = (attr(NFTA_SET_ELEM_LIST_TABLE, table.encode() + b"\0") +
               attr(NFTA_SET_ELEM_LIST_SET, name.encode() + b"\0") +
               attr(NFTA_SET_ELEM_LIST_ELEMENTS | NLA_F_NESTED, elem))
    batch = (message(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, 1, 0,
                     NFNL_SUBSYS_NFTABLES, b"") +
             message(NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWSETELEM,
                     NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE, 2,
                     FAMILIES[family], 0, payload) +
             message(NFNL_MSG_BATCH_END, NLM_F_REQUEST, 3, 0,
                     NFNL_SUBSYS_NFTABLES, b""))
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    s.settimeout(5)
    s.bind((0, 0))
    s.send(batch)
    data = s.recv(65536)
    length, kind = struct.unpack_from("=IH", data)
    if kind != NLMSG_ERROR:
        print("nlcatchall: unexpected reply type %d" % kind, file=sys.stderr)
        return 1
    (err,) = struct.unpack_from("=i", data, 16)
    if err != 0:
        print("nlcatchall: kernel error %d" % -err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
