"""Builds the Cython extension fastmime._cparser from fastmime/_parser.py (+ _parser.pxd).

The compiled module is the same source as the pure-Python one: it is copied under the extension's name
into build/ and compiled there. Without Cython or a C compiler the install still succeeds and fastmime
runs its pure-Python path (a warning says so), unless FASTMIME_REQUIRE_EXTENSION=1, which makes a failed
build an error (CI sets it).
"""

import os
import shutil
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

REQUIRE = os.environ.get("FASTMIME_REQUIRE_EXTENSION") == "1"
HERE = os.path.dirname(os.path.abspath(__file__))


def _warn(message):
    sys.stderr.write(f"\nfastmime: {message}\nfastmime: installing the pure-Python implementation only.\n\n")


def _extensions():
    if os.environ.get("FASTMIME_PURE") == "1":
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        if REQUIRE:
            raise
        _warn("Cython is not available, the extension is not built.")
        return []
    generated = os.path.join("build", "cython", "fastmime")
    os.makedirs(generated, exist_ok=True)
    open(os.path.join(generated, "__init__.py"), "a").close()
    for suffix in (".py", ".pxd"):
        shutil.copyfile(os.path.join("fastmime", "_parser" + suffix),
                        os.path.join(generated, "_cparser" + suffix))
    extension = Extension("fastmime._cparser", [os.path.join(generated, "_cparser.py")],
                          extra_compile_args=["-O3"])
    try:
        # freethreading_compatible: the module has no mutable global state (its globals are constants
        # set at import) and a parser's state is touched only by the thread feeding it (the adapters
        # never feed one parser from two threads at once), so it does not need the GIL; on a
        # free-threaded CPython (3.13t) importing it then keeps the GIL off.
        return cythonize([extension], language_level=3, quiet=True,
                         compiler_directives={"cdivision": True, "binding": False,
                                              "annotation_typing": False,
                                              "freethreading_compatible": True})
    except Exception as error:  # noqa: BLE001 - a failed translation means "no extension"
        if REQUIRE:
            raise
        _warn(f"Cython could not translate the parser ({error}).")
        return []


class OptionalBuildExt(build_ext):
    """Build the extension if a compiler is at hand; otherwise warn and go on (unless required)."""

    def run(self):
        try:
            super().run()
        except Exception as error:  # noqa: BLE001 - any build failure means "no extension"
            if REQUIRE:
                raise
            _warn(f"the C extension could not be built ({error}).")

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as error:  # noqa: BLE001
            if REQUIRE:
                raise
            _warn(f"the C extension {ext.name} could not be built ({error}).")


os.chdir(HERE)
setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
