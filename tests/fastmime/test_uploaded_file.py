"""UploadedFile: save, seek, chunks and async reading; parse_form's upload_dir."""

from __future__ import annotations

import asyncio
import io
import os

import fastmime

from ._helpers import BOUNDARY, body_of, part

CTYPE = "multipart/form-data; boundary=" + BOUNDARY.decode()
BIG = os.urandom(300_000)
BODY = body_of(part("small", b"tiny", filename="s.txt"), part("big", BIG, filename="../../b.bin"))


def test_save_to_a_path_or_a_file_and_seek(tmp_path) -> None:
    with fastmime.parse_form(BODY, CTYPE, spool_threshold=1000) as form:
        small, big = form.files["small"], form.files["big"]
        assert small.in_memory and not big.in_memory
        assert big.read(10) == BIG[:10] and big.tell() == 10
        big.save(tmp_path / "big.bin")  # the whole file, wherever the position was
        assert (tmp_path / "big.bin").read_bytes() == BIG and big.tell() == 0
        out = io.BytesIO()
        small.save(out)
        assert out.getvalue() == b"tiny"
        small.save(str(tmp_path / "s"))
        assert (tmp_path / "s").read_bytes() == b"tiny"
        assert big.seek(-5, os.SEEK_END) == len(BIG) - 5 and big.read() == BIG[-5:]
        assert b"".join(big.chunks(4096)) == BIG and max(map(len, big.chunks(4096))) == 4096
        assert big.safe_filename == "b.bin"


def test_upload_dir_holds_the_spooled_files_until_closed(tmp_path) -> None:
    folder = tmp_path / "uploads"
    folder.mkdir()
    form = fastmime.parse_form([BODY[:1000], BODY[1000:]], CTYPE, spool_threshold=1000, upload_dir=folder)
    big = form.files["big"]
    # anonymous temporary files: nothing to clean up by name, but they live on that disk
    assert os.path.dirname(os.path.realpath(f"/proc/self/fd/{big.file.fileno()}")) == str(folder.resolve())
    form.close()
    assert big.file.closed and list(folder.iterdir()) == []


def test_async_reading_and_saving(tmp_path) -> None:
    async def run() -> None:
        with fastmime.parse_form(BODY, CTYPE, spool_threshold=1000) as form:
            big, small = form.files["big"], form.files["small"]
            assert await big.aread(3) == BIG[:3]
            assert await big.aseek(0) == 0 and await big.aread() == BIG
            assert await small.aread() == b"tiny"
            await big.asave(tmp_path / "a.bin")
        assert (tmp_path / "a.bin").read_bytes() == BIG

    asyncio.run(run())


def test_async_with_closes_files_from_a_worker_thread(tmp_path) -> None:
    import threading

    closed_in: dict[str, str] = {}

    async def run() -> None:
        async with fastmime.parse_form(BODY, CTYPE, spool_threshold=1000, upload_dir=tmp_path) as form:
            for name, upload in form.files.multi_items():
                close = upload.file.close

                def noting(name: str = name, close=close) -> None:
                    closed_in[name] = threading.current_thread().name
                    close()

                upload.file.close = noting  # type: ignore[method-assign]
        assert all(upload.file.closed for _, upload in form.files.multi_items())

    asyncio.run(run())
    main = threading.main_thread().name
    assert closed_in["small"] == main  # in memory: nothing for the kernel to free
    assert closed_in["big"] != main  # a temporary file on disk: removed from a worker thread
    assert list(tmp_path.iterdir()) == []


def _three_files_one_failing(tmp_path):
    body = body_of(
        part("a", BIG, filename="a.bin"), part("b", b"tiny", filename="b.txt"), part("c", BIG, filename="c.bin")
    )
    form = fastmime.parse_form(body, CTYPE, spool_threshold=1000, upload_dir=tmp_path)
    a = form.files["a"]
    close = a.file.close

    def failing() -> None:
        close()
        raise OSError("disk gone")

    a.file.close = failing  # type: ignore[method-assign]
    return form


def test_close_and_aclose_close_every_file_when_one_fails(tmp_path) -> None:
    import pytest

    for closing in ("sync", "async"):
        form = _three_files_one_failing(tmp_path)
        with pytest.raises(OSError, match="disk gone"):
            if closing == "sync":
                form.close()
            else:
                asyncio.run(form.aclose())
        assert all(upload.file.closed for _, upload in form.files.multi_items()), closing
        assert list(tmp_path.iterdir()) == []


def test_aclose_cancelled_still_closes_every_file(tmp_path) -> None:
    import threading

    body = body_of(
        part("a", BIG, filename="a.bin"), part("b", b"tiny", filename="b.txt"), part("c", BIG, filename="c.bin")
    )
    form = fastmime.parse_form(body, CTYPE, spool_threshold=1000, upload_dir=tmp_path)
    big = form.files["a"]  # the first file takes a while to close; the task is cancelled meanwhile
    close, started = big.file.close, threading.Event()

    def slow() -> None:
        started.set()
        threading.Event().wait(0.2)
        close()

    big.file.close = slow  # type: ignore[method-assign]

    async def run() -> None:
        task = asyncio.ensure_future(form.aclose())
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        else:
            raise AssertionError("the cancellation was lost")

    asyncio.run(run())
    assert all(upload.file.closed for _, upload in form.files.multi_items())
    assert list(tmp_path.iterdir()) == []


def test_spool_threshold_zero_puts_every_file_on_disk(tmp_path) -> None:
    import pytest

    with fastmime.parse_form(BODY, CTYPE, spool_threshold=0, upload_dir=tmp_path) as form:
        assert not form.files["small"].in_memory and form.files["small"].read() == b"tiny"
        assert not form.files["big"].in_memory
    with pytest.raises(ValueError, match="spool_threshold"):
        fastmime.parse_form(BODY, CTYPE, spool_threshold=-1)


def test_trio_async_with_closes_every_file(tmp_path) -> None:
    import pytest

    trio = pytest.importorskip("trio")

    async def run() -> None:
        async with fastmime.parse_form(BODY, CTYPE, spool_threshold=1000, upload_dir=tmp_path) as form:
            pass
        assert all(upload.file.closed for _, upload in form.files.multi_items())

    trio.run(run)
    assert list(tmp_path.iterdir()) == []
