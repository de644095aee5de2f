"""Bodies shaped like real browsers' and clients', and the classic edge cases, as cases of our own.

Each case is fed whole, byte by byte, in 7-byte pieces and split at every byte (as the shared
conformance checker does), on both implementations. ../shared/conformance/check.py, when that folder
is present, is run as well.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import fastmime

from ._helpers import split_every

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\r\n\x1a\n--\r\n" * 3


def crlf(*lines: bytes) -> bytes:
    return b"\r\n".join(lines)


FIREFOX_B = b"---------------------------186454651713519341951581030105"
WEBKIT_B = b"----WebKitFormBoundaryTkr3kCBQlBe1nrhc"
IE_B = b"---------------------------7d91b03a20128"
CURL_B = b"------------------------d74496d66958873e"
IE7_B = b"---------------------------7da36d1b4a0164"

CASES = {
    "firefox-2files-1text": (
        FIREFOX_B,
        crlf(
            b"--" + FIREFOX_B,
            b'Content-Disposition: form-data; name="file1"; filename="anchor.png"',
            b"Content-Type: image/png",
            b"",
            PNG,
            b"--" + FIREFOX_B,
            b'Content-Disposition: form-data; name="file2"; filename="application_edit.png"',
            b"Content-Type: image/png",
            b"",
            PNG[::-1],
            b"--" + FIREFOX_B,
            b'Content-Disposition: form-data; name="text"',
            b"",
            b"example text",
            b"--" + FIREFOX_B + b"--",
            b"",
        ),
        [("file1", "anchor.png", PNG), ("file2", "application_edit.png", PNG[::-1]), ("text", None, b"example text")],
    ),
    "webkit-lookalike-text": (
        WEBKIT_B,
        crlf(
            b"--" + WEBKIT_B,
            b'Content-Disposition: form-data; name="text"',
            b"",
            b"--long text\r\n--with boundary\r\n--lookalikes--",
            b"--" + WEBKIT_B + b"--",
            b"",
        ),
        [("text", None, b"--long text\r\n--with boundary\r\n--lookalikes--")],
    ),
    "ie6-full-path": (
        IE_B,
        crlf(
            b"--" + IE_B,
            b'Content-Disposition: form-data; name="file1"; filename="C:\\Documents and Settings\\u\\file1.png"',
            b"Content-Type: image/x-png",
            b"",
            PNG,
            b"--" + IE_B + b"--",
            b"",
        ),
        [("file1", "C:\\Documents and Settings\\u\\file1.png", PNG)],
    ),
    "curl-F": (
        CURL_B,
        crlf(
            b"--" + CURL_B,
            b'Content-Disposition: form-data; name="caption0"',
            b"",
            b"sunset",
            b"--" + CURL_B,
            b'Content-Disposition: form-data; name="pic"; filename="sun.jpg"',
            b"Content-Type: image/jpeg",
            b"",
            b"\xff\xd8\xff\xd9",
            b"--" + CURL_B + b"--",
            b"",
        ),
        [("caption0", None, b"sunset"), ("pic", "sun.jpg", b"\xff\xd8\xff\xd9")],
    ),
    "old-api-client-no-name": (
        b"SoMeTeXtWeWiLlNeVeRsEe",
        crlf(
            b"--SoMeTeXtWeWiLlNeVeRsEe",
            b'Content-Disposition: form-data; name="method"',
            b"",
            b"up.photos.upload",
            b"--SoMeTeXtWeWiLlNeVeRsEe",
            b'Content-Disposition: form-data; filename="somefilename.jpg"',
            b"Content-Type: image/jpg",
            b"",
            b"JPEG",
            b"--SoMeTeXtWeWiLlNeVeRsEe--",
        ),
        [("method", None, b"up.photos.upload"), ("", "somefilename.jpg", b"JPEG")],
    ),
    "ie7-bare-lf": (
        IE7_B,
        b"\n".join(
            [
                b"--" + IE7_B,
                b'Content-Disposition: form-data; name="title"',
                b"",
                b"2010",
                b"--" + IE7_B,
                b'Content-Disposition: form-data; name="doc"; filename="minutes.doc"',
                b"Content-Type: application/msword",
                b"",
                b"\xd0\xcf\x11\xe0\r\r\r",
                b"--" + IE7_B + b"--",
                b"",
            ]
        ),
        [("title", None, b"2010"), ("doc", "minutes.doc", b"\xd0\xcf\x11\xe0\r\r\r")],
    ),
    "leading-newlines-and-trailer": (
        b"b",
        b"\r\n\r\n"
        + crlf(b"--b", b'Content-Disposition: form-data; name="f"', b"", b"v", b"--b--", b"trailer is epilogue")
        + b"\r",
        [("f", None, b"v")],
    ),
    "dense-crlf-data": (
        b"b",
        crlf(
            b"--b",
            b'Content-Disposition: form-data; name="f"; filename="crlf.bin"',
            b"",
            b"\r\n\r\r\n\n" * 20,
            b"--b--",
        ),
        [("f", "crlf.bin", b"\r\n\r\r\n\n" * 20)],
    ),
    "almost-boundary": (
        b"--boundary",
        crlf(
            b"----boundary",
            b'Content-Disposition: form-data; name="f"',
            b"",
            b"--boundar\r\n----boundar\r\n--boundary-",
            b"----boundary--",
        ),
        [("f", None, b"--boundar\r\n----boundar\r\n--boundary-")],
    ),
    "empty-form": (b"b", b"--b--\r\n", []),
    "header-with-odd-token-names": (
        b"b",
        crlf(
            b"--b",
            b'Content-Disposition: form-data; filename="secret.txt"; name="files"',
            b"Content-Type: text/plain; charset=utf-8",
            b"X-Funky-Header-1: bar",
            b"abcdefghijklmnopqrstuvwxyz01234: foo",
            b"other!#$%&'*+-.^_`|~: baz",
            b"",
            b"aaaaaa",
            b"--b--",
        ),
        [("files", "secret.txt", b"aaaaaa")],
    ),
}

ERRORS = {
    "cr-lf-in-header-name": (
        b"b",
        crlf(b"--b", b"Content-", b'isposition: form-data; name="f"', b"", b"x", b"--b--"),
        fastmime.InvalidHeader,
    ),
    "cr-in-header-value": (
        b"b",
        crlf(b"--b", b'Content-Disposition: form-data; n\rme="f"', b"", b"x", b"--b--"),
        fastmime.InvalidHeader,
    ),
    # The header block never ends: the body is incomplete (a longer one would hit max_header_size).
    "bad-end-of-headers": (
        b"b",
        crlf(b"--b", b'Content-Disposition: form-data; name="f"', b"\rQx", b"--b--"),
        fastmime.IncompleteBody,
    ),
    "bad-header-char": (
        b"b",
        crlf(b"--b", b'Content-<<<position: form-data; name="f"', b"", b"x", b"--b--"),
        fastmime.InvalidHeader,
    ),
    "empty-header-name": (b"b", crlf(b"--b", b': form-data; name="f"', b"", b"x", b"--b--"), fastmime.InvalidHeader),
    "close-with-single-dash": (b"--boundary", b"----boundary-X\r\n", fastmime.InvalidDelimiter),
    "delimiter-then-junk": (
        b"--boundary",
        crlf(
            b"----boundary",
            b'Content-Disposition: form-data; name="f"',
            b"",
            b"x",
            b"----boundaryQQQ",
            b"----boundary--",
        ),
        fastmime.InvalidDelimiter,
    ),
}


def chunkings(body):
    yield [body]
    yield split_every(body, 1)
    yield split_every(body, 7)
    if len(body) <= 2048:
        for k in range(1, len(body)):
            yield [body[:k], body[k:]]


def run(parser_cls, boundary, chunks):
    got = []

    class Keep:
        def __init__(self, part):
            self.rec = [part.name, part.filename, bytearray(), False]
            got.append(self.rec)

        def on_data(self, chunk):
            self.rec[2] += chunk

        def on_end(self):
            self.rec[3] = True

        def on_abort(self, error):
            pass

    parser = parser_cls(boundary, Keep)
    for c in chunks:
        parser.feed(c)
    parser.close()
    assert all(rec[3] for rec in got)
    return [(n, f, bytes(d)) for n, f, d, _ in got]


@pytest.mark.parametrize("name", sorted(CASES))
def test_valid_corpus(parser_cls, name):
    boundary, body, expected = CASES[name]
    for chunks in chunkings(body):
        assert run(parser_cls, boundary, chunks) == expected


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error_corpus(parser_cls, name):
    boundary, body, error_cls = ERRORS[name]
    for chunks in chunkings(body):
        with pytest.raises(error_cls):
            run(parser_cls, boundary, chunks)


SHARED = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "check.py"


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/conformance is not beside this checkout")
@pytest.mark.parametrize("flag", [[], ["--pure"]], ids=["fastest", "pure"])
def test_shared_conformance_checker(flag):
    result = subprocess.run(
        [sys.executable, str(SHARED), *flag],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].endswith(" 0 failed")
