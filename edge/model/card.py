"""The model card: what a ``.tflite`` is, what it expects, and proof it is the file it claims.

The device never runs a model whose bytes do not hash to the card's sha256, or whose card records
front-end features (``FeatureConfig.digest()``) other than the ones the device computes: either
raises :class:`~edge.errors.ModelError`. The card also carries the int8 quantisation of the input
and output tensors (applied by :func:`quantize` / :func:`dequantize`) and the input normalisation
(:class:`~edge.model.inputs.InputSpec`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.errors import ModelError
from edge.features.config import FeatureConfig
from edge.model.assets import default_model_path
from edge.model.inputs import InputSpec

log = logging.getLogger(__name__)

CARD_FORMAT = "poise-model-card/1"
DEFAULT_MODEL = default_model_path()
MODELS_DIR = DEFAULT_MODEL.parent


@dataclass(frozen=True)
class TensorInfo:
    """Shape, type and int8 quantisation of one model tensor."""

    shape: tuple[int, ...]
    """Tensor shape including the batch dimension."""
    dtype: str
    """Element type name (``int8``)."""
    scale: float
    """Real value = (q - zero_point) * scale."""
    zero_point: int
    """See ``scale``."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "shape": list(self.shape),
            "dtype": self.dtype,
            "scale": self.scale,
            "zero_point": self.zero_point,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TensorInfo:
        return cls(
            shape=tuple(int(v) for v in d["shape"]),
            dtype=str(d["dtype"]),
            scale=float(d["scale"]),
            zero_point=int(d["zero_point"]),
        )


@dataclass(frozen=True)
class ModelCard:
    """The parts of the card the device relies on, plus the whole document in ``raw``."""

    tflite_file: str
    """File name of the model, relative to the card."""
    sha256: str
    """sha256 (hex) of the model file."""
    input: TensorInfo
    """The int8 input tensor."""
    output: TensorInfo
    """The int8 output tensor (an arousal logit)."""
    feature_digest: str
    """``FeatureConfig.digest()`` of the front-end the model was trained on."""
    feature_config: dict[str, Any]
    """That ``FeatureConfig`` as a dict."""
    input_spec: InputSpec
    """Window shape and normalisation."""
    raw: dict[str, Any]
    """The whole card as read."""


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def card_path_for(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


def parse_card(doc: dict[str, Any], where: str = "model card") -> ModelCard:
    """Validate the structure of a card document."""
    if doc.get("format") != CARD_FORMAT:
        raise ModelError(f"{where}: not a {CARD_FORMAT} card (format={doc.get('format')!r})")
    try:
        spec = InputSpec.from_dict(doc["input_spec"])
        card = ModelCard(
            tflite_file=str(doc["model"]["file"]),
            sha256=str(doc["model"]["sha256"]),
            input=TensorInfo.from_dict(doc["input"]),
            output=TensorInfo.from_dict(doc["output"]),
            feature_digest=str(doc["features"]["digest"]),
            feature_config=dict(doc["features"]["config"]),
            input_spec=spec,
            raw=doc,
        )
    except KeyError as exc:
        raise ModelError(f"{where}: missing field {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{where}: malformed: {exc}") from None
    if card.input.shape[1:] != spec.shape:
        raise ModelError(f"{where}: input shape {card.input.shape} does not fit {spec.shape}")
    if not spec.mean or not spec.std:
        raise ModelError(f"{where}: input normalisation constants are missing")
    if card.input.scale <= 0 or card.output.scale <= 0:
        raise ModelError(f"{where}: quantisation scales must be positive")
    return card


def load_card(path: Path) -> ModelCard:
    """Read and validate a card file."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"model card not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: unreadable model card: {exc}") from None
    if not isinstance(doc, dict):
        raise ModelError(f"{path}: a model card must be a JSON object")
    return parse_card(doc, str(path))


def verify(card: ModelCard, blob: bytes, device_config: FeatureConfig, where: str) -> None:
    """Refuse (ModelError) a model whose bytes or features do not match the card/device."""
    digest = hashlib.sha256(blob).hexdigest()
    if digest != card.sha256:
        raise ModelError(
            f"{where}: sha256 {digest[:12]}... does not match its card ({card.sha256[:12]}...); "
            "refusing to run a model that is not the one described"
        )
    device_digest = device_config.digest()
    if card.feature_digest != device_digest:
        raise ModelError(
            f"{where}: trained on front-end features {card.feature_digest[:12]}... but this "
            f"device computes {device_digest[:12]}... (FeatureConfig or front-end version "
            "differ); retrain or use the matching model"
        )
    if device_config.n_mels != card.input_spec.n_mels:
        raise ModelError(f"{where}: model expects {card.input_spec.n_mels} mel bands")


def quantize(x: npt.NDArray[np.float32], info: TensorInfo) -> npt.NDArray[np.int8]:
    """Real values to the int8 tensor encoding (rounded, saturated)."""
    q = np.round(np.asarray(x, np.float32) / info.scale) + info.zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def dequantize(q: npt.NDArray[np.int8], info: TensorInfo) -> npt.NDArray[np.float32]:
    """int8 tensor values to real values."""
    return ((np.asarray(q, np.float32) - info.zero_point) * info.scale).astype(np.float32)
