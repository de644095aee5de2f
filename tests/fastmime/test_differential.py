"""fastmime vs defnull's ``multipart`` (``multipart.PushMultipartParser``, checked against 2.0.1).

On generated valid bodies that both grammars read the same way, both parsers must report the same
parts: name, filename, Content-Type as sent, header lines and data, whatever the chunking.

Where the grammars differ, and so what ``body_specs(compat=True)`` never generates (each case is shown
by an example test at the end of this module; "RFC" means RFC 2046 for the framing, RFC 7578 for
form-data, RFC 7230 for header syntax):

======================================  ===============================  ====================================
input                                   fastmime                         multipart 2.0.1
======================================  ===============================  ====================================
bare LF line ends everywhere            accepted (lenient, documented)   error; RFC requires CRLF
transport padding ``--B  \\r\\n``         accepted, as RFC 2046 allows     error ("Unexpected byte(s) after")
``--B`` inside a preamble line          skipped: a delimiter must start  error ("Unexpected byte in front
                                        a line (RFC)                     of first boundary")
preamble ending with a bare LF          accepted (lenient)               error
folded header line (obs-fold)           InvalidHeader                    unfolded (non-strict mode)
trailing spaces/tabs in a header value  dropped (RFC 7230 OWS)           kept
space before the header colon           InvalidHeader (RFC 7230 3.2.4)   accepted, name stripped
header names outside ``[A-Za-z0-9_-]``  any RFC 7230 token accepted      error
control characters in header values     InvalidHeader (RFC 7230)         accepted
header bytes that are not UTF-8         decoded as Latin-1               error
``%22``/``%0A``/``%0D`` in name/filename  kept as sent                     decoded (WHATWG HTML encoding)
backslashes in quoted values            ``\\"`` and ``\\\\`` unescaped, any  unescaped only if a ``\\"`` occurs;
                                        other backslash kept, path kept  ``C:\\`` / ``\\\\`` paths cut to basename
repeated name/filename parameter        InvalidContentDisposition        the last one wins
two Content-Disposition headers         InvalidContentDisposition        the last one wins
two Content-Type headers                the first one wins               ``.content_type``: the last one
``filename*`` (RFC 5987)                decoded, preferred               ignored (RFC 7578 4.2: MUST NOT be
                                                                         sent)
unquoted value with spaces ``name=a b``  ``a b`` (up to the next ``;``)   ``a`` (a token only)
``;`` followed by a tab                 a separator (RFC 7230 OWS)       the parameter is skipped, and a
                                                                         quoted value may be misread
part ``Content-Length`` header          ignored (RFC 7578 4.8)           checked against the data
missing name parameter                  name ``""``                      ``""``; error in strict mode
data after the close delimiter          ignored (RFC: epilogue)          error in strict mode if it comes
                                                                         in a later chunk
boundary longer than 70 bytes           BoundaryTooLong (RFC 2046)       accepted
======================================  ===============================  ====================================

So the generated bodies here use CRLF, no transport padding, a preamble (if any) with no ``--B`` and
ending in CRLF, names and filenames with no ``%`` or backslash, quoted or token values, header names
in ``[A-Za-z0-9_-]`` without trailing whitespace, one Content-Type at most, no ``filename*``, no
Content-Length. Limits are set high on both sides: multipart's header limit is per line, fastmime's
per header block.
"""

from __future__ import annotations

import pytest
from hypothesis import given

import fastmime

from ._strategies import (
    IMPLEMENTATIONS,
    WHOLE,
    body_specs,
    chunkings,
    expected_outcome_parts,
    property_settings,
    run,
    without_charset,
)

multipart = pytest.importorskip("multipart")

MULTIPART_2_0_1 = getattr(multipart, "__version__", "") == "2.0.1"
only_2_0_1 = pytest.mark.skipif(not MULTIPART_2_0_1, reason="the examples pin multipart 2.0.1's behaviour")


def run_multipart(boundary: bytes, chunks, *, strict: bool = False):
    """multipart's parts as (name, filename, Content-Type, headers, data), or its exception."""
    parser = multipart.PushMultipartParser(boundary, max_header_size=1 << 20, max_header_count=1 << 10, strict=strict)
    parts, current = [], None
    try:
        for chunk in chunks:
            if not len(chunk):
                continue  # an empty chunk means "end of input" to multipart
            for event in parser.parse(bytes(chunk)):
                if isinstance(event, multipart.MultipartSegment):
                    current = (event, bytearray())
                elif event is None:
                    seg, data = current
                    parts.append(
                        (seg.name, seg.filename, seg.header("Content-Type"), list(seg.headerlist), bytes(data))
                    )
                    current = None
                else:
                    current[1].extend(event)
        parser.close()
    except multipart.MultipartError as error:
        return error
    return parts


def fastmime_view(outcome):
    """fastmime's parts seen the way multipart reports them: header names Title-Cased."""
    assert outcome.error is None, outcome.error
    return [(p.name, p.filename, p.content_type, [(n.title(), v) for n, v in p.headers], p.data) for p in outcome.parts]


@property_settings(250)
@given(spec=body_specs(compat=True), ch=chunkings())
def test_same_parts_as_multipart(spec, ch):
    built = spec.build()
    expected = expected_outcome_parts(built)
    strict = not spec.preamble and not spec.epilogue and all(p.has_name_param for p in spec.parts)
    views = []
    for cls in IMPLEMENTATIONS.values():
        for c in (WHOLE, ch):
            o = run(cls, spec.boundary, c.split(built.body))
            assert without_charset(o.parts) == expected
            views.append(fastmime_view(o))
    for c in (WHOLE, ch):
        for mode in (False, True) if strict else (False,):
            theirs = run_multipart(spec.boundary, c.split(built.body), strict=mode)
            assert not isinstance(theirs, Exception), (theirs, built.body)
            assert theirs == views[0], (c, mode)
    assert all(v == views[0] for v in views)


# -- where the grammars differ: one example each ------------------------------------------------------

CD = b'Content-Disposition: form-data; name="a"'


def _fastmime(body: bytes, boundary: bytes = b"B"):
    results = []
    for cls in IMPLEMENTATIONS.values():
        o = run(cls, boundary, [body])
        if o.error is not None:
            results.append(o.error[0])
        else:
            results.append([(p.name, p.filename, p.content_type, p.data) for p in o.parts])
    assert all(r == results[0] for r in results)
    return results[0]


def _multipart(body: bytes, boundary: bytes = b"B", strict: bool = False, chunks=None):
    r = run_multipart(boundary, chunks or [body], strict=strict)
    if isinstance(r, Exception):
        return type(r).__name__
    return [(name, filename, ct, data) for name, filename, ct, _, data in r]


PART_A = [("a", None, None, b"x")]

# (body, what fastmime gives, what multipart 2.0.1 gives)
DIFFERENCES = {
    "bare LF line ends": (b"--B\n" + CD + b"\n\nx\n--B--", PART_A, "ParserError"),
    "transport padding, first delimiter": (b"--B \t\r\n" + CD + b"\r\n\r\nx\r\n--B--", PART_A, "ParserError"),
    "transport padding, later delimiter": (
        b"--B\r\n" + CD + b"\r\n\r\nx\r\n--B \r\n" + CD + b"\r\n\r\ny\r\n--B--",
        PART_A + [("a", None, None, b"y")],
        "ParserError",
    ),
    "--B inside a preamble line": (b"xx--B\r\n--B\r\n" + CD + b"\r\n\r\nx\r\n--B--", PART_A, "ParserError"),
    "preamble ending with bare LF": (b"pre\n--B\r\n" + CD + b"\r\n\r\nx\r\n--B--", PART_A, "ParserError"),
    "folded header line": (b"--B\r\n" + CD + b"\r\nX-A: a\r\n b\r\n\r\nx\r\n--B--", "InvalidHeader", PART_A),
    "trailing whitespace in a value": (
        b"--B\r\n" + CD + b"\r\nContent-Type: text/plain \t\r\n\r\nx\r\n--B--",
        [("a", None, "text/plain", b"x")],
        [("a", None, "text/plain \t", b"x")],
    ),
    "space before the colon": (
        b'--B\r\nContent-Disposition : form-data; name="a"\r\n\r\nx\r\n--B--',
        "InvalidHeader",
        PART_A,
    ),
    "token header name": (b"--B\r\n" + CD + b"\r\nX.Y!: z\r\n\r\nx\r\n--B--", PART_A, "ParserError"),
    "NUL in a header value": (b"--B\r\n" + CD + b"\r\nX-A: a\x00b\r\n\r\nx\r\n--B--", "InvalidHeader", PART_A),
    "Latin-1 header": (
        b'--B\r\nContent-Disposition: form-data; name="\xe9"\r\n\r\nx\r\n--B--',
        [("\xe9", None, None, b"x")],
        "ParserError",
    ),
    "percent-encoding": (
        b'--B\r\nContent-Disposition: form-data; name="a%22b"; filename="x%0Ay"\r\n\r\nx\r\n--B--',
        [("a%22b", "x%0Ay", None, b"x")],
        [('a"b', "x\ny", None, b"x")],
    ),
    "raw Windows path": (
        b'--B\r\nContent-Disposition: form-data; name="a"; filename="C:\\x\\y.jpg"\r\n\r\nx\r\n--B--',
        [("a", "C:\\x\\y.jpg", None, b"x")],
        [("a", "y.jpg", None, b"x")],
    ),
    "escaped backslash": (
        b'--B\r\nContent-Disposition: form-data; name="a"; filename="a\\\\b"\r\n\r\nx\r\n--B--',
        [("a", "a\\b", None, b"x")],
        [("a", "a\\\\b", None, b"x")],
    ),
    "repeated name parameter": (
        b'--B\r\nContent-Disposition: form-data; name="a"; name="b"\r\n\r\nx\r\n--B--',
        "InvalidContentDisposition",
        [("b", None, None, b"x")],
    ),
    "two Content-Disposition headers": (
        b"--B\r\n" + CD + b'\r\nContent-Disposition: form-data; name="b"\r\n\r\nx\r\n--B--',
        "InvalidContentDisposition",
        [("b", None, None, b"x")],
    ),
    "filename*": (
        (
            b'--B\r\nContent-Disposition: form-data; name="a"; filename="x.jpg"; '
            b"filename*=utf-8''%C3%A9.jpg\r\n\r\nx\r\n--B--"
        ),
        [("a", "\xe9.jpg", None, b"x")],
        [("a", "x.jpg", None, b"x")],
    ),
    "unquoted value with a space": (
        b"--B\r\nContent-Disposition: form-data; name=a b\r\n\r\nx\r\n--B--",
        [("a b", None, None, b"x")],
        PART_A,
    ),
    "tab after ;": (
        b'--B\r\nContent-Disposition: form-data;\tname="x; filename=evil"\r\n\r\nx\r\n--B--',
        [("x; filename=evil", None, None, b"x")],
        [("", "evil", None, b"x")],
    ),
    "part Content-Length": (b"--B\r\n" + CD + b"\r\nContent-Length: 5\r\n\r\nx\r\n--B--", PART_A, "ParserError"),
}


@only_2_0_1
@pytest.mark.parametrize("case", list(DIFFERENCES))
def test_documented_difference(case):
    body, ours, theirs = DIFFERENCES[case]
    assert _fastmime(body) == ours
    assert _multipart(body) == theirs


@only_2_0_1
def test_documented_difference_strict_mode():
    no_name = b"--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B--"
    assert _fastmime(no_name) == [("", None, None, b"x")]
    assert _multipart(no_name) == [("", None, None, b"x")]
    assert _multipart(no_name, strict=True) == "StrictParserError"
    body = b"--B\r\n" + CD + b"\r\n\r\nx\r\n--B--\r\nepilogue"
    assert _fastmime(body) == PART_A
    assert _multipart(body, strict=True, chunks=[body[:-8], body[-8:]]) == "StrictParserError"


@only_2_0_1
def test_documented_difference_boundary_length():
    boundary = b"x" * 71
    body = b"--" + boundary + b"\r\n" + CD + b"\r\n\r\nx\r\n--" + boundary + b"--"
    with pytest.raises(fastmime.BoundaryTooLong):
        _fastmime(body, boundary)
    assert _multipart(body, boundary) == PART_A


@only_2_0_1
@pytest.mark.parametrize(
    "body",
    [
        b"--B\r\n" + CD + b"\r\n\r\nx\r\n--B-x",  # one dash after the boundary
        b"--B\r\n" + CD + b"\r\n\r\nx\r\n--Bx\r\n",  # the boundary is a prefix of the line
        b"--B\r\nContent-Disposition: attachment\r\n\r\nx\r\n--B--",  # not form-data
        b"--B\r\n\r\nx\r\n--B--",  # no headers
        b"--B\r\n" + CD + b"\r\n\r\nx",  # no close delimiter
    ],
    ids=["single-dash", "boundary-prefix", "attachment", "no-headers", "incomplete"],
)
def test_both_refuse(body):
    assert isinstance(_fastmime(body), str)
    assert _multipart(body) == "ParserError"


@pytest.mark.parametrize(
    "body",
    [
        b"--B--garbage",
        b"--B\r\n" + CD + b"\r\n\r\nx\r\n--B-- \r\n--B\r\n",
        b"preamble\r\n--B\r\n" + CD + b"\r\n\r\nx\n--B\r--B\r\r\n--x\r\n--B--",
    ],
)
def test_both_accept(body):
    assert _fastmime(body) == _multipart(body)
