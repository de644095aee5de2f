"""Limits that bound what one request body may make the parser do."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limits"]

KiB = 1024
MiB = 1024 * KiB


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on one multipart body; each exceeded limit raises its own :class:`LimitExceeded` subclass.

    The defaults accept a normal photo upload (several files of tens of MB with a few fields) and refuse
    abuse. Every limit is a positive int; to relax one, pass a large number.
    """

    #: Parts per body (:class:`TooManyParts`).
    max_parts: int = 1000
    #: Bytes of one part's header block, line ends included (:class:`HeaderTooLarge`).
    max_header_size: int = 8 * KiB
    #: Header lines per part (:class:`TooManyHeaders`).
    max_header_lines: int = 32
    #: Bytes of one form field, i.e. a part without filename (:class:`FieldTooLarge`).
    max_field_size: int = 1 * MiB
    #: Bytes of one file part, i.e. a part with a filename (:class:`FileTooLarge`).
    max_file_size: int = 128 * MiB
    #: Bytes of the whole body, preamble and epilogue included (:class:`BodyTooLarge`).
    max_body_size: int = 512 * MiB
    #: Length of the boundary (:class:`BoundaryTooLong`); RFC 2046 allows 70.
    max_boundary_length: int = 70

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Limits.{name} must be a positive int, not {value!r}")


DEFAULT_LIMITS = Limits()
