"""`poise model evaluate` on a small EmoDB manifest, and manifest errors that name the row."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from edge.cli import main
from models.emodb import utterances


def _manifest(emodb_dir: Path, tmp_path: Path) -> Path:
    rows = []
    for spk in ("03", "09"):
        utts = [u for u in utterances(emodb_dir) if u.speaker == spk]
        high = [u for u in utts if u.arousal == "high"][:3]
        low = [u for u in utts if u.arousal == "low"][:3]
        rows += [(str(u.path), spk, u.arousal) for u in high + low]
    # one relative path, resolved against the manifest's folder
    (tmp_path / "audio").mkdir()
    shutil.copy(rows[0][0], tmp_path / "audio" / "first.wav")
    rows[0] = ("audio/first.wav", rows[0][1], rows[0][2])
    m = tmp_path / "manifest.csv"
    m.write_text("path,speaker,label\n" + "".join(f"{p},{s},{lab}\n" for p, s, lab in rows))
    return m


def test_evaluate_prints_and_writes_uars(
    emodb_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = _manifest(emodb_dir, tmp_path)
    out = tmp_path / "res.json"
    assert main(["model", "evaluate", "--manifest", str(m), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "12 files, 2 speakers: UAR raw" in printed
    res = json.loads(out.read_text())
    assert res["n"] == 12
    assert 0.75 <= res["uar_raw"] <= 1.0
    assert 0.75 <= res["uar_baseline"] <= 1.0
    assert all(f["windows"] >= 1 for f in res["files"])


def test_bad_rows_are_named(
    tmp_path: Path, emodb_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav = next(iter(sorted((emodb_dir / "wav").glob("*.wav"))))
    m = tmp_path / "m.csv"
    m.write_text(f"path,speaker,label\n{wav},03,high\n{wav},03,angry\n")
    assert main(["model", "evaluate", "--manifest", str(m)]) == 2
    assert "row 3: label 'angry'" in capsys.readouterr().err
    m.write_text("path,speaker,label\nnope.wav,03,low\n")
    assert main(["model", "evaluate", "--manifest", str(m)]) == 2
    assert "row 2: file not found" in capsys.readouterr().err
    m.write_text("file,who\nx,y\n")
    assert main(["model", "evaluate", "--manifest", str(m)]) == 2
    assert "path,speaker,label" in capsys.readouterr().err


def test_info_summarises_the_card(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["model", "info"]) == 0
    out = capsys.readouterr().out
    assert "matches its card" in out and "loso-emodb UAR" in out
