"""Builds the Cython extension fastmime._cparser from fastmime/_parser.py (+ _parser.pxd).

The compiled module is the same source as the pure-Python one: it is copied under the extension's name into
build/ and compiled there. Cython runs inside build_ext, only when a build asks for the extension: the
metadata hooks (pip and build run setup.py three or four times per install) need no translation. Without
Cython or a C compiler the install still succeeds and fastmime runs its pure-Python path, unless
FASTMIME_REQUIRE_EXTENSION=1, which makes a failed build an error (CI sets it). A warning says so twice: in
the build's output (which pip shows only with -v), and, because most people never see that, every time
fastmime is imported: the build leaves fastmime/EXTENSION_NOT_BUILT.txt with the reason, and
fastmime/__init__.py warns when it finds it. FASTMIME_PURE=1 chooses the pure path: no extension, no warning.
"""

import os
import shutil
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

REQUIRE = os.environ.get("FASTMIME_REQUIRE_EXTENSION") == "1"
HERE = os.path.dirname(os.path.abspath(__file__))
# Written beside the installed package when the extension was wanted and not built; fastmime/__init__.py
# reads it to warn at import. Its name is repeated there.
NOT_BUILT_NOTE = "EXTENSION_NOT_BUILT.txt"
GENERATED = os.path.join("build", "cython", "fastmime")


def _warn(message):
    sys.stderr.write(
        f"\nfastmime: WARNING: {message}\nfastmime: installing the pure-Python implementation "
        "only (slower; fastmime warns about it at import). Install a C compiler (gcc) and "
        "reinstall for the compiled parser.\n\n"
    )


def _record(package_dir, reason):
    """Leave the note fastmime/__init__.py warns with (or remove a stale one when ``reason`` is None)."""
    note = os.path.join(package_dir, NOT_BUILT_NOTE)
    if reason is None:
        if os.path.exists(note):
            os.remove(note)
        return
    os.makedirs(package_dir, exist_ok=True)
    with open(note, "w", encoding="utf-8") as file:
        file.write(reason.strip().splitlines()[0][:500] + "\n")


def _extensions():
    """The extension as declared; its C source is made by :func:`_cythonize` when a build needs it."""
    if os.environ.get("FASTMIME_PURE") == "1":
        return []
    return [Extension("fastmime._cparser", [os.path.join(GENERATED, "_cparser.py")], extra_compile_args=["-O3"])]


def _cythonize(extensions):
    """Translate the parser to C: the extensions to compile, or [] and the reason when it cannot be done."""
    try:
        from Cython.Build import cythonize
    except ImportError:
        if REQUIRE:
            raise
        return [], "Cython is not available"
    os.makedirs(GENERATED, exist_ok=True)
    open(os.path.join(GENERATED, "__init__.py"), "a").close()
    for suffix in (".py", ".pxd"):
        shutil.copyfile(os.path.join("fastmime", "_parser" + suffix), os.path.join(GENERATED, "_cparser" + suffix))
    try:
        # freethreading_compatible: the module has no mutable global state (its globals are constants
        # set at import) and a parser's state is touched only by the thread feeding it (the adapters
        # never feed one parser from two threads at once), so it does not need the GIL; on a
        # free-threaded CPython (3.13t) importing it then keeps the GIL off.
        return cythonize(
            extensions,
            language_level=3,
            quiet=True,
            compiler_directives={
                "cdivision": True,
                "binding": False,
                "annotation_typing": False,
                "freethreading_compatible": True,
            },
        ), None
    except Exception as error:
        if REQUIRE:
            raise
        return [], f"Cython could not translate the parser: {error}"


class OptionalBuildExt(build_ext):
    """Build the extension if a compiler is at hand; otherwise warn, leave the note, and go on (unless required)."""

    def run(self):
        translated, reason = _cythonize(self.extensions)
        if reason is not None:
            _warn(f"{reason}; the extension is not built.")
            for ext in self.extensions:
                _record(self._package_dir(ext), reason)
            return
        sources = {ext.name: ext.sources for ext in translated}
        for ext in self.extensions:  # the declared objects: finalize_options already prepared them
            ext.sources = sources[ext.name]
        try:
            super().run()
        except Exception as error:
            if REQUIRE:
                raise
            _warn(f"the C extension could not be built ({error}).")
            for ext in self.extensions:
                _record(self._package_dir(ext), f"the C extension could not be built: {error}")

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as error:
            if REQUIRE:
                raise
            _warn(f"the C extension {ext.name} could not be built ({error}).")
            _record(self._package_dir(ext), f"the C extension could not be built: {error}")
        else:
            _record(self._package_dir(ext), None)

    def _package_dir(self, ext):
        """Where the extension goes: the built package (a wheel) or the source folder (an editable install)."""
        return os.path.dirname(self.get_ext_fullpath(ext.name))


os.chdir(HERE)
setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
