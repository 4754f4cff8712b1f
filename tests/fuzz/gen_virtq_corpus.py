#!/usr/bin/env python3
"""Write the seed corpora of fuzz_virtq_split and fuzz_virtq_packed
(tests/fuzz/corpus/virtq_{split,packed}/seed-*). Input format: see
tests/fuzz/fuzz_virtq.h. Run from anywhere; rewrites the seed-* files only
(crash reproducers, named otherwise, are kept)."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
RING = 0x1000
BUF = 0x80000
TABLE = 0x9000   # inside the 64 KiB the write command reaches
AVAIL_F, USED_F = 1 << 7, 1 << 15
NEXT, WRITE, INDIRECT = 1, 2, 4


def w(off, data):              # command 0: raw write into [0, 64 KiB)
    out = b""
    while data:
        chunk, data = data[:255], data[255:]
        out += bytes([0]) + struct.pack("<HB", off, len(chunk)) + chunk
        off += len(chunk)
    return out


def desc(addr, ln, a, b):      # split (flags, next) / packed (id, flags)
    return struct.pack("<QIHH", addr, ln, a, b)


def fetch(n=64):
    return bytes([1, n - 1])


def used(i, ln):
    return bytes([2]) + struct.pack("<HI", i, ln)


SIGNAL, ENABLE, DISABLE, AVAIL_EMPTY, GET_BUF, DELAYED, KICK = (
    bytes([3]), bytes([4]), bytes([5]), bytes([7]), bytes([9]), bytes([10]), bytes([11]))


def discard(n):
    return bytes([6, n])


def add(shape):
    return bytes([8, shape])


def split_layout(num):
    avail = RING + 16 * num
    used_ = (avail + 6 + 2 * num + 4095) & ~4095
    return RING, avail, used_


def split_avail(num, heads, idx=None):
    _, avail, _ = split_layout(num)
    out = b""
    for k, h in enumerate(heads):
        out += w(avail + 4 + 2 * (k % num), struct.pack("<H", h))
    return out + w(avail + 2, struct.pack("<H", len(heads) if idx is None else idx))


def split_seeds():
    sel8, n8 = 3, 8
    s = {}
    s["basic"] = bytes([sel8, 0]) + w(RING, desc(BUF, 64, 0, 0)) + split_avail(n8, [0]) + \
        fetch() + used(0, 0) + SIGNAL + fetch()
    chain = desc(BUF, 64, NEXT, 1) + desc(BUF + 64, 64, NEXT | WRITE, 2) + desc(BUF + 128, 64, WRITE, 0)
    s["chain"] = bytes([sel8, 1]) + w(RING, chain) + split_avail(n8, [0]) + DISABLE + fetch() + \
        used(0, 100) + SIGNAL + ENABLE + AVAIL_EMPTY
    table = desc(BUF, 10, NEXT, 1) + desc(BUF + 64, 20, WRITE, 2)
    s["indirect"] = bytes([sel8, 0]) + w(TABLE, table) + w(RING, desc(TABLE, 32, INDIRECT, 0)) + \
        split_avail(n8, [0]) + fetch() + used(0, 20) + SIGNAL
    s["loop"] = bytes([sel8, 0]) + w(RING, desc(BUF, 8, NEXT, 1) + desc(BUF, 8, NEXT, 0)) + \
        split_avail(n8, [0]) + fetch()
    s["bad_head"] = bytes([sel8, 0]) + split_avail(n8, [9]) + fetch()
    s["idx_jump"] = bytes([sel8, 0]) + split_avail(n8, [0], idx=200) + fetch()
    s["nested"] = bytes([sel8, 0]) + w(TABLE, desc(TABLE, 16, INDIRECT, 0)) + \
        w(RING, desc(TABLE, 16, INDIRECT, 0)) + split_avail(n8, [0]) + fetch()
    s["ind_len"] = bytes([sel8, 0]) + w(RING, desc(TABLE, 24, INDIRECT, 0)) + split_avail(n8, [0]) + fetch()
    s["outside"] = bytes([sel8, 0]) + w(RING, desc(0x200000, 64, 0, 0)) + split_avail(n8, [0]) + fetch()
    s["driver"] = bytes([sel8, 5]) + add(0) + add(9) + add(0x12) + KICK + fetch() + fetch() + \
        fetch() + used(0, 1) + used(1, 2) + used(3, 0) + SIGNAL + GET_BUF + GET_BUF + GET_BUF + \
        DELAYED + discard(1)
    s["driver_wrap"] = bytes([1, 1]) + (add(0) + KICK + fetch() + used(0, 4) + SIGNAL + GET_BUF) * 40
    return s


def pk(addr, ln, i, flags, wrap=1):
    f = flags | ((AVAIL_F if wrap else USED_F))
    return desc(addr, ln, i, f)


def packed_seeds():
    sel8, n8 = 7, 8
    s = {}
    s["basic"] = bytes([sel8, 0]) + w(RING, pk(BUF, 64, 0, 0)) + fetch() + used(0, 0) + SIGNAL + fetch()
    chain = pk(BUF, 64, 3, NEXT) + pk(BUF + 64, 64, 3, NEXT | WRITE) + pk(BUF + 128, 64, 3, WRITE)
    s["chain"] = bytes([sel8, 1]) + w(RING, chain) + DISABLE + fetch() + used(3, 100) + SIGNAL + \
        ENABLE + AVAIL_EMPTY
    table = pk(BUF, 10, 0, 0) + pk(BUF + 64, 20, 0, WRITE)
    s["indirect"] = bytes([sel8, 0]) + w(TABLE, table) + w(RING, pk(TABLE, 32, 1, INDIRECT)) + \
        fetch() + used(1, 20) + SIGNAL
    s["wrap_bad"] = bytes([sel8, 0]) + w(RING, pk(BUF, 8, 0, NEXT) + pk(BUF, 8, 0, 0, wrap=0)) + fetch()
    s["bad_id"] = bytes([sel8, 0]) + w(RING, pk(BUF, 8, 200, 0)) + fetch()
    s["all_next"] = bytes([sel8, 0]) + w(RING, b"".join(pk(BUF, 8, 0, NEXT) for _ in range(n8))) + fetch()
    s["driver"] = bytes([sel8, 5]) + add(0) + add(9) + add(0x12) + KICK + fetch() + fetch() + \
        fetch() + used(0, 1) + used(1, 2) + used(3, 0) + SIGNAL + GET_BUF + GET_BUF + GET_BUF + \
        DELAYED + discard(1)
    s["driver_wrap"] = bytes([2, 1]) + (add(0) + KICK + fetch() + used(0, 4) + SIGNAL + GET_BUF) * 40
    return s


def main():
    for name, seeds in (("virtq_split", split_seeds()), ("virtq_packed", packed_seeds())):
        d = os.path.join(HERE, "corpus", name)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            if f.startswith("seed-"):
                os.remove(os.path.join(d, f))
        for k, v in seeds.items():
            with open(os.path.join(d, "seed-" + k), "wb") as fh:
                fh.write(v)


if __name__ == "__main__":
    main()
