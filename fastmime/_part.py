"""Where type hints find :class:`Part`: the class itself lives beside the parser in ``_parser.py``.

The compiled implementation has its own (compiled) ``Part`` with the same attributes and behaviour;
``fastmime.Part`` is the live implementation's, ``fastmime.pure.Part`` the interpreted one's.
"""

from ._parser import Part

__all__ = ["Part"]
