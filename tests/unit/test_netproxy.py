"""The ApiVersions fix of the test proxy (kcat/librdkafka 2.0.2 against Tansu)."""

import struct

from worker.netproxy import strip_api_versions_tags


def test_top_level_tagged_fields_are_dropped_and_the_rest_kept():
    keys = struct.pack(">hhh", 0, 0, 11) + b"\x00" + struct.pack(">hhh", 18, 0, 4) + b"\x00"
    head = struct.pack(">ih", 7, 0) + bytes([3]) + keys + struct.pack(">i", 0)
    tags = bytes.fromhex("040001010108ffffffffffffffff020101030100")
    assert strip_api_versions_tags(head + tags, 3) == head + b"\x00"
    assert strip_api_versions_tags(head + tags, 2) == head + tags
