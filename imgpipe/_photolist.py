"""The PhotoList document (the uploadPhotos response shape): :class:`PhotoList`, :class:`Photo`,
:class:`PhotoImage`. The API-specific envelopes (photos_upload_response, error_response, the Yahoo
``<Error>`` body) belong to the service, ``photoservice``.

All are plain dataclasses with ``to_xml()`` (UTF-8 ``bytes``), ``to_json()`` (``str``) and
``to_json_bytes()`` (UTF-8 ``bytes``).

XML is written with the standard library's ``XMLGenerator`` (see ``imgpipe._xml``), which keeps
attribute order (the uploadPhotos sample places namespace declarations between attributes).
Characters that XML 1.0 forbids (C0 controls other than tab, LF and CR; U+FFFE, U+FFFF; lone
surrogates) cannot be escaped, so they are **removed**, from XML and from JSON alike, so both formats
carry the same text. A caption ``"a\\x00b"`` is returned as ``"ab"``.

Format names: the library says ``"jpeg"`` everywhere (:class:`~imgpipe.Rendition`,
:class:`~imgpipe.ProcessedImage`, :class:`PhotoImage`); the PhotoList document writes the file type
as the spec's sample does, ``format="jpg"`` (only the JPEG name differs: :data:`PHOTOLIST_FORMATS`).
``PhotoImage(format="jpg")`` is accepted and stored as ``"jpeg"``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ._exif import Exif
from ._xml import XmlWriter
from ._xml import clean as _clean

__all__ = ["Photo", "PhotoImage", "PhotoList", "PHOTOLIST_FORMATS"]

NS_PHOTO = "urn:yahoo:photo"
NS_USER = "urn:yahoo:user"
NS_ALBUM = "urn:yahoo:photo:album"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = "urn:yahoo:photo listPhotos.xsd"

#: The PhotoList ``<EXIF>`` children in the sample's order.
EXIF_KEYS = (
    "Camera",
    "Aperture",
    "Exposure",
    "ExposureBias",
    "Flash",
    "Date",
    "FocalLength",
    "ZoomRatio",
    "Quality",
)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9._-]*\Z")

When = datetime | str | None


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _time(value: When) -> str | None:
    """ISO 8601 as in the sample: aware datetimes in UTC with ``Z``; naive ones as recorded, no zone;
    strings passed through unchanged (cleaned); ``None`` stays ``None``. Microseconds are dropped."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    return _clean(value)


def _json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


#: How the PhotoList document writes a library format name in ``<Image format="...">`` (the sample's
#: ``"jpg"``); other names are written as they are.
PHOTOLIST_FORMATS = {"jpeg": "jpg"}
_FORMAT_ALIASES = {"jpg": "jpeg", "JPG": "jpeg", "JPEG": "jpeg"}


@dataclass
class PhotoImage:
    """One stored rendition of a photo: ``<Image type width height size format>url</Image>``.

    ``type`` is ``"thumb"``, ``"screen"`` or ``"full"``; ``size`` is the file size in bytes; ``format``
    the library's format name (``"jpeg"``, ``"png"``, ...; ``"jpg"`` is accepted as ``"jpeg"``), written
    in the document as the sample does (``format="jpg"``, see :data:`PHOTOLIST_FORMATS`).
    """

    type: str
    width: int
    height: int
    size: int
    url: str
    format: str = "jpeg"

    def __post_init__(self) -> None:
        self.format = _FORMAT_ALIASES.get(self.format, self.format)

    def _document_format(self) -> str:
        return PHOTOLIST_FORMATS.get(self.format, self.format)

    def _xml(self, w: XmlWriter) -> None:
        attrs = [
            ("type", self.type),
            ("width", int(self.width)),
            ("height", int(self.height)),
            ("size", int(self.size)),
            ("format", self._document_format()),
        ]
        w.element("Image", self.url, attrs)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: ``{"type", "width", "height", "size", "format", "url"}``."""
        return {
            "type": _clean(self.type),
            "width": int(self.width),
            "height": int(self.height),
            "size": int(self.size),
            "format": _clean(self._document_format()),
            "url": _clean(self.url),
        }


@dataclass
class Photo:
    """One photo of a PhotoList (uploadPhotos response), in the shape of the spec's sample.

    ``id`` is a string (ids exceed 2**53). Times accept an aware ``datetime`` (written in UTC,
    ``2006-03-07T16:10:39Z``), a naive one (written as recorded, without ``Z``), a ready ISO string, or
    ``None`` (the element is left out). ``exif`` is :meth:`imgpipe.Exif.photolist` output (an
    :class:`~imgpipe.Exif` is converted on construction); ``None`` values are left out, and the whole ``<EXIF>`` block
    when nothing is left. ``description`` and ``tags`` are not in the sample (the listPhotos schema is
    lost): when set they are written *after* the sample's elements as ``<Description>`` and
    ``<TagList><Tag>..</Tag></TagList>``, so the sample's part of the document keeps its order.
    """

    id: str
    hr_width: int
    hr_height: int
    owner: str
    caption: str = ""
    create_time: When = None
    upload_time: When = None
    mod_time: When = None
    images: list[PhotoImage] = field(default_factory=list)
    exif: Mapping[str, str | None] | Exif | None = None
    share_mode: str = "private"
    adult: bool = False
    restricted: bool = True
    description: str | None = None
    tags: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if isinstance(self.exif, Exif):
            self.exif = self.exif.photolist()
        if self.exif is not None:
            for key in self.exif:
                if not _NAME.match(key):
                    raise ValueError(f"EXIF key {key!r} is not a valid XML element name")

    def _exif_items(self) -> list[tuple[str, str]]:
        exif = self.exif.photolist() if isinstance(self.exif, Exif) else self.exif
        if not exif:
            return []
        known = [(k, exif[k]) for k in EXIF_KEYS if k in exif]
        extra = [(k, v) for k, v in exif.items() if k not in EXIF_KEYS]
        return [(k, str(v)) for k, v in known + extra if v is not None]

    def _xml(self, w: XmlWriter, indent: str, ns_decl: tuple[tuple[str, str], ...] = ()) -> None:
        i1, i2 = indent + " ", indent + "  "
        w.start(
            "Photo",
            [
                *ns_decl,
                ("photo:id", self.id),
                ("photo:hrWidth", int(self.hr_width)),
                ("photo:hrHeight", int(self.hr_height)),
                ("photo:owner", self.owner),
            ],
        )
        w.newline(i1)
        w.element("Caption", self.caption)
        w.newline(i1)
        w.element(
            "Share",
            "",
            [("mode", self.share_mode), ("adult", _bool(self.adult)), ("restricted", _bool(self.restricted))],
        )
        for name, when in (
            ("CreateTime", self.create_time),
            ("UploadTime", self.upload_time),
            ("ModTime", self.mod_time),
        ):
            text = _time(when)
            if text is not None:
                w.newline(i1)
                w.element(name, text)
        w.newline(i1)
        w.start("ImageList")
        for image in self.images:
            w.newline(i2)
            image._xml(w)
        w.newline(i1)
        w.end("ImageList")
        items = self._exif_items()
        if items:
            w.newline(i1)
            w.start("EXIF")
            for k, v in items:
                w.newline(i2)
                w.element(k, v)
            w.newline(i1)
            w.end("EXIF")
        if self.description is not None:
            w.newline(i1)
            w.element("Description", self.description)
        if self.tags:
            w.newline(i1)
            w.start("TagList")
            for t in self.tags:
                w.newline(i2)
                w.element("Tag", t)
            w.newline(i1)
            w.end("TagList")
        w.newline(indent)
        w.end("Photo")

    def to_xml(self) -> bytes:
        """This photo alone as a document whose root is ``<Photo>`` (namespaces declared on it).

        The service answers with :meth:`PhotoList.to_xml`; this is for single-photo calls and tests.
        """
        w = XmlWriter()
        self._xml(w, "", (("xmlns", NS_PHOTO), ("xmlns:photo", NS_PHOTO)))
        return w.getvalue()

    def to_dict(self) -> dict[str, Any]:
        """The JSON object (see :meth:`PhotoList.to_json`)."""
        out: dict[str, Any] = {
            "id": _clean(self.id),
            "hrWidth": int(self.hr_width),
            "hrHeight": int(self.hr_height),
            "owner": _clean(self.owner),
            "Caption": _clean(self.caption),
            "Share": {"mode": _clean(self.share_mode), "adult": bool(self.adult), "restricted": bool(self.restricted)},
        }
        for name, when in (
            ("CreateTime", self.create_time),
            ("UploadTime", self.upload_time),
            ("ModTime", self.mod_time),
        ):
            text = _time(when)
            if text is not None:
                out[name] = text
        out["ImageList"] = [image.to_dict() for image in self.images]
        items = self._exif_items()
        if items:
            out["EXIF"] = {k: _clean(v) for k, v in items}
        if self.description is not None:
            out["Description"] = _clean(self.description)
        if self.tags:
            out["TagList"] = [_clean(t) for t in self.tags]
        return out

    def to_json(self) -> str:
        """This photo's JSON object (the shape of one entry of ``PhotoList.Photo``)."""
        return _json(self.to_dict())

    def to_json_bytes(self) -> bytes:
        """:meth:`to_json` encoded as UTF-8."""
        return self.to_json().encode("utf-8")


@dataclass
class PhotoList:
    """The uploadPhotos response: ``<PhotoList>`` in namespace ``urn:yahoo:photo``.

    XML: the root start tag is byte-for-byte the sample's (default namespace, ``photo:version="3.0"``,
    then ``xmlns:photo``, ``xmlns:user``, ``xmlns:album``, ``xmlns:xsi``, ``xsi:schemaLocation``);
    children as in :class:`Photo`. Indentation is one space per level; text nodes carry no padding
    whitespace (the sample's line-broken text is pretty-printing, not content).

    JSON mirrors the XML, element names kept, attributes as plain keys without prefix, numbers as numbers
    except the photo id::

        {"PhotoList": {"version": "3.0", "Photo": [
            {"id": "291944922677302275", "hrWidth": 2592, "hrHeight": 1944, "owner": "sebastian",
             "Caption": "test", "Share": {"mode": "private", "adult": false, "restricted": true},
             "CreateTime": "2006-03-07T16:10:39Z", "UploadTime": "...", "ModTime": "...",
             "ImageList": [{"type": "screen", "width": 545, "height": 409, "size": 45181,
                            "format": "jpg", "url": "http://..."}],
             "EXIF": {"Camera": "Canon. Canon PowerShot SD400.", "Aperture": "147/32", ...}}]}}

    ``Photo`` is always a list; keys left out of the XML (no EXIF, no time) are left out of the JSON.
    """

    photos: list[Photo] = field(default_factory=list)
    version: str = "3.0"

    def to_xml(self) -> bytes:
        """The PhotoList document, UTF-8, with an XML declaration."""
        w = XmlWriter()
        w.start(
            "PhotoList",
            [
                ("xmlns", NS_PHOTO),
                ("photo:version", self.version),
                ("xmlns:photo", NS_PHOTO),
                ("xmlns:user", NS_USER),
                ("xmlns:album", NS_ALBUM),
                ("xmlns:xsi", NS_XSI),
                ("xsi:schemaLocation", SCHEMA_LOCATION),
            ],
        )
        for p in self.photos:
            w.newline(" ")
            p._xml(w, " ")
        w.newline("")
        w.end("PhotoList")
        return w.getvalue()

    def to_dict(self) -> dict[str, Any]:
        """The JSON object (see the class docstring)."""
        return {"PhotoList": {"version": _clean(self.version), "Photo": [p.to_dict() for p in self.photos]}}

    def to_json(self) -> str:
        """The PhotoList as JSON text (see the class docstring for the shape)."""
        return _json(self.to_dict())

    def to_json_bytes(self) -> bytes:
        """:meth:`to_json` encoded as UTF-8."""
        return self.to_json().encode("utf-8")
