"""The imgpipe command line: process (files, folders, bad files, jobs, formats, documents) and exif."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

import imgpipe
from imgpipe.cli import main
from tests.imgpipe._images import encode
from tests.imgpipe._jpegs import make_jpeg

ROOT = Path(__file__).resolve().parents[2]
NS = "{urn:yahoo:photo}"


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    (folder / "trip").mkdir(parents=True)
    (folder / "a.jpg").write_bytes(
        make_jpeg(1200, 800, orientation=6, gps=(1.0, 2.0), exif={0x010F: "Canon", 0x0110: "EOS", 0x829D: 2.8})
    )
    (folder / "a.png").write_bytes(encode(Image.new("RGB", (300, 200), (1, 2, 3)), "PNG"))
    (folder / "trip" / "b.JPEG").write_bytes(make_jpeg(640, 480))
    (folder / "trip" / "broken.jpg").write_bytes(make_jpeg(640, 480)[:300])
    (folder / "trip" / "notes.txt").write_text("not searched: not an image name")
    return folder


def test_process_a_folder_reports_and_skips_bad_files(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["process", str(photos), "--out", str(out), "--no-progress"]) == 1
    err = capsys.readouterr()
    assert "trip/broken.jpg" in err.err and "TruncatedImageError" in err.err and "skipped" in err.err
    assert "3 processed, 1 failed" in err.out
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == [
        "a.full.jpg",
        "a.png.full.png",
        "a.png.screen.jpg",
        "a.png.thumb.jpg",
        "a.screen.jpg",
        "a.thumb.jpg",
        "photolist.xml",
        "trip/b.full.jpg",
        "trip/b.screen.jpg",
        "trip/b.thumb.jpg",
    ]
    assert (out / "a.full.jpg").read_bytes() == (photos / "a.jpg").read_bytes()  # full is the original
    root = ET.fromstring((out / "photolist.xml").read_bytes())
    first = root.findall(f"{NS}Photo")[0]
    assert (first.get(f"{NS}hrWidth"), first.get(f"{NS}hrHeight")) == ("800", "1200")
    urls = [im.text for im in first.iter(f"{NS}Image")]
    assert urls == ["a.thumb.jpg", "a.screen.jpg", "a.full.jpg"]
    assert first.findtext(f"{NS}EXIF/{NS}Camera") == "Canon. EOS."
    with Image.open(out / "a.screen.jpg") as im:
        assert im.size == (320, 480)


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_jobs_give_the_same_files(photos: Path, tmp_path: Path, executor: str) -> None:
    one, many = tmp_path / "one", tmp_path / "many"
    assert main(["process", str(photos / "a.jpg"), str(photos / "trip"), "--out", str(one), "--no-progress"]) == 1
    args = ["process", str(photos / "a.jpg"), str(photos / "trip"), "--out", str(many), "--no-progress"]
    assert main([*args, "--jobs", "2", "--executor", executor]) == 1
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(many) for p in many.rglob("*") if p.is_file())
    for rel in files:
        assert (one / rel).read_bytes() == (many / rel).read_bytes(), rel


def test_json_document_platform_renditions_and_webp(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [
        "process",
        str(photos / "a.jpg"),
        "--out",
        str(out),
        "--renditions",
        "platform",
        "--format",
        "webp",
        "--quality",
        "70",
        "--json",
        "--no-progress",
    ]
    assert main(args) == 0
    doc = json.loads((out / "photolist.json").read_text(encoding="utf-8"))
    images = doc["PhotoList"]["Photo"][0]["ImageList"]
    assert [(i["type"], i["format"]) for i in images] == [("src_small", "webp"), ("src", "webp"), ("src_big", "webp")]
    assert (out / "a.src_big.webp").read_bytes()[8:12] == b"WEBP"


def test_avif_or_a_usage_error(photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["process", str(photos / "a.png"), "--out", str(tmp_path / "o"), "--format", "avif", "--no-progress"]
    if "avif" in imgpipe.OUTPUT_FORMATS:
        assert main(args) == 0
        assert (tmp_path / "o" / "a.screen.avif").read_bytes()[4:12] == b"ftypavif"
    else:
        with pytest.raises(SystemExit) as info:
            main(args)
        assert info.value.code == 2 and "libavif" in capsys.readouterr().err


def test_missing_input_fails_but_the_rest_is_done(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            ["process", str(photos / "nope.jpg"), str(photos / "a.png"), "--out", str(tmp_path / "o"), "--no-progress"]
        )
        == 1
    )
    assert "nope.jpg: no such file" in capsys.readouterr().err
    assert (tmp_path / "o" / "a.full.png").exists()


def test_exif_human_and_json(photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exif", str(photos / "a.jpg"), str(photos / "a.png")]) == 0
    text = capsys.readouterr().out
    assert "Camera       Canon. EOS." in text and "Aperture     297/100" in text and "Orientation  6" in text
    assert f"{photos / 'a.png'}: no EXIF" in text
    assert main(["exif", "--json", str(photos / "a.jpg"), str(photos / "missing.jpg")]) == 1
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc[str(photos / "a.jpg")]["GPS"] == [1.0, 2.0]
    assert "missing.jpg" in captured.err


def test_console_entry_point_runs(photos: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "imgpipe", "process", str(photos / "a.jpg"), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "1 processed, 0 failed" in proc.stdout
