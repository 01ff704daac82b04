#!/usr/bin/env python3
# null-disk.py VM DISK SIZE GEN [FILE]: the content of the null provider's
# disk DISK (index) of VM (number, from 1), SIZE bytes, at generation GEN,
# computed here from the layout providers/null/README.md documents (not
# through ferry), written to FILE (default stdout).  The warm tests compare
# the volumes ferry wrote with it byte for byte.
import sys

SECTOR = 512
CHANGE_BLOCK = 65536


def hole(size):
    return (size // 4) & ~(SECTOR - 1), (size // 2) & ~(SECTOR - 1)


def change_block(size, g):
    hs, _ = hole(size)
    span = hs if hs else size
    off = (g * 37 * 4096) % (span if span else 1)
    off &= ~(SECTOR - 1)
    return off, min(span - off, CHANGE_BLOCK)


def sector(vm, disk, size, gen, offset, blocks):
    hs, he = hole(size)
    if hs <= offset < he:
        return bytes(SECTOR)
    g = 0
    for gg in range(gen, 0, -1):
        off, length = blocks[gg]
        if off <= offset < off + length:
            g = gg
            break
    buf = bytearray((((offset >> 9) * 7 + k + vm * 13 + disk * 5 + g * 3) & 0xff) | 1
                    for k in range(SECTOR))
    head = ("ferry-null vm-%d disk-%d gen-%d offset %d\n" % (vm + 1, disk, g, offset)).encode()
    head = head[:79] + b"\0"  # snprintf into 80 bytes, NUL-terminated
    buf[:len(head)] = head
    return bytes(buf)


def main():
    vm, disk, size, gen = (int(a) for a in sys.argv[1:5])
    out = open(sys.argv[5], "wb") if len(sys.argv) > 5 else sys.stdout.buffer
    blocks = {g: change_block(size, g) for g in range(1, gen + 1)}
    for offset in range(0, size, SECTOR):
        out.write(sector(vm - 1, disk, size, gen, offset, blocks))
    out.close()


main()
