#!/usr/bin/env python3
"""Tests of Scripts/container-icu-data.py on small packages made here, in ICU's common data layout, and on
malformed ones. Usage: container_icu_data.py (prints "container-icu-data: N passed"; exit 1 on a failure)."""

import os
import struct
import subprocess
import sys
import tempfile

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "container-icu-data.py")
PREFIX = "icudt76l"


def item(tag, payload):
    """One item: its own data header (size 32, magic, a UDataInfo naming the format tag), then the payload."""
    info = struct.pack("<HHBBBB4s4s4s", 20, 0, 0, 0, 2, 0, tag, b"\1\0\0\0", b"\1\0\0\0")
    head = struct.pack("<HBB", 32, 0xDA, 0x27) + info
    return head + b"\0" * (32 - len(head)) + payload


def package(items, magic=(0xDA, 0x27), fmt=b"CmnD", big_endian=0, sort=True):
    info = struct.pack("<HHBBBB4s4s4s", 20, 0, big_endian, 0, 2, 0, fmt, b"\1\0\0\0", b"\1\0\0\0")
    header = struct.pack("<HBB", 32, *magic) + info
    header += b"\0" * (32 - len(header))
    entries = sorted(items.items()) if sort else list(items.items())
    names = b"".join(f"{PREFIX}/{n}".encode() + b"\0" for n, _ in entries)
    table = 4 + 8 * len(entries)
    position = (table + len(names) + 15) & ~15
    toc, bodies, name_at = struct.pack("<I", len(entries)), b"", table
    for n, body in entries:
        toc += struct.pack("<II", name_at, position + len(bodies))
        name_at += len(f"{PREFIX}/{n}") + 1
        bodies += body + b"\0" * (-len(body) % 16)
    out = header + toc + names
    out += b"\0" * (len(header) + ((table + len(names) + 15) & ~15) - len(out))
    return out + bodies


def read(data):
    header_size = struct.unpack_from("<H", data, 0)[0]
    (count,) = struct.unpack_from("<I", data, header_size)
    offsets = [struct.unpack_from("<II", data, header_size + 4 + 8 * i) for i in range(count)]
    result = {}
    for i, (name_at, data_at) in enumerate(offsets):
        start = header_size + name_at
        name = data[start : data.index(b"\0", start)].decode()
        assert (header_size + data_at) % 16 == 0, f"{name} is not aligned to 16 bytes"
        end = header_size + offsets[i + 1][1] if i + 1 < count else len(data)
        result[name.split("/", 1)[1]] = data[header_size + data_at : end]
    return result


def run(data):
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "in.dat"), os.path.join(d, "out.dat")
        with open(src, "wb") as f:
            f.write(data)
        p = subprocess.run([sys.executable, SCRIPT, src, dst], capture_output=True, text=True)
        out = open(dst, "rb").read() if os.path.exists(dst) else None
        return p.returncode, p.stdout + p.stderr, out


NEEDED = ["root.res", "en.res", "en_US_POSIX.res", "zoneinfo64.res", "supplementalData.res", "coll/ucadata.icu"]
passed = 0


def check(condition, what):
    global passed
    if not condition:
        print(f"container-icu-data: FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    passed += 1


def main():
    names = NEEDED + [
        "en_US.res", "de.res", "de_CH.res", "zh_Hant_TW.res", "res_index.res", "pool.res", "metaZones.res",
        "ibm-943_P15A-2003.cnv", "cnvalias.icu", "unames.icu", "nfkc.nrm", "brkitr/cjdict.dict", "brkitr/word.brk",
        "brkitr/en.res", "brkitr/ja.res", "coll/root.res", "coll/zh.res", "coll/de__PHONEBOOK.res", "zone/en.res",
        "zone/fr.res", "zone/tzdbNames.res", "zone/pool.res", "translit/root.res", "curr/supplementalData.res",
    ]
    items = {n: item(b"ResB", n.encode() * (3 + i % 5)) for i, n in enumerate(names)}
    code, text, out = run(package(items))
    check(code == 0, f"a well-formed package: exit {code}: {text}")
    got = read(out)
    kept = sorted(NEEDED + [
        "en_US.res", "res_index.res", "pool.res", "metaZones.res", "cnvalias.icu", "unames.icu", "nfkc.nrm",
        "brkitr/word.brk", "brkitr/en.res", "coll/root.res", "zone/en.res", "zone/tzdbNames.res", "zone/pool.res",
        "curr/supplementalData.res",
    ])
    check(sorted(got) == kept, f"the kept items: {sorted(got)}")
    check(list(got) == sorted(got), "the written names are sorted")
    check(all(got[n][: len(items[n])] == items[n] for n in got), "every kept item byte for byte")
    check(f"kept {len(kept)} of {len(names)} items" in text, f"the summary: {text}")
    # The script's own output read back by the script: nothing more is left out.
    code, _, again = run(out)
    check(code == 0 and read(again) == got, "trimming a trimmed package changes nothing")

    def refused(data, message, what):
        code, text, out = run(data)
        check(code == 1 and message in text and out is None, f"{what}: exit {code}, {text!r}")

    good = package(items)
    refused(b"", "too short", "an empty file")
    refused(good[:20], "too short", "a truncated header")
    refused(package(items, magic=(0xDA, 0x28)), "magic bytes", "other magic bytes")
    refused(package(items, fmt=b"ResB"), "not a common data package", "a single item, not a package")
    refused(package(items, big_endian=1), "little-endian", "a big-endian package")
    refused(package(items, sort=False), "not sorted", "names out of order")
    refused(package({n: b for n, b in items.items() if n != "zoneinfo64.res"}), "lacks zoneinfo64.res",
            "a package without time zones")
    cut = bytearray(good)
    struct.pack_into("<I", cut, 32, 1 << 20)  # an item count far beyond the file
    refused(bytes(cut), "outside the package", "a table of contents beyond the file")
    bad = bytearray(good)
    struct.pack_into("<II", bad, 36 + 8 * 3, 4 + 8 * len(items), len(good) + 64)  # an item's data beyond the end
    refused(bytes(bad), "outside the package", "an item beyond the end")
    print(f"container-icu-data: {passed} passed")


main()
