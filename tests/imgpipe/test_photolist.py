"""Tests for imgpipe._photolist: PhotoList against the uploadPhotos sample, the up.photos.upload bodies."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imgpipe._exif import Exif, read_exif
from imgpipe._photolist import Photo, PhotoImage, PhotoList
from tests.imgpipe._jpegs import jpeg_with_exif_bytes, sample_sd400_tiff

from .._hypothesis import examples

# The sample response of specs/uploadPhotos.txt, verbatim.
SAMPLE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<PhotoList xmlns="urn:yahoo:photo" photo:version="3.0" xmlns:photo="urn:yahoo:photo" xmlns:user="urn:yahoo:user" xmlns:album="urn:yahoo:photo:album" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:yahoo:photo listPhotos.xsd">
 <Photo photo:id="291944922677302275" photo:hrWidth="2592" photo:hrHeight="1944" photo:owner="sebastian">
  <Caption>
   test
  </Caption>
  <Share mode="private" adult="false" restricted="true"/>
   <CreateTime>
    2006-03-07T16:10:39Z
   </CreateTime>
   <UploadTime>
    2006-09-28T15:06:30Z
   </UploadTime>
   <ModTime>
    1969-12-31T16:00:00Z
   </ModTime>
   <ImageList>
    <Image type="screen" width="545" height="409" size="45181" format="jpg">
     http://photos.yahoo.com/users/n3lCfjzMOEcK/__sr_/e397.jpg?ph0dFHFBIOty3HlB
    </Image>
    <Image type="thumb" width="120" height="90" size="4119" format="jpg">
     http://photos.yahoo.com/users/n3lCfjzMOEcK/__tn_/e397.jpg?ph0dFHFByIR5CSsT
    </Image>
   </ImageList>
   <EXIF>
    <Camera>
     Canon. Canon PowerShot SD400.
    </Camera>
    <Aperture>
     147/32
    </Aperture>
    <Exposure>
     1/250
    </Exposure>
    <ExposureBias>
     0/3
    </ExposureBias>
    <Flash>
     89
    </Flash>
    <Date>
     2006:03:07 17:10:39.
    </Date>
    <FocalLength>
     17400/1000
    </FocalLength>
    <ZoomRatio>
     2592/2592
    </ZoomRatio>
    <Quality>
     0
    </Quality>
   </EXIF>
 </Photo>
</PhotoList>
"""

NS = "{urn:yahoo:photo}"


def sample_photo(exif: object = None) -> Photo:
    """The sample's photo, built from data (EXIF read from a generated JPEG with the sample's tags)."""
    if exif is None:
        exif = read_exif(jpeg_with_exif_bytes(sample_sd400_tiff())).photolist()
    return Photo(
        id="291944922677302275",
        hr_width=2592,
        hr_height=1944,
        owner="sebastian",
        caption="test",
        create_time=datetime(2006, 3, 7, 17, 10, 39, tzinfo=timezone(timedelta(hours=1))),
        upload_time=datetime(2006, 9, 28, 15, 6, 30, tzinfo=UTC),
        mod_time="1969-12-31T16:00:00Z",  # the sample's (a Pacific-time epoch rendered with Z)
        images=[
            PhotoImage(
                "screen", 545, 409, 45181, "http://photos.yahoo.com/users/n3lCfjzMOEcK/__sr_/e397.jpg?ph0dFHFBIOty3HlB"
            ),
            PhotoImage(
                "thumb", 120, 90, 4119, "http://photos.yahoo.com/users/n3lCfjzMOEcK/__tn_/e397.jpg?ph0dFHFByIR5CSsT"
            ),
        ],
        exif=exif,  # type: ignore[arg-type]
    )


def shape(el: ET.Element) -> tuple[object, ...]:
    """Tag, attributes in document order, stripped text, children in order (tails ignored)."""
    return (
        el.tag,
        list(el.attrib.items()),
        (el.text or "").strip(),
        [shape(child) for child in el],
    )


def start_tags(xml: str) -> dict[str, str]:
    """First start tag of each element name, verbatim."""
    out: dict[str, str] = {}
    for m in re.finditer(r"<([A-Za-z_][\w:.-]*)[^>]*>", xml):
        out.setdefault(m.group(1), m.group(0))
    return out


# ------------------------------------------------------------------------------------------------
# PhotoList
# ------------------------------------------------------------------------------------------------


def test_photolist_structure_equals_sample() -> None:
    ours = PhotoList([sample_photo()]).to_xml()
    assert ours.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    assert shape(ET.fromstring(ours)) == shape(ET.fromstring(SAMPLE_XML.encode()))


def test_photolist_start_tags_are_verbatim() -> None:
    """Namespace declarations and attribute order, which ElementTree does not report, byte for byte."""
    ours = start_tags(PhotoList([sample_photo()]).to_xml().decode())
    sample = start_tags(SAMPLE_XML)
    for name in ("PhotoList", "Photo", "Share", "Image", "ImageList", "EXIF"):
        assert ours[name] == sample[name], name


def test_exif_object_is_accepted_and_converted() -> None:
    exif = read_exif(jpeg_with_exif_bytes(sample_sd400_tiff()))
    assert sample_photo(exif).exif == exif.photolist()


def test_exif_block_omitted_or_partial() -> None:
    p = sample_photo(Exif.empty())
    root = ET.fromstring(PhotoList([p]).to_xml())
    assert root.find(f"{NS}Photo/{NS}EXIF") is None
    assert "EXIF" not in p.to_dict()
    p = sample_photo({"Quality": "0", "Camera": "Canon.", "Flash": None, "Date": None})
    exif = ET.fromstring(PhotoList([p]).to_xml()).find(f"{NS}Photo/{NS}EXIF")
    assert exif is not None
    assert [(c.tag, c.text) for c in exif] == [(f"{NS}Camera", "Canon."), (f"{NS}Quality", "0")]  # sample order
    assert p.to_dict()["EXIF"] == {"Camera": "Canon.", "Quality": "0"}
    assert "EXIF" not in sample_photo(dict.fromkeys(("Camera", "Quality"))).to_dict()


def test_exif_extra_keys_and_invalid_names() -> None:
    p = sample_photo({"Camera": "X.", "Lens": "EF 50mm"})
    assert list(p.to_dict()["EXIF"]) == ["Camera", "Lens"]
    with pytest.raises(ValueError):
        sample_photo({"not a name": "x"})
    with pytest.raises(ValueError):
        sample_photo({"<b>": "x"})


def test_times() -> None:
    p = sample_photo()
    p.create_time = datetime(2006, 3, 7, 17, 10, 39, 999_999, tzinfo=timezone(timedelta(hours=1)))
    p.upload_time = datetime(2006, 3, 7, 17, 10, 39)  # naive: as recorded, no Z
    p.mod_time = None
    root = ET.fromstring(p.to_xml())
    assert root.findtext(f"{NS}CreateTime") == "2006-03-07T16:10:39Z"
    assert root.findtext(f"{NS}UploadTime") == "2006-03-07T17:10:39"
    assert root.find(f"{NS}ModTime") is None
    d = p.to_dict()
    assert d["CreateTime"] == "2006-03-07T16:10:39Z" and "ModTime" not in d


def test_share_flags_and_defaults() -> None:
    p = Photo(id="1", hr_width=1, hr_height=1, owner="o")
    assert (p.share_mode, p.adult, p.restricted) == ("private", False, True)
    p.share_mode, p.adult, p.restricted = "public", True, False
    share = ET.fromstring(PhotoList([p]).to_xml()).find(f"{NS}Photo/{NS}Share")
    assert share is not None and share.attrib == {"mode": "public", "adult": "true", "restricted": "false"}
    assert p.to_dict()["Share"] == {"mode": "public", "adult": True, "restricted": False}


def test_description_and_tags_after_sample_elements() -> None:
    p = sample_photo()
    p.description = "A <long> day"
    p.tags = ["sea", "sun & sand"]
    photo = ET.fromstring(PhotoList([p]).to_xml()).find(f"{NS}Photo")
    assert photo is not None
    names = [c.tag.removeprefix(NS) for c in photo]
    assert names == [
        "Caption",
        "Share",
        "CreateTime",
        "UploadTime",
        "ModTime",
        "ImageList",
        "EXIF",
        "Description",
        "TagList",
    ]
    assert photo.findtext(f"{NS}Description") == "A <long> day"
    assert [t.text for t in photo.iterfind(f"{NS}TagList/{NS}Tag")] == ["sea", "sun & sand"]
    d = p.to_dict()
    assert d["Description"] == "A <long> day" and d["TagList"] == ["sea", "sun & sand"]


def test_several_photos_and_empty_list() -> None:
    a, b = sample_photo(), sample_photo()
    b.id = "2"
    root = ET.fromstring(PhotoList([a, b]).to_xml())
    assert [p.get("{urn:yahoo:photo}id") for p in root] == ["291944922677302275", "2"]
    empty = ET.fromstring(PhotoList([]).to_xml())
    assert empty.tag == f"{NS}PhotoList" and len(empty) == 0
    assert json.loads(PhotoList([]).to_json()) == {"PhotoList": {"version": "3.0", "Photo": []}}


def test_single_photo_document() -> None:
    root = ET.fromstring(sample_photo().to_xml())
    sample_photo_el = ET.fromstring(SAMPLE_XML.encode()).find(f"{NS}Photo")
    assert sample_photo_el is not None
    assert shape(root) == shape(sample_photo_el)
    assert json.loads(sample_photo().to_json()) == sample_photo().to_dict()


def test_photolist_json_mirrors_xml() -> None:
    doc = json.loads(PhotoList([sample_photo()]).to_json())
    assert doc == {
        "PhotoList": {
            "version": "3.0",
            "Photo": [
                {
                    "id": "291944922677302275",
                    "hrWidth": 2592,
                    "hrHeight": 1944,
                    "owner": "sebastian",
                    "Caption": "test",
                    "Share": {"mode": "private", "adult": False, "restricted": True},
                    "CreateTime": "2006-03-07T16:10:39Z",
                    "UploadTime": "2006-09-28T15:06:30Z",
                    "ModTime": "1969-12-31T16:00:00Z",
                    "ImageList": [
                        {
                            "type": "screen",
                            "width": 545,
                            "height": 409,
                            "size": 45181,
                            "format": "jpg",
                            "url": "http://photos.yahoo.com/users/n3lCfjzMOEcK/__sr_/e397.jpg?ph0dFHFBIOty3HlB",
                        },
                        {
                            "type": "thumb",
                            "width": 120,
                            "height": 90,
                            "size": 4119,
                            "format": "jpg",
                            "url": "http://photos.yahoo.com/users/n3lCfjzMOEcK/__tn_/e397.jpg?ph0dFHFByIR5CSsT",
                        },
                    ],
                    "EXIF": {
                        "Camera": "Canon. Canon PowerShot SD400.",
                        "Aperture": "147/32",
                        "Exposure": "1/250",
                        "ExposureBias": "0/3",
                        "Flash": "89",
                        "Date": "2006:03:07 17:10:39.",
                        "FocalLength": "17400/1000",
                        "ZoomRatio": "2592/2592",
                        "Quality": "0",
                    },
                }
            ],
        }
    }


# ------------------------------------------------------------------------------------------------
# Escaping and forbidden characters
# ------------------------------------------------------------------------------------------------

NASTY = [
    ("<b>bold</b>", "<b>bold</b>"),
    ("Fish & Chips", "Fish & Chips"),
    ("say \"hi\" and 'bye'", "say \"hi\" and 'bye'"),
    ("]]> end of cdata", "]]> end of cdata"),
    ("Ærøskøbing – 東京 – 😀", "Ærøskøbing – 東京 – 😀"),
    ("tab\tnew\nline\r\ncrlf", "tab\tnew\nline\r\ncrlf"),
    ("nul\x00bell\x07esc\x1bvt\x0bff\x0c", "nulbellescvtff"),
    ("nonchar\ufffe\uffff end", "nonchar end"),
    ("lone \ud800 surrogate", "lone  surrogate"),
    ("del\x7f and c1\x85 stay", "del\x7f and c1\x85 stay"),
    ("&amp; already escaped", "&amp; already escaped"),
]


@pytest.mark.parametrize(("given_text", "expected"), NASTY)
def test_caption_escaping_roundtrip(given_text: str, expected: str) -> None:
    p = sample_photo()
    p.caption = given_text
    p.owner = given_text  # attribute
    p.images[0].url = given_text
    p.tags = [given_text]
    xml = PhotoList([p]).to_xml()
    xml.decode("utf-8")  # valid UTF-8 (no lone surrogates)
    photo = ET.fromstring(xml).find(f"{NS}Photo")
    assert photo is not None
    assert photo.findtext(f"{NS}Caption") == expected
    assert photo.get(f"{NS}owner") == expected
    assert photo.findtext(f"{NS}ImageList/{NS}Image") == expected
    assert photo.findtext(f"{NS}TagList/{NS}Tag") == expected
    d = json.loads(PhotoList([p]).to_json())["PhotoList"]["Photo"][0]
    assert d["Caption"] == expected and d["owner"] == expected and d["TagList"] == [expected]


def test_attribute_whitespace_survives() -> None:
    p = sample_photo()
    p.owner = "a\tb\nc\rd"
    photo = ET.fromstring(p.to_xml())
    assert photo.get(f"{NS}owner") == "a\tb\nc\rd"


@settings(max_examples=examples(200))
@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=40))
def test_any_text_gives_well_formed_xml(text: str) -> None:
    p = Photo(id=text, hr_width=1, hr_height=1, owner=text, caption=text, description=text, tags=[text])
    root = ET.fromstring(PhotoList([p]).to_xml())
    caption = root.findtext(f"{NS}Photo/{NS}Caption")
    allowed = "".join(
        c for c in text if c in "\t\n\r" or 0x20 <= ord(c) <= 0xD7FF or 0xE000 <= ord(c) <= 0xFFFD or ord(c) >= 0x10000
    )
    assert caption == allowed
    assert json.loads(PhotoList([p]).to_json())["PhotoList"]["Photo"][0]["Caption"] == allowed


def _xml_as_json(doc: bytes) -> dict[str, object]:
    """The JSON shape of :meth:`PhotoList.to_dict`, read back from the XML document."""
    root = ET.fromstring(doc)
    photos = []
    for ph in root.findall(f"{NS}Photo"):
        share = ph.find(f"{NS}Share")
        assert share is not None
        d: dict[str, object] = {
            "id": ph.get(f"{NS}id"),
            "hrWidth": int(ph.get(f"{NS}hrWidth", "")),
            "hrHeight": int(ph.get(f"{NS}hrHeight", "")),
            "owner": ph.get(f"{NS}owner"),
            "Caption": ph.findtext(f"{NS}Caption"),
            "Share": {
                "mode": share.get("mode"),
                "adult": share.get("adult") == "true",
                "restricted": share.get("restricted") == "true",
            },
        }
        for name in ("CreateTime", "UploadTime", "ModTime"):
            if ph.find(f"{NS}{name}") is not None:
                d[name] = ph.findtext(f"{NS}{name}")
        d["ImageList"] = [
            {
                "type": im.get("type"),
                "width": int(im.get("width", "")),
                "height": int(im.get("height", "")),
                "size": int(im.get("size", "")),
                "format": im.get("format"),
                "url": im.text or "",
            }
            for im in ph.findall(f"{NS}ImageList/{NS}Image")
        ]
        exif = ph.find(f"{NS}EXIF")
        if exif is not None:
            d["EXIF"] = {el.tag.removeprefix(NS): el.text or "" for el in exif}
        if ph.find(f"{NS}Description") is not None:
            d["Description"] = ph.findtext(f"{NS}Description")
        tags = ph.findall(f"{NS}TagList/{NS}Tag")
        if tags:
            d["TagList"] = [t.text or "" for t in tags]
        photos.append(d)
    return {"PhotoList": {"version": root.get(f"{NS}version"), "Photo": photos}}


_STRING_FIELDS = ("id", "owner", "caption", "share_mode", "create_time", "upload_time", "mod_time", "description")
_BAD_CHARS = [chr(c) for c in range(0x20)] + ["\ud800", "\udbff", "\udc00", "\udfff", "\ufffe", "\uffff"]


@pytest.mark.parametrize("char", _BAD_CHARS, ids=lambda c: f"U+{ord(c):04X}")
def test_every_c0_char_and_lone_surrogate_in_every_string_field(char: str) -> None:
    text = f"a{char}b{char}"
    for field in (*_STRING_FIELDS, "tags", "exif", "image", "version"):
        p = sample_photo()
        plist = PhotoList([p])
        if field == "tags":
            p.tags = [text, "x"]
        elif field == "exif":
            p.exif = {"Camera": text, "Quality": text}
        elif field == "image":
            img = p.images[0]
            img.type, img.url, img.format = text, text, text
        elif field == "version":
            plist.version = text
        else:
            setattr(p, field, text)
        doc = plist.to_xml()
        doc.decode("utf-8")  # no lone surrogate reached the bytes
        assert _xml_as_json(doc) == json.loads(plist.to_json()), field
        single = ET.fromstring(p.to_xml())  # the one-photo document parses too
        assert single.tag == f"{NS}Photo"
