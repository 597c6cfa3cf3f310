"""Bad input tried as a new user would (issue #10): each case is one ``poise: error:`` line,
exit 2, and nothing is lost (inputs, system files and state stay as they were)."""

from __future__ import annotations

import json
import os
import stat
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edge.device.baseline import BaselineStore
from edge.errors import OutputError
from edge.fileio import atomic_write, check_replaceable
from tests.audio import wavgen
from tests.install.conftest import error_line, tone_call
from tests.support.agents import saved_agents

REPO = Path(__file__).resolve().parents[2]
NO_MODEL = ["--set", "model.enabled=false"]


def header_rate_wav(path: Path, rate: int, size: int = 96 * 1024) -> Path:
    """A ``size``-byte 16-bit mono WAV whose header declares ``rate`` Hz."""
    data = np.zeros((size - 44) // 2, "<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, rate, (rate * 2) % 2**32, 2, 16)
    body = b"WAVEfmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(data))
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body) + len(data)) + body + data)
    return path


def edge_run(wav: Path | str, state: Path, *extra: str) -> list[str]:
    return [
        "edge",
        "run",
        "--source",
        f"wav:{wav}",
        "--cue",
        "none",
        "--set",
        f'baseline.state_file="{state}"',
        *NO_MODEL,
        *extra,
    ]


# -- implausible headers ---------------------------------------------------------------------


@pytest.mark.parametrize("rate", [1, 4_000_000_000])
def test_implausible_rate_is_refused_by_analyze_and_edge_run(capsys, tmp_path, rate):
    wav = header_rate_wav(tmp_path / "odd.wav", rate)
    line = error_line(capsys, ["analyze", str(wav)])
    assert "sample rate" in line and str(rate) in line and str(wav) in line
    line = error_line(capsys, edge_run(wav, tmp_path / "state.json"))
    assert "sample rate" in line
    assert not (tmp_path / "state.json").exists()


def test_implausible_channel_count_is_refused(capsys, tmp_path):
    wav = tmp_path / "many.wav"
    data = np.zeros(1000 * 65, "<i2").tobytes()
    wav.write_bytes(wavgen.wav_bytes(data, channels=65, rate=16000, bits=16))
    assert "65 channels" in error_line(capsys, ["analyze", str(wav)])


# -- outputs that would destroy inputs or system files ---------------------------------------


def test_analyze_refuses_to_write_its_json_over_the_recording(capsys, call_wav):
    before = call_wav.read_bytes()
    line = error_line(capsys, ["analyze", str(call_wav), "--json", str(call_wav)])
    assert "is the input" in line
    assert call_wav.read_bytes() == before


def test_edge_run_refuses_events_over_the_recording(capsys, tmp_path, call_wav):
    before = call_wav.read_bytes()
    line = error_line(capsys, [*edge_run(call_wav, tmp_path / "s.json"), "--events", str(call_wav)])
    assert "is the input" in line
    assert call_wav.read_bytes() == before


def test_outputs_never_replace_a_symlink(capsys, tmp_path, call_wav):
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    link = tmp_path / "out.json"
    link.symlink_to(target)
    line = error_line(capsys, ["analyze", str(call_wav), "--json", str(link)])
    assert "symbolic link" in line
    assert link.is_symlink() and target.read_text() == "keep me"


def test_state_file_that_is_a_device_or_fifo_is_never_replaced(capsys, tmp_path, call_wav):
    fifo = tmp_path / "state.fifo"
    os.mkfifo(fifo)
    line = error_line(capsys, edge_run(call_wav, fifo))
    assert "not a regular file" in line
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    # /dev/null (what `--set baseline.state_file=/dev/null` used to replace as root): refused
    # before any temporary file is made.
    with pytest.raises(OutputError, match="not a regular file"):
        check_replaceable("/dev/null")
    with pytest.raises(OutputError), atomic_write("/dev/null") as fh:
        fh.write("x")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_dash_is_stdout_for_every_output(capsys, call_wav):
    from edge.cli import main

    assert main(["analyze", str(call_wav), "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["file"] == str(call_wav) and "summary" in doc
    assert main(["analyze", str(call_wav), "--frames", "-"]) == 0
    assert capsys.readouterr().out.startswith("t,channel,")
    assert not Path("-").exists()
    line = error_line(capsys, ["analyze", str(call_wav), "--json", "-", "--frames", "-"])
    assert "only one output" in line


# -- non-seekable input ----------------------------------------------------------------------


def test_fifo_input_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "call.wav"
    os.mkfifo(fifo)
    proc = subprocess.run(
        [sys.executable, "-m", "edge", "analyze", str(fifo)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("poise: error:") == 1 and "not a regular file" in proc.stderr


def test_piped_stdin_is_refused(tmp_path, call_wav):
    with call_wav.open("rb") as fh:
        data = fh.read()
    proc = subprocess.run(
        [sys.executable, "-m", "edge", "analyze", "/dev/stdin"],
        input=data,
        capture_output=True,
        timeout=60,
        cwd=REPO,
    )
    err = proc.stderr.decode()
    assert proc.returncode == 2 and err.count("poise: error:") == 1, err
    assert "not a regular file" in err and "Traceback" not in err


# -- tracebacks that became error lines ------------------------------------------------------


def test_non_utf8_config(capsys, tmp_path, call_wav):
    cfg = tmp_path / "device.toml"
    cfg.write_bytes(b'[audio]\nsource = "caf\xe9"\n')
    assert "not UTF-8" in error_line(capsys, ["edge", "run", "--config", str(cfg)])
    assert "not UTF-8" in error_line(capsys, ["analyze", str(call_wav), "--config", str(cfg)])


def test_recalibrate_on_a_directory_or_unreachable_state_file(capsys, tmp_path):
    folder = tmp_path / "state"
    folder.mkdir()
    line = error_line(capsys, ["edge", "recalibrate", "--set", f'baseline.state_file="{folder}"'])
    assert "directory" in line and folder.is_dir()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    line = error_line(
        capsys, ["edge", "recalibrate", "--set", f'baseline.state_file="{blocker}/b.json"']
    )
    assert str(blocker) in line and blocker.read_text() == "x"


def test_manifest_row_with_an_extra_field(capsys, tmp_path, call_wav):
    manifest = tmp_path / "files.csv"
    manifest.write_text(f"path,speaker,label\n{call_wav},s1,high,oops\n")
    line = error_line(capsys, ["model", "evaluate", "--manifest", str(manifest)])
    assert "row 2" in line and "4 fields" in line


def test_deeply_nested_state_file_recalibrates_instead_of_crashing(tmp_path, caplog):
    state = tmp_path / "baseline.json"
    state.write_text("[" * 100_000 + "]" * 100_000)
    baseline = BaselineStore(state).load()
    assert not baseline.ready and baseline.speech_s == 0
    assert "nested too deeply" in caplog.text


def test_events_to_a_closed_pipe_is_one_error_line_and_the_baseline_is_saved(tmp_path):
    wav = tone_call(tmp_path / "call.wav", seconds=30.0)
    state = tmp_path / "state.json"
    signed_in = ("--set", 'baseline.agent="ann"')
    cmd = [sys.executable, "-m", "edge", *edge_run(wav, state, "--events", "-", *signed_in)]
    # The reader takes one line and closes the pipe, as `| head -1` does.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    rc = proc.wait(timeout=120)
    assert json.loads(first)["kind"]
    assert rc == 2, err
    assert err.count("poise: error:") == 1 and "broken pipe" in err and "Traceback" not in err
    assert list(saved_agents(state)) == ["ann"]  # saved on the way out


def test_nan_float_samples_are_refused_naming_the_file(capsys, tmp_path):
    x = np.zeros((16000, 2))
    x[8000, 1] = np.nan
    wav = wavgen.write(tmp_path / "nan.wav", x, 16000, 32, is_float=True)
    line = error_line(capsys, ["analyze", str(wav), "--json", str(tmp_path / "out.json")])
    assert str(wav) in line and "NaN or infinite" in line and "0.500 s" in line
    assert not (tmp_path / "out.json").exists()
    x[8000, 1] = np.inf
    wavgen.write(wav, x, 16000, 64, is_float=True)
    assert "NaN or infinite" in error_line(capsys, edge_run(wav, tmp_path / "s.json"))


# -- config validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ("detectors.pace.enter=nan", "finite"),
        ("detectors.stress.exit=inf", "finite"),
        ("detectors.pace.enter=-1.3", "negative"),
        ("detectors.overtalk.exit=-0.1", "negative"),
        ("detectors.pace.exit=1.5", "hysteresis"),
        ("detectors.flat.exit=0.5", "hysteresis"),
        ("baseline.save_every_s=0", "save_every_s"),
    ],
)
def test_config_values_that_make_no_sense(capsys, setting, says):
    line = error_line(capsys, ["edge", "run", "--set", setting])
    assert says in line and setting.split("=")[0].split(".")[1] in line


# -- model info ------------------------------------------------------------------------------


def test_model_info_refuses_a_non_model_whose_card_hash_matches(capsys, tmp_path):
    import hashlib

    from edge.model.card import DEFAULT_MODEL, card_path_for

    fake = tmp_path / "fake.tflite"
    fake.write_bytes(b"this is not a flatbuffer" * 100)
    card = json.loads(card_path_for(DEFAULT_MODEL).read_text())
    card["model"]["sha256"] = hashlib.sha256(fake.read_bytes()).hexdigest()
    card_path_for(fake).write_text(json.dumps(card))
    rc_line = error_line(capsys, ["model", "info", "--model", str(fake)])
    assert "not usable" in rc_line and "TFLite" in rc_line


def test_model_info_on_the_shipped_model_exits_0(capsys):
    from edge.cli import main

    assert main(["model", "info"]) == 0
    assert "matches its card" in capsys.readouterr().out


# -- the state file: one run at a time, no leftovers -----------------------------------------


def test_a_second_run_on_the_same_state_file_is_refused(capsys, tmp_path, call_wav):
    state = tmp_path / "state.json"
    store = BaselineStore(state)
    with store.hold():
        line = error_line(capsys, edge_run(call_wav, state))
        assert "in use by another poise process" in line
        line = error_line(
            capsys, ["edge", "recalibrate", "--set", f'baseline.state_file="{state}"']
        )
        assert "in use" in line


def test_a_killed_runs_temporary_files_are_removed_at_start(tmp_path, call_wav):
    from edge.cli import main

    state = tmp_path / "state.json"
    (tmp_path / "agents").mkdir()
    stale = [tmp_path / ".state.json.k1ll3d.tmp", tmp_path / "agents/.agent-ann.json.k1ll3d.tmp"]
    for p in stale:
        p.write_text('{"half": ')
    other = [tmp_path / ".other.json.abc.tmp", tmp_path / "agents/.other.json.abc.tmp"]
    for p in other:
        p.write_text("not ours")
    assert main(edge_run(call_wav, state, "--set", 'baseline.agent="ann"')) == 0
    assert not any(p.exists() for p in stale) and all(p.exists() for p in other)
    assert saved_agents(state)["ann"]["baseline"]


def test_short_wav_header_chunk_is_an_error_not_a_traceback(capsys, tmp_path):
    wav = tmp_path / "cut.wav"
    fmt = struct.pack("<HHIIHH", 1, 1, 16000, 32000, 2, 16)
    wav.write_bytes(
        b"RIFF" + struct.pack("<I", 40) + b"WAVEfmt " + struct.pack("<I", 16) + fmt + b"dat"
    )
    assert str(wav) in error_line(capsys, ["analyze", str(wav)])
