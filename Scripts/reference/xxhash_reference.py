"""Reference XXH64 digests for Tests/TabularIOTests/XXHash64Tests.swift (pip install xxhash)."""
import xxhash

for s in [b"", b"a", b"abc", b"The quick brown fox jumps over the lazy dog", bytes(range(256)) * 3]:
    print(len(s), xxhash.xxh64(s).hexdigest())
