"""`beamkube.spec.bounds.image_problem` against the test vectors of distribution/reference (the grammar the
kubelet's image references follow): reference/reference_test.go's TestReferenceParse inputs, valid and invalid.

Role: tests (pure). Differences, on purpose: a digest must use an algorithm go-digest registers with its exact
length (the kubelet refuses others when pulling), so `validname@invaliddigest:...` (a valid *grammar* case there,
refused later by digest validation) is refused here too.
"""

from __future__ import annotations

import pytest

from beamkube.spec.bounds import image_problem

F64 = "f" * 64
VALID = [
    "test_com", "test.com:tag", "test.com:5000", "test.com/repo:tag", "test:5000/repo", "test:5000/repo:tag",
    f"test:5000/repo@sha256:{F64}", f"test:5000/repo:tag@sha256:{F64}", "sub-dom1.foo.com/bar/baz/quux",
    "sub-dom1.foo.com/bar/baz/quux:some-long-tag", "b.gcr.io/test.example.com/my-app:test.example.com",
    "xn--n3h.com/myimage:xn--n3h.com", f"xn--7o8h.com/myimage:xn--7o8h.com@sha512:{'f' * 128}", "foo_bar.com:8080",
    "foo/foo_bar.com:8080", "a/" * 127 + "a:tag-puts-this-over-max", "test.com:8000/foo:TAG5", "[::1]:5000/app:1",
]  # fmt: skip
INVALID = [
    ":justtag", f"@sha256:{F64}", f"validname@invaliddigest:{F64}", "a/" * 128 + "a:tag", "aa/asdf$$^/aa",
    "uppercase/App", "ghcr.io/Acme/app", "app:", "app:-tag", "app:" + "t" * 129, "app@sha256:abc", "app@sha256",
    "app/", "/app", "app//x", "app..x", "-app", "“app:1”", "app:1 ",
]  # fmt: skip


@pytest.mark.parametrize("image", VALID)
def test_valid_references(image: str) -> None:
    assert image_problem(image) is None


@pytest.mark.parametrize("image", INVALID)
def test_invalid_references(image: str) -> None:
    problem = image_problem(image)
    assert problem is not None and "\n" not in problem


def test_the_messages_say_what_is_wrong() -> None:
    assert image_problem("a/" * 128 + "a:tag") == f"'{('a/' * 128)[:60]}...' has a name of 257 characters; at most 255"
    assert (
        image_problem("ghcr.io/Acme/app:1") == "'ghcr.io/Acme/app:1': the repository path must be lowercase (acme/app)"
    )
    assert image_problem("app@sha256:abc") == (
        "'app@sha256:abc': a digest is sha256: and 64 hex digits (or sha384: 96, sha512: 128)"
    )
