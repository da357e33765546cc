"""Generated cookies: long, random, and safe on an erl command line."""

from __future__ import annotations

import re

from beamkube.engine.ownership import COOKIE_CHARS, new_cookie


def test_cookies_are_alphanumeric_fixed_length_and_distinct() -> None:
    cookies = {new_cookie() for _ in range(2000)}
    assert len(cookies) == 2000
    for cookie in cookies:
        assert re.fullmatch(r"[A-Za-z0-9]+", cookie) and len(cookie) == COOKIE_CHARS
    # 2000 cookies start with 62 different characters roughly evenly: no fixed prefix, never '-'
    assert len({c[0] for c in cookies}) > 50
