"""Response documents of the two upload APIs: PhotoList (uploadPhotos), photos_upload_response,
error_response (up.photos.upload) and the Yahoo ``<Error>`` body.

All are plain dataclasses with ``to_xml()`` and ``to_json()`` returning UTF-8 ``bytes``.

XML is written by hand (element and attribute order matter and ElementTree cannot place namespace
declarations between attributes as the uploadPhotos sample does). Text and attribute values are escaped
(``& < >``, CR as ``&#13;`` so that it survives parsing, and in attributes also ``"``, tab and LF as
character references).

Characters that XML 1.0 forbids (C0 controls other than tab, LF and CR; U+FFFE, U+FFFF; lone
surrogates) cannot be escaped, so they are **removed**, from XML and from JSON alike, so both formats
carry the same text. A caption ``"a\\x00b"`` is returned as ``"ab"``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence, Union

from ._exif import Exif

__all__ = ["ErrorResponse", "Photo", "PhotoImage", "PhotoList", "UploadResponse", "YahooError"]

_XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'

NS_PHOTO = "urn:yahoo:photo"
NS_USER = "urn:yahoo:user"
NS_ALBUM = "urn:yahoo:photo:album"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS_YAHOO_API = "urn:yahoo:api"
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

# XML 1.0 Char production: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9._-]*\Z")

When = Union[datetime, str, None]


def _clean(value: object) -> str:
    """``str(value)`` without the characters XML 1.0 cannot carry."""
    return _FORBIDDEN.sub("", str(value))


def _text(value: object) -> str:
    # CR is written as a reference: a literal CR would be turned into LF by every XML parser.
    return (
        _clean(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _attr(value: object) -> str:
    return _text(value).replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;")


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _time(value: When) -> str | None:
    """ISO 8601 as in the sample: aware datetimes in UTC with ``Z``; naive ones as recorded, no zone;
    strings passed through unchanged (cleaned); ``None`` stays ``None``. Microseconds are dropped."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    return _clean(value)


def _json(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _element(name: str, text: object, indent: str) -> str:
    return f"{indent}<{name}>{_text(text)}</{name}>"


@dataclass
class PhotoImage:
    """One stored rendition of a photo: ``<Image type width height size format>url</Image>``.

    ``type`` is ``"thumb"``, ``"screen"`` or ``"full"``; ``size`` is the file size in bytes; ``format``
    the file type as the sample writes it (``"jpg"``).
    """

    type: str
    width: int
    height: int
    size: int
    url: str
    format: str = "jpg"

    def _xml(self, indent: str) -> str:
        return (
            f'{indent}<Image type="{_attr(self.type)}" width="{int(self.width)}" height="{int(self.height)}"'
            f' size="{int(self.size)}" format="{_attr(self.format)}">{_text(self.url)}</Image>'
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: ``{"type", "width", "height", "size", "format", "url"}``."""
        return {
            "type": _clean(self.type),
            "width": int(self.width),
            "height": int(self.height),
            "size": int(self.size),
            "format": _clean(self.format),
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

    def _xml(self, indent: str, step: str, ns_decl: str = "") -> str:
        i1, i2 = indent + step, indent + step * 2
        lines = [
            f'{indent}<Photo{ns_decl} photo:id="{_attr(self.id)}" photo:hrWidth="{int(self.hr_width)}"'
            f' photo:hrHeight="{int(self.hr_height)}" photo:owner="{_attr(self.owner)}">',
            _element("Caption", self.caption, i1),
            f'{i1}<Share mode="{_attr(self.share_mode)}" adult="{_bool(self.adult)}"'
            f' restricted="{_bool(self.restricted)}"/>',
        ]
        for name, when in (
            ("CreateTime", self.create_time),
            ("UploadTime", self.upload_time),
            ("ModTime", self.mod_time),
        ):
            text = _time(when)
            if text is not None:
                lines.append(_element(name, text, i1))
        lines.append(f"{i1}<ImageList>")
        lines.extend(image._xml(i2) for image in self.images)
        lines.append(f"{i1}</ImageList>")
        items = self._exif_items()
        if items:
            lines.append(f"{i1}<EXIF>")
            lines.extend(_element(k, v, i2) for k, v in items)
            lines.append(f"{i1}</EXIF>")
        if self.description is not None:
            lines.append(_element("Description", self.description, i1))
        if self.tags:
            lines.append(f"{i1}<TagList>")
            lines.extend(_element("Tag", t, i2) for t in self.tags)
            lines.append(f"{i1}</TagList>")
        lines.append(f"{indent}</Photo>")
        return "\n".join(lines)

    def to_xml(self) -> bytes:
        """This photo alone as a document whose root is ``<Photo>`` (namespaces declared on it).

        The service answers with :meth:`PhotoList.to_xml`; this is for single-photo calls and tests.
        """
        decl = f' xmlns="{NS_PHOTO}" xmlns:photo="{NS_PHOTO}"'
        return (_XML_DECL + self._xml("", " ", decl) + "\n").encode("utf-8")

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

    def to_json(self) -> bytes:
        """This photo's JSON object (the shape of one entry of ``PhotoList.Photo``)."""
        return _json(self.to_dict())


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
        root = (
            f'<PhotoList xmlns="{NS_PHOTO}" photo:version="{_attr(self.version)}" xmlns:photo="{NS_PHOTO}"'
            f' xmlns:user="{NS_USER}" xmlns:album="{NS_ALBUM}" xmlns:xsi="{NS_XSI}"'
            f' xsi:schemaLocation="{SCHEMA_LOCATION}">'
        )
        body = [p._xml(" ", " ") for p in self.photos]
        return (_XML_DECL + "\n".join([root, *body, "</PhotoList>"]) + "\n").encode("utf-8")

    def to_dict(self) -> dict[str, Any]:
        """The JSON object (see the class docstring)."""
        return {"PhotoList": {"version": _clean(self.version), "Photo": [p.to_dict() for p in self.photos]}}

    def to_json(self) -> bytes:
        """The PhotoList as JSON, UTF-8 (see the class docstring for the shape)."""
        return _json(self.to_dict())


@dataclass
class UploadResponse:
    """up.photos.upload success body, ``photos_upload_response``, in the spec sample's element order.

    XML: ``<photos_upload_response>`` without namespace (as the spec's sample) with ``pid, aid, owner,
    src, src_big, src_small, link, caption``. JSON: the bare object, no wrapper; ``pid`` and ``aid`` as
    strings (they exceed 2**53), ``owner`` as a number, ``caption`` ``""`` when there is none.
    """

    pid: int | str
    aid: int | str
    owner: int | str
    src: str
    src_big: str
    src_small: str
    link: str
    caption: str | None = None

    def _fields(self) -> list[tuple[str, str]]:
        return [
            ("pid", str(self.pid)),
            ("aid", str(self.aid)),
            ("owner", str(self.owner)),
            ("src", self.src),
            ("src_big", self.src_big),
            ("src_small", self.src_small),
            ("link", self.link),
            ("caption", self.caption or ""),
        ]

    def to_xml(self) -> bytes:
        """``<?xml ...?><photos_upload_response>...</photos_upload_response>``, UTF-8."""
        lines = ["<photos_upload_response>"]
        lines += [_element(k, v, " ") for k, v in self._fields()]
        lines.append("</photos_upload_response>")
        return (_XML_DECL + "\n".join(lines) + "\n").encode("utf-8")

    def to_dict(self) -> dict[str, Any]:
        """The JSON object."""
        out: dict[str, Any] = {k: _clean(v) for k, v in self._fields()}
        out["owner"] = int(self.owner)
        return out

    def to_json(self) -> bytes:
        """The bare JSON object, UTF-8."""
        return _json(self.to_dict())


@dataclass
class ErrorResponse:
    """up.photos.upload error body, in the historical Facebook REST shape.

    XML (no namespace, like the success body of this API)::

        <error_response>
         <error_code>104</error_code>
         <error_msg>Incorrect signature</error_msg>
         <request_args list="true">
          <arg><key>method</key><value>up.photos.upload</value></arg> ...
         </request_args>
        </error_response>

    JSON: ``{"error_code": 104, "error_msg": "...", "request_args": [{"key": "method", "value":
    "up.photos.upload"}, ...]}``. ``request_args`` keeps the order given (the order received); the
    caller leaves out the image bytes.
    """

    error_code: int
    error_msg: str
    request_args: Sequence[tuple[str, str]] | Mapping[str, str] = ()

    def __post_init__(self) -> None:
        if isinstance(self.request_args, Mapping):
            self.request_args = list(self.request_args.items())
        else:
            self.request_args = [(k, v) for k, v in self.request_args]

    def _args(self) -> list[tuple[str, str]]:
        args = self.request_args
        return list(args.items()) if isinstance(args, Mapping) else list(args)

    def to_xml(self) -> bytes:
        """The ``error_response`` document, UTF-8."""
        lines = [
            "<error_response>",
            _element("error_code", int(self.error_code), " "),
            _element("error_msg", self.error_msg, " "),
        ]
        if self.request_args:
            lines.append(' <request_args list="true">')
            for key, value in self._args():
                lines.append(f"  <arg>\n{_element('key', key, '   ')}\n{_element('value', value, '   ')}\n  </arg>")
            lines.append(" </request_args>")
        else:
            lines.append(' <request_args list="true"/>')
        lines.append("</error_response>")
        return (_XML_DECL + "\n".join(lines) + "\n").encode("utf-8")

    def to_dict(self) -> dict[str, Any]:
        """The JSON object."""
        return {
            "error_code": int(self.error_code),
            "error_msg": _clean(self.error_msg),
            "request_args": [{"key": _clean(k), "value": _clean(v)} for k, v in self._args()],
        }

    def to_json(self) -> bytes:
        """The bare JSON object, UTF-8."""
        return _json(self.to_dict())


@dataclass
class YahooError:
    """The error body of Yahoo! web services (uploadPhotos).

    XML, as those services wrote it: ``<Error xmlns="urn:yahoo:api">The following errors were
    detected:<Message>...</Message>...</Error>``, one ``<Message>`` per problem. JSON:
    ``{"Error": {"Message": ["...", ...]}}`` (always a list). ``status`` is the HTTP status the service
    should send (400 bad parameters, 401/403 authentication, 503 unavailable); it is not in the body.
    """

    messages: Sequence[str]
    status: int = 400

    def __post_init__(self) -> None:
        if isinstance(self.messages, str):
            self.messages = [self.messages]
        else:
            self.messages = list(self.messages)

    def to_xml(self) -> bytes:
        """The ``<Error>`` document, UTF-8."""
        lines = [f'<Error xmlns="{NS_YAHOO_API}">', " The following errors were detected:"]
        lines += [_element("Message", m, " ") for m in self.messages]
        lines.append("</Error>")
        return (_XML_DECL + "\n".join(lines) + "\n").encode("utf-8")

    def to_dict(self) -> dict[str, Any]:
        """The JSON object."""
        return {"Error": {"Message": [_clean(m) for m in self.messages]}}

    def to_json(self) -> bytes:
        """The JSON object, UTF-8."""
        return _json(self.to_dict())
