#!/usr/bin/env python3
"""Write a smaller copy of an ICU common data package (ICU's .dat "CmnD" format) for the container image.

Usage: container-icu-data.py FULL.dat TRIMMED.dat

Foundation, linked statically, carries all of ICU's data (34 MB for ICU 76). The image keeps:
- everything that is not per-locale: Unicode properties, normalization, names, time zones (zoneinfo64, metaZones,
  windowsZones), supplemental data, likely subtags, plurals, units, number systems, the root collation;
- the locales root, en, en_US and en_US_POSIX in every tree (their fallback chain; the tools format every figure
  locale-independently, and GRDB's and Foundation's dates use en_US_POSIX).
It leaves out the other locales' names, formats and collations, the legacy character-set converters (*.cnv: the
readers take UTF-8 bytes), the dictionaries that break Chinese, Japanese, Thai, Khmer, Lao and Burmese text into
words, and the transliterators. A locale left out falls back to root, as ICU does for any locale it lacks.

The package layout (ICU's ucmndata.h): a data header (its size in the first two bytes, the magic bytes 0xda 0x27,
then a UDataInfo naming the format "CmnD"), then a table of contents: an item count and per item the offsets,
from the table's start, of its name and its data; the names sorted (ICU finds an item by binary search), each
item's data aligned to 16 bytes.
"""

import re
import struct
import sys

KEPT_LOCALES = {"root", "en", "en_US", "en_US_POSIX"}
# A locale's file name: a language code of two or three letters, then optional script, region and variant parts.
LOCALE = re.compile(r"^[a-z]{2,3}(_[A-Za-z0-9]*)*$")


def fail(message):
    sys.stderr.write(f"container-icu-data: {message}\n")
    sys.exit(1)


def read_package(data):
    if len(data) < 32:
        fail("the input is too short for an ICU data package")
    header_size, magic1, magic2 = struct.unpack_from("<HBB", data, 0)
    if (magic1, magic2) != (0xDA, 0x27):
        fail("the input does not start with ICU's data magic bytes")
    info_size, _, big_endian, charset, _, _ = struct.unpack_from("<HHBBBB", data, 4)
    if big_endian != 0 or charset != 0:
        fail("only little-endian ASCII packages are supported")
    if info_size < 20 or data[12:16] != b"CmnD":
        fail(f"the input is a {data[12:16]!r} item, not a common data package (CmnD)")
    toc = header_size
    if toc + 4 > len(data):
        fail("the table of contents lies outside the package")
    (count,) = struct.unpack_from("<I", data, toc)
    if count == 0 or toc + 4 + 8 * count > len(data):
        fail(f"the table of contents ({count} items) lies outside the package")
    items = []
    for i in range(count):
        name_offset, data_offset = struct.unpack_from("<II", data, toc + 4 + 8 * i)
        start = toc + name_offset
        end = data.find(b"\0", start)
        if start >= len(data) or end < 0:
            fail(f"item {i}'s name lies outside the package")
        try:
            items.append((data[start:end].decode("ascii"), toc + data_offset))
        except UnicodeDecodeError:
            fail(f"item {i}'s name is not ASCII")
    sized = []
    for i, (name, offset) in enumerate(items):
        end = items[i + 1][1] if i + 1 < count else len(data)
        if not offset < end <= len(data):
            fail(f"item {name} lies outside the package")
        sized.append((name, data[offset:end]))
    if [n for n, _ in sized] != sorted(n for n, _ in sized):
        fail("the item names are not sorted")
    return data[:header_size], sized


def kept(name):
    # "icudt76l/zone/en.res" -> tree "zone", file "en.res"
    parts = name.split("/")[1:]
    file = parts[-1]
    tree = parts[0] if len(parts) > 1 else ""
    if file.endswith(".cnv") or (tree == "brkitr" and file.endswith(".dict")) or tree == "translit":
        return False
    stem = file[: -len(".res")] if file.endswith(".res") else None
    if stem is None or stem in ("res_index", "pool"):
        return True
    return stem in KEPT_LOCALES or not LOCALE.match(stem)


def write_package(header, items):
    count = len(items)
    names = b"".join(n.encode("ascii") + b"\0" for n, _ in items)
    table = 4 + 8 * count
    first_data = (table + len(names) + 15) & ~15
    offsets, position = [], first_data
    for _, body in items:
        offsets.append(position)
        position = (position + len(body) + 15) & ~15
    out = bytearray(header)
    out += struct.pack("<I", count)
    name_position = table
    for (name, _), offset in zip(items, offsets):
        out += struct.pack("<II", name_position, offset)
        name_position += len(name) + 1
    out += names
    for (_, body), offset in zip(items, offsets):
        out += b"\0" * (len(header) + offset - len(out))
        out += body
    return bytes(out)


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        sys.exit(64)
    with open(sys.argv[1], "rb") as f:
        header, items = read_package(f.read())
    chosen = [(n, b) for n, b in items if kept(n)]
    prefix = items[0][0].split("/")[0]
    names = {n for n, _ in chosen}
    needed = ("root.res", "en.res", "en_US_POSIX.res", "zoneinfo64.res", "supplementalData.res", "coll/ucadata.icu")
    missing = [n for n in needed if f"{prefix}/{n}" not in names]
    if missing:
        fail(f"the package lacks {', '.join(missing)}")
    out = write_package(header, chosen)
    # Read back what was written: the same items, byte for byte.
    _, again = read_package(out)
    if [(n, b[: len(c)]) for (n, b), (_, c) in zip(again, chosen)] != chosen or len(again) != len(chosen):
        fail("the written package does not read back")
    with open(sys.argv[2], "wb") as f:
        f.write(out)
    total = sum(len(b) for _, b in items)
    print(f"container-icu-data: kept {len(chosen)} of {len(items)} items, {len(out):,} of {total:,} bytes")


main()
