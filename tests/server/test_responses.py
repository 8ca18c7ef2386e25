import pytest

from server.responses import byte_range


@pytest.mark.parametrize(
    ("header", "span"),
    [
        ("bytes=0-99", (0, 99)),
        ("bytes=100-", (100, 999)),
        ("bytes=-100", (900, 999)),
        ("bytes=990-5000", (990, 999)),
        ("bytes=1000-", None),
        ("bytes=5-1", None),
        ("bytes=-0", None),
        ("bytes=-", None),
        ("items=0-1", None),
        ("bytes=0-1,5-6", None),
    ],
)
def test_single_byte_ranges_are_parsed_like_rfc_9110(header, span):
    assert byte_range(header, 1000) == span
