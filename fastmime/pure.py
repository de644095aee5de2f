"""The pure-Python implementation, importable in every install.

``fastmime.pure.MultipartParser`` behaves exactly like ``fastmime.MultipartParser`` (the compiled one
when the extension is built): same states, same results, same errors. It is the same source file,
run by the interpreter instead of compiled.
"""

from ._parser import COALESCE, MultipartParser, Part, boundary_from_content_type, parse_options_header

__all__ = ["COALESCE", "MultipartParser", "Part", "boundary_from_content_type", "parse_options_header"]
