# C types for _parser.py when Cython compiles it as fastmime._cparser (see setup.py). The Python
# source stays the single source of behaviour; this file only says which names are C-typed.
# cython: language_level=3

cimport cython
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE, PyByteArray_Resize
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.unicode cimport (
    PyUnicode_1BYTE_DATA,
    PyUnicode_1BYTE_KIND,
    PyUnicode_DecodeASCII,
    PyUnicode_DecodeLatin1,
    PyUnicode_DecodeUTF8,
    PyUnicode_GET_LENGTH,
    PyUnicode_KIND,
    PyUnicode_Substring,
)
from libc.string cimport memchr, memcmp, memcpy

cdef extern from "string.h":
    # POSIX 2024 / glibc / BSD libc; Python.h defines _GNU_SOURCE on Linux.
    void *memmem(const void *haystack, size_t haystacklen, const void *needle, size_t needlelen) nogil


# -- C twins of the primitives in _parser.py (same results, no interpreter) ------------------------

cdef inline Py_ssize_t _c_find(bytes data, bytes needle, Py_ssize_t start, Py_ssize_t end):
    cdef const char *base = data
    cdef const char *q = needle
    cdef Py_ssize_t n = len(needle)
    cdef const char *hit
    cdef const char *last
    cdef int misses = 0
    if end - start < n:
        return -1
    if n == 0:
        return start
    # memchr for the first byte, then compare: no set-up, so it wins on small fields, header blocks and
    # small feeds. After a few false starts (dense CR/LF data) memmem takes over: its set-up pays off
    # there, since it skips ahead by up to the needle's length.
    hit = base + start
    last = base + end - n
    while hit <= last:
        hit = <const char *>memchr(hit, q[0], <size_t>(last - hit + 1))
        if hit == NULL:
            return -1
        # the second byte first: a lone CR (or LF) in the data is turned down without a call
        if n == 1 or (hit[1] == q[1] and memcmp(hit + 2, q + 2, <size_t>(n - 2)) == 0):
            return hit - base
        hit += 1
        misses += 1
        if misses == 8:
            break
    if hit > last:
        return -1
    hit = <const char *>memmem(hit, <size_t>(base + end - hit), q, <size_t>n)
    return -1 if hit == NULL else hit - base


cdef inline Py_ssize_t _c_held_back_start(bytes buf, bytes needle, Py_ssize_t start, Py_ssize_t end):
    cdef const unsigned char *p = buf
    cdef const unsigned char *q = needle
    cdef Py_ssize_t lo = end - len(needle) + 1
    cdef const unsigned char *hit
    cdef const unsigned char *found = NULL
    if lo < start:
        lo = start
    if lo >= end:
        return end
    # The last occurrence of the needle's first byte in p[lo:end] (memchr is vectorised; memrchr is
    # not in every libc): usually none or one.
    hit = <const unsigned char *>memchr(p + lo, q[0], <size_t>(end - lo))
    while hit != NULL:
        found = hit
        hit = <const unsigned char *>memchr(hit + 1, q[0], <size_t>(p + end - hit - 1))
    if found != NULL and memcmp(found, q, <size_t>(p + end - found)) == 0:
        return found - p
    return end


cdef inline bint _c_starts_with(bytes data, bytes prefix, Py_ssize_t pos):
    cdef Py_ssize_t n = len(prefix)
    if pos < 0 or pos + n > len(data):
        return False
    return memcmp(<const char *>data + pos, <const char *>prefix, <size_t>n) == 0


cdef inline bytes _c_slice(bytes data, Py_ssize_t start, Py_ssize_t stop):
    # data[start:stop]: Cython slices bytes through a slice object; this is one allocation and a copy
    return PyBytes_FromStringAndSize(<const char *>data + start, stop - start)


cdef inline int _c_extend(bytearray buffer, bytes data, Py_ssize_t start, Py_ssize_t stop) except -1:
    # buffer += data[start:stop] with no intermediate object (the same resize, so the same BufferError
    # when the buffer is exported)
    cdef Py_ssize_t size = PyByteArray_GET_SIZE(buffer)
    PyByteArray_Resize(buffer, size + (stop - start))
    memcpy(PyByteArray_AS_STRING(buffer) + size, <const char *>data + start, <size_t>(stop - start))
    return 0


cdef inline bint _c_is_token_byte(unsigned char c):
    if (c >= 97 and c <= 122) or (c >= 65 and c <= 90) or (c >= 48 and c <= 57):  # a-z A-Z 0-9
        return True
    return c in b"!#$%&'*+-.^_`|~"


cdef inline object _c_split_header_block(bytes block, bytes eol):
    cdef const char *p = block
    cdef const char *e = eol
    cdef Py_ssize_t n = len(block)
    cdef Py_ssize_t el = len(eol)
    cdef Py_ssize_t i = 0
    cdef Py_ssize_t line_end, j, colon, vs, ve
    cdef unsigned char c
    cdef list headers = []
    cdef object name, value
    while True:
        line_end = _c_find(block, eol, i, n)
        if line_end < 0:
            line_end = n
        colon = -1
        # the usual names first: known tokens, so no byte-by-byte check
        if line_end - i > 19 and p[i + 19] == 58 and memcmp(p + i, b"Content-Disposition", 19) == 0:
            colon = i + 19
        elif line_end - i > 12 and p[i + 12] == 58 and memcmp(p + i, b"Content-Type", 12) == 0:
            colon = i + 12
        else:
            j = i
            while j < line_end:
                c = <unsigned char>p[j]
                if c == 58:  # ':'
                    colon = j
                    break
                if not _c_is_token_byte(c):
                    return None
                j += 1
            if colon <= i:
                return None
        vs = colon + 1
        ve = line_end
        j = vs
        while j < ve:
            c = <unsigned char>p[j]
            if (c < 32 and c != 9) or c == 127:
                return None
            j += 1
        while vs < ve and (p[vs] == 32 or p[vs] == 9):
            vs += 1
        while ve > vs and (p[ve - 1] == 32 or p[ve - 1] == 9):
            ve -= 1
        if colon - i == 19 and memcmp(p + i, b"Content-Disposition", 19) == 0:
            name = "Content-Disposition"  # a constant: no new string for the usual names
        elif colon - i == 12 and memcmp(p + i, b"Content-Type", 12) == 0:
            name = "Content-Type"
        else:
            name = PyUnicode_DecodeASCII(p + i, colon - i, NULL)
        try:
            value = PyUnicode_DecodeUTF8(p + vs, ve - vs, NULL)
        except UnicodeDecodeError:
            value = PyUnicode_DecodeLatin1(p + vs, ve - vs, NULL)
        headers.append((name, value))
        if line_end >= n:
            return headers
        i = line_end + el

cdef inline bytes _c_bytes_of(bytearray buffer):
    # bytes(buffer) without the generic constructor's dispatch
    return PyBytes_FromStringAndSize(PyByteArray_AS_STRING(buffer), PyByteArray_GET_SIZE(buffer))


cdef inline bint _c_is_one_byte(unicode value):
    return PyUnicode_KIND(value) == PyUnicode_1BYTE_KIND


cdef inline object _c_browser_disposition(unicode value):
    # _browser_disposition for a string of one byte per character (ASCII or Latin-1: what browsers send),
    # with memchr/memcmp on its characters instead of str methods; the same result
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(value)
    cdef const char *p = <const char *>PyUnicode_1BYTE_DATA(value)
    cdef const char *hit
    cdef Py_ssize_t close, after
    if n <= 17 or p[n - 1] != 34 or memcmp(p, b'form-data; name="', 17) != 0:
        return None
    if memchr(p + 17, 92, <size_t>(n - 17)) != NULL:  # a backslash: the general parser
        return None
    close = <const char *>memchr(p + 17, 34, <size_t>(n - 17)) - p  # found: the last character is one
    if close == n - 1:
        return (PyUnicode_Substring(value, 17, close), None)
    after = close + 13
    if after >= n or memcmp(p + close, b'"; filename="', 13) != 0:
        return None
    hit = <const char *>memchr(p + after, 34, <size_t>(n - after))
    if hit - p != n - 1:
        return None
    return (PyUnicode_Substring(value, 17, close), PyUnicode_Substring(value, after, n - 1))


cdef bint _COMPILED
cdef dict _COMMON_HEADER_NAMES
cdef unicode _BROWSER_PREFIX, _BROWSER_FILENAME
cdef int _SINK_CALL, _SINK_VALUE, _SINK_DISCARD
cdef int _PREAMBLE, _AFTER_DELIMITER, _HEADERS, _BODY, _EPILOGUE, _CLOSED, _FAILED
cdef int _AD_START, _AD_DASH, _AD_PADDING, _AD_CR
cdef int _CR, _LF, _DASH, _SPACE, _TAB
cdef Py_ssize_t _TRANSPORT_PADDING_MAX

@cython.locals(semi=Py_ssize_t, n=Py_ssize_t, i=Py_ssize_t, eq=Py_ssize_t, j=Py_ssize_t,
               close=Py_ssize_t, main=unicode, key=unicode, text=unicode, params=list)
cpdef tuple _parse_params(unicode value)

@cython.locals(n=Py_ssize_t, ch=Py_UCS4)
cdef tuple _unescape_quoted(unicode value, Py_ssize_t j)

@cython.locals(n=Py_ssize_t, start=Py_ssize_t, close=Py_ssize_t, after=Py_ssize_t)
cdef object _browser_disposition(unicode value)


cdef class Part:
    cdef public object name, filename, content_type, charset, headers, index


cdef class ValueHandler:
    cdef bytes _value
    cdef bytearray _buffer
    cdef public object max_size, done, error


cdef class DiscardHandler:
    cdef public object size, done, error


cdef class MultipartParser:
    cdef object _handler_for
    cdef bytes _boundary
    cdef Py_ssize_t _max_parts, _max_header_size, _max_header_lines
    cdef Py_ssize_t _max_field_size, _max_file_size, _max_body_size
    cdef int _state, _after, _sink
    cdef bytes _needle, _tail, _eol, _header_end
    cdef object _hbuf
    cdef Py_ssize_t _padding, _header_offset, _received, _part_count
    cdef Py_ssize_t _part_size, _part_limit, _part_offset
    cdef object _part, _handler, _on_data, _error, _view, _fed
    cdef Py_ssize_t _coalesce
    cdef bytearray _batch

    cdef object _fail(self, error)

    @cython.locals(state=int)
    cdef object _parse(self, bytes data, Py_ssize_t pos, Py_ssize_t end, Py_ssize_t base)

    @cython.locals(needle=bytes, n=Py_ssize_t, tail=bytes, t=Py_ssize_t, take=Py_ssize_t,
                   junction=bytes, i=Py_ssize_t, keep=Py_ssize_t)
    cdef Py_ssize_t _scan(self, bytes data, Py_ssize_t pos, Py_ssize_t end, Py_ssize_t base) except -1

    @cython.locals(end=Py_ssize_t, base=Py_ssize_t, over=bint)
    cpdef feed(self, data)

    @cython.locals(size=Py_ssize_t, sink=int, value_handler=ValueHandler, discard_handler=DiscardHandler,
                   batch=bytearray)
    cdef object _emit(self, bytes data, Py_ssize_t start, Py_ssize_t stop)

    cdef object _extend(self, bytearray buffer, bytes data, Py_ssize_t start, Py_ssize_t stop)

    @cython.locals(batch=bytearray)
    cdef object _flush(self)

    cdef object _hand_over(self, bytes data, Py_ssize_t start, Py_ssize_t stop)

    @cython.locals(value_handler=ValueHandler, discard_handler=DiscardHandler)
    cdef Py_ssize_t _delimiter(self, Py_ssize_t pos, Py_ssize_t base) except -1

    @cython.locals(c=int, after=int)
    cdef Py_ssize_t _after_delimiter(self, bytes data, Py_ssize_t pos, Py_ssize_t end,
                                     Py_ssize_t base) except -1

    cdef Py_ssize_t _close_delimiter(self, Py_ssize_t end) except -1

    @cython.locals(eol=bytes)
    cdef Py_ssize_t _delimiter_line_end(self, bint bare_lf, Py_ssize_t pos, Py_ssize_t base) except -1

    @cython.locals(eol=bytes, term=bytes, limit=Py_ssize_t, window=Py_ssize_t, i=Py_ssize_t,
                   cap=Py_ssize_t, before=Py_ssize_t, take=Py_ssize_t, lo=Py_ssize_t, block=bytes)
    cdef Py_ssize_t _read_headers(self, bytes data, Py_ssize_t pos, Py_ssize_t end,
                                  Py_ssize_t base) except -1

    @cython.locals(index=Py_ssize_t, headers=list, name=unicode, lname=unicode, value=unicode,
                   names=tuple, key=unicode, text=unicode, part=Part)
    cdef Py_ssize_t _start_part(self, bytes block, Py_ssize_t pos) except -1


cpdef Py_ssize_t _find(bytes data, bytes needle, Py_ssize_t start, Py_ssize_t end) except -2
cpdef Py_ssize_t _held_back_start(bytes buf, bytes needle, Py_ssize_t start, Py_ssize_t end) except -2
cpdef bint _starts_with(bytes data, bytes prefix, Py_ssize_t pos) except -1
cpdef object _split_header_block(bytes block, bytes eol)
