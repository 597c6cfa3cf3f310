"""``poise model``: evaluate the shipped int8 prosody model on labelled WAVs, or show its card."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "model",
        help="the on-device arousal model: evaluate it on labelled WAVs, show its card",
        description="Inspect or evaluate the int8 prosody (arousal) model.",
    )
    msub = p.add_subparsers(dest="model_command", metavar="ACTION", required=True)
    ev = msub.add_parser(
        "evaluate",
        help="UAR (raw and baseline-relative) on a CSV manifest of labelled WAVs",
        description=(
            "Run the shipped int8 model through the device code path (any-rate WAV -> 16 kHz -> "
            "front-end -> windows -> int8 model) on every file of a manifest and print the "
            "unweighted average recall, raw and relative to each speaker's own baseline (built "
            "from that speaker's files in the manifest). The manifest is a CSV with a header "
            "path,speaker,label; label is high or low; relative paths are resolved against the "
            "manifest's folder."
        ),
    )
    ev.add_argument("--manifest", required=True, metavar="FILE.csv")
    ev.add_argument("--json", metavar="OUT.json", help="write the results (incl. per-file scores)")
    ev.add_argument("--model", metavar="PATH", help="model .tflite (card: same name, .json)")
    ev.set_defaults(func=_evaluate)
    info = msub.add_parser("info", help="print a summary of the model card")
    info.add_argument("--model", metavar="PATH", help="model .tflite (card: same name, .json)")
    info.set_defaults(func=_info)


def _evaluate(args: argparse.Namespace) -> int:
    from edge.features.config import FeatureConfig
    from edge.fileio import (
        check_replaceable,
        is_stdout,
        json_safe,
        refuse_same_file,
        write_text_atomic,
    )
    from edge.model.evaluate import evaluate, read_manifest
    from edge.model.runtime import ArousalModel

    if args.json and not is_stdout(args.json):
        check_replaceable(args.json)
        refuse_same_file(args.json, [args.manifest, args.model])
    rows = read_manifest(args.manifest)
    config = FeatureConfig()
    model = ArousalModel.load(args.model, config)

    def progress(i: int, n: int) -> None:
        if sys.stderr.isatty():
            print(f"\r{i}/{n} files", end="" if i < n else "\n", file=sys.stderr)

    res = evaluate(rows, model, config, progress=progress)
    print(
        f"{res['n']} files, {res['speakers']} speakers: "
        f"UAR raw {res['uar_raw']:.3f}, baseline-relative {res['uar_baseline']:.3f}"
    )
    if res["files_without_speech"]:
        print(f"{res['files_without_speech']} file(s) had no speech window (scored low)")
    if args.json:
        write_text_atomic(args.json, json.dumps(json_safe(res), indent=1) + "\n")
    return 0


def _info(args: argparse.Namespace) -> int:
    from edge.errors import ModelError
    from edge.features.config import FeatureConfig
    from edge.model.card import DEFAULT_MODEL, card_path_for, load_card
    from edge.model.runtime import ArousalModel

    path = Path(args.model) if args.model else DEFAULT_MODEL
    card = load_card(card_path_for(path))
    problem: str | None = None
    try:  # hash, features, and that a TFLite runtime really loads it with the card's tensors
        loaded = ArousalModel.load(path, FeatureConfig())
        status = f"matches its card and this device's features; loads with {loaded.runner.backend}"
    except ModelError as exc:
        problem = str(exc)
        status = f"NOT usable: {exc}"
    raw = card.raw
    ev = raw.get("evaluation", {})
    print(f"model: {path} ({raw['model'].get('size_bytes')} bytes), {status}")
    print(f"task: {raw.get('task')}")
    print(
        f"input: {list(card.input.shape)} int8 (scale {card.input.scale:.5g}, "
        f"zero point {card.input.zero_point}); output: {list(card.output.shape)} int8 logit"
    )
    print(f"features: digest {card.feature_digest[:16]}...")
    if isinstance(ev, dict) and ev:
        print(
            "LOSO UAR on EmoDB: "
            f"float raw {ev.get('uar_float_raw')}, baseline {ev.get('uar_float_baseline')}; "
            f"int8 raw {ev.get('uar_int8_raw')}, baseline {ev.get('uar_int8_baseline')}"
        )
        anchor = ev.get("anchor")
        if isinstance(anchor, dict):
            print(
                f"anchor ({anchor.get('name')}): raw {anchor.get('uar_raw')}, "
                f"speaker-z {anchor.get('uar_speaker_z')}"
            )
    print(f"intended use: {raw.get('intended_use')}")
    if problem is not None:
        raise ModelError(f"{path}: not usable on this device: {problem}")
    return 0
