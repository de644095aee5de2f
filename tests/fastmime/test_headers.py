"""parse_options_header, boundary_from_content_type and Part.safe_filename (both implementations)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastmime
import fastmime.pure

from .._hypothesis import examples

IMPLS = [fastmime, fastmime.pure]


@pytest.fixture(params=["fastmime", "pure"])
def mod(request):
    return fastmime if request.param == "fastmime" else fastmime.pure


@pytest.mark.parametrize(
    "value, expected",
    [
        ("text/plain", ("text/plain", {})),
        ("Text/HTML; Charset=UTF-8", ("text/html", {"charset": "UTF-8"})),
        ('form-data; name="a"; filename="b c.jpg"', ("form-data", {"name": "a", "filename": "b c.jpg"})),
        ('form-data; name="a;b"', ("form-data", {"name": "a;b"})),
        ('form-data; name="q\\"uote"', ("form-data", {"name": 'q"uote'})),
        ('form-data; filename="C:\\dir\\f.txt"', ("form-data", {"filename": "C:\\dir\\f.txt"})),
        (
            "form-data; filename=unquoted name.jpg; name=x",
            ("form-data", {"filename": "unquoted name.jpg", "name": "x"}),
        ),
        ('form-data; name="first"; name="second"', ("form-data", {"name": "first"})),
        ('form-data;;; name = "spaced" ;', ("form-data", {"name": "spaced"})),
        ('form-data; flag; name="x"', ("form-data", {"name": "x"})),
        ('form-data; name="unterminated', ("form-data", {"name": "unterminated"})),
        ("", ("", {})),
        (b'form-data; name="caf\xc3\xa9"', ("form-data", {"name": "café"})),
        (b'form-data; name="caf\xe9"', ("form-data", {"name": "café"})),
    ],
)
def test_parse_options_header(mod, value, expected):
    assert mod.parse_options_header(value) == expected


def test_parse_options_header_is_linear(mod):
    # python-multipart and multipart both had ReDoS bugs here: no regex, no backtracking.
    hostile = "form-data" + '; a="' + "\\" * 200_000 + ";" * 100_000
    start = time.perf_counter()
    mod.parse_options_header(hostile)
    mod.parse_options_header("x" + "; a=" * 100_000)
    assert time.perf_counter() - start < 5  # a generous bound against quadratic blow-ups, not a benchmark


@pytest.mark.parametrize(
    "value, boundary",
    [
        ("multipart/form-data; boundary=----WebKitFormBoundaryabc", b"----WebKitFormBoundaryabc"),
        ('multipart/form-data; boundary="quoted:boundary=with?chars"', b"quoted:boundary=with?chars"),
        ("MULTIPART/FORM-DATA; BOUNDARY=abc", b"abc"),
        ("multipart/mixed; boundary=x", b"x"),
        ('multipart/form-data; boundary="has space inside"', b"has space inside"),
        (b"multipart/form-data; charset=utf-8; boundary=z", b"z"),
    ],
)
def test_boundary_from_content_type(mod, value, boundary):
    assert mod.boundary_from_content_type(value) == boundary


@pytest.mark.parametrize(
    "value, error_cls",
    [
        (None, fastmime.NotMultipart),
        ("", fastmime.NotMultipart),
        ("application/x-www-form-urlencoded", fastmime.NotMultipart),
        ("text/plain; boundary=abc", fastmime.NotMultipart),
        ("multipart/form-data", fastmime.MissingBoundary),
        ("multipart/form-data; charset=utf-8", fastmime.MissingBoundary),
        ('multipart/form-data; boundary=""', fastmime.EmptyBoundary),
        ("multipart/form-data; boundary=" + "a" * 71, fastmime.BoundaryTooLong),
        ('multipart/form-data; boundary="bad<char>"', fastmime.InvalidBoundary),
        ('multipart/form-data; boundary="trailing "', fastmime.InvalidBoundary),
        ('multipart/form-data; boundary="ümlaut"', fastmime.InvalidBoundary),
    ],
)
def test_boundary_errors(mod, value, error_cls):
    with pytest.raises(error_cls):
        mod.boundary_from_content_type(value)


def test_boundary_length_is_configurable(mod):
    assert mod.boundary_from_content_type("multipart/form-data; boundary=" + "a" * 100, 100) == b"a" * 100


@pytest.mark.parametrize(
    "filename, safe",
    [
        ("photo.jpg", "photo.jpg"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\photo.jpg", "photo.jpg"),
        ("\\\\server\\share\\x.png", "x.png"),
        ("..", "unnamed"),
        ("", "unnamed"),
        ("dir/", "unnamed"),
        (".hidden", "hidden"),
        ("a\x00b\x1fc\x7f.jpg", "abc.jpg"),
        ("  spaced.jpg  ", "spaced.jpg"),
        ("Фото.jpg", "Фото.jpg"),
        ("é" * 200 + ".jpg", ("é" * 127)),
    ],
)
def test_safe_filename(filename, safe):
    part = fastmime.Part("f", filename, None, None, [], 0)
    assert part.safe_filename == safe
    assert len(part.safe_filename.encode()) <= 255


def test_safe_filename_of_a_field_is_none():
    assert fastmime.Part("f", None, None, None, [], 0).safe_filename is None
    assert not fastmime.Part("f", None, None, None, [], 0).is_file


def test_part_repr_and_media_type():
    part = fastmime.Part("f", "x.jpg", "IMAGE/JPEG; q=1", None, [], 3)
    assert part.media_type == "image/jpeg"
    assert "x.jpg" in repr(part) and "index=3" in repr(part)


@settings(max_examples=examples(300))
@given(
    st.text(alphabet='ab"\\;= \tf', max_size=12),
    st.text(alphabet='ab"\\;= \tf', max_size=12),
    st.sampled_from(
        [
            'form-data; name="{}"',
            'form-data; name="{}"; filename="{}"',
            "form-data; name={}",
            'form-data; name="{}"; filename="{}"; x="y"',
            'form-data; name="{}";filename="{}"',
        ]
    ),
)
def test_browser_shortcut_agrees_with_the_general_parser(name, filename, shape):
    from fastmime import _parser

    value = shape.format(name, filename)
    quick = _parser._browser_disposition(value)
    if quick is not None:
        parser = _parser.MultipartParser(b"b", None)
        assert quick == parser._parse_disposition(value, 0)


@settings(max_examples=examples(400))
@given(
    st.binary(max_size=200).map(lambda b: b.replace(b"x", b"\n--bd")),
    st.sampled_from([b"\n--bd", b"\r\n--bd"]),
    st.integers(0, 50),
    st.integers(0, 250),
)
def test_interpreted_delimiter_search_is_find(data, needle, start, end):
    from fastmime import _parser

    start = min(start, len(data))
    end = max(start, min(end, len(data)))
    assert _parser._py_find_delimiter(data, needle, start, end) == data.find(needle, start, end)
