"""Run the int8 prosody model on the device: LiteRT first, tflite-runtime as a fallback.

``ai_edge_litert`` (the ``edge`` extra) is preferred. Where it has no wheel, the older
``tflite_runtime`` package is used instead; note that tflite-runtime wheels are built against
numpy 1.x, so that fallback needs ``numpy<2`` in the environment. With neither installed, loading
a model raises :class:`~edge.errors.ModelError` saying what to install.

:class:`ArousalModel` is what the device uses: it checks the model against its card
(:mod:`edge.model.card`), quantises normalised windows, invokes, and dequantises the logit.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.errors import ModelError
from edge.features.config import FeatureConfig
from edge.model.card import (
    DEFAULT_MODEL,
    ModelCard,
    TensorInfo,
    card_path_for,
    dequantize,
    load_card,
    quantize,
    verify,
)
from edge.model.inputs import InputSpec

log = logging.getLogger(__name__)

#: Where an ``Interpreter`` class is looked for, in order.
RUNTIME_MODULES = ("ai_edge_litert.interpreter", "tflite_runtime.interpreter")


def interpreter_class() -> tuple[type[Any], str]:
    """The first importable ``Interpreter`` class and the module it came from."""
    for name in RUNTIME_MODULES:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        cls = getattr(mod, "Interpreter", None)
        if cls is not None:
            return cls, name
    raise ModelError(
        "no TFLite runtime installed: pip install ai-edge-litert (the 'edge' extra), or "
        "tflite-runtime where LiteRT has no wheel (tflite-runtime needs numpy<2)"
    )


def _tensor_info(detail: dict[str, Any]) -> TensorInfo:
    scale, zero_point = detail.get("quantization", (0.0, 0))
    return TensorInfo(
        shape=tuple(int(v) for v in detail["shape"]),
        dtype=np.dtype(detail["dtype"]).name,
        scale=float(scale),
        zero_point=int(zero_point),
    )


class Int8Runner:
    """A loaded interpreter with one int8 input and one int8 output tensor."""

    def __init__(self, blob: bytes, num_threads: int = 1, where: str = "model") -> None:
        cls, self.backend = interpreter_class()
        self._blob = blob  # the interpreter reads from this buffer; keep it alive
        try:
            self._interp = cls(model_content=blob, num_threads=num_threads)
            self._interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{where}: not a loadable TFLite model: {exc}") from None
        ins, outs = self._interp.get_input_details(), self._interp.get_output_details()
        if len(ins) != 1 or len(outs) != 1:
            raise ModelError(f"{where}: expected one input and one output tensor")
        self._in, self._out = ins[0]["index"], outs[0]["index"]
        self.input_info = _tensor_info(ins[0])
        self.output_info = _tensor_info(outs[0])
        for what, info in (("input", self.input_info), ("output", self.output_info)):
            if info.dtype != "int8" or info.scale <= 0:
                raise ModelError(f"{where}: {what} tensor is {info.dtype}, not quantised int8")

    def invoke(self, q: npt.NDArray[np.int8]) -> npt.NDArray[np.int8]:
        """One invocation on an int8 tensor of the input shape."""
        self._interp.set_tensor(self._in, q)
        self._interp.invoke()
        return np.array(self._interp.get_tensor(self._out), np.int8)

    def real(
        self,
        x: npt.NDArray[np.float32],
        input_info: TensorInfo | None = None,
        output_info: TensorInfo | None = None,
    ) -> npt.NDArray[np.float32]:
        """Real values in, real values out: quantise ``x`` to the input tensor, invoke,
        dequantise the output (with the given tensor encodings, by default the model's own)."""
        ins = input_info if input_info is not None else self.input_info
        outs = output_info if output_info is not None else self.output_info
        return dequantize(self.invoke(quantize(x.reshape(ins.shape), ins)), outs)


class ArousalModel:
    """Normalised windows in, arousal logits out (int8 inside)."""

    def __init__(
        self,
        runner: Int8Runner,
        spec: InputSpec,
        input_info: TensorInfo,
        output_info: TensorInfo,
        card: ModelCard | None = None,
    ) -> None:
        self.runner = runner
        self.spec = spec
        self.input_info = input_info
        self.output_info = output_info
        self.card = card

    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        config: FeatureConfig | None = None,
        num_threads: int = 1,
        card_path: str | Path | None = None,
    ) -> ArousalModel:
        """Load a model and its card (``<model>.json``), refusing any mismatch."""
        model_path = Path(path) if path is not None else DEFAULT_MODEL
        try:
            blob = model_path.read_bytes()
        except FileNotFoundError:
            raise ModelError(f"no arousal model: model file not found: {model_path}") from None
        except OSError as exc:
            raise ModelError(f"{model_path}: cannot read: {exc.strerror}") from None
        card = load_card(Path(card_path) if card_path else card_path_for(model_path))
        verify(card, blob, config if config is not None else FeatureConfig(), str(model_path))
        runner = Int8Runner(blob, num_threads, str(model_path))
        for what, got, want in (
            ("input", runner.input_info, card.input),
            ("output", runner.output_info, card.output),
        ):
            if (
                got.shape != want.shape
                or not np.isclose(got.scale, want.scale, rtol=1e-5)
                or (got.zero_point != want.zero_point)
            ):
                raise ModelError(f"{model_path}: {what} tensor {got} does not match the card")
        log.info("loaded %s with %s (%d threads)", model_path, runner.backend, num_threads)
        return cls(runner, card.input_spec, card.input, card.output, card)

    @classmethod
    def from_bytes(cls, blob: bytes, spec: InputSpec, num_threads: int = 1) -> ArousalModel:
        """Wrap a freshly exported model without a card (training and tests only)."""
        runner = Int8Runner(blob, num_threads)
        return cls(runner, spec, runner.input_info, runner.output_info)

    def logit(self, x: npt.NDArray[np.float32]) -> float:
        """Arousal logit for one normalised window of shape ``spec.shape``."""
        if tuple(x.shape) != self.spec.shape:
            raise ValueError(f"window shape {x.shape} != {self.spec.shape}")
        return float(self.runner.real(x, self.input_info, self.output_info).reshape(-1)[0])

    def logits(self, xs: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Logits for a stack of windows (n, hops, channels)."""
        return np.asarray([self.logit(x) for x in xs], np.float32)

    @staticmethod
    def probability(logit: float) -> float:
        """Probability of high arousal."""
        return float(1.0 / (1.0 + np.exp(-logit)))
