"""Full-integer int8 post-training quantisation of the Keras network, and the model card.

The exported graph takes one window (batch 1) as int8 and returns the arousal logit as int8; the
quantisation parameters of both go into the card, and :mod:`edge.model.card` applies them on the
device. Only builtin int8 kernels are allowed, so the model runs on any LiteRT build.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)


def to_int8_tflite(
    model: Any,
    representative: npt.NDArray[np.float32],
    max_samples: int = 400,
    seed: int = 0,
    correct_bias: bool = True,
    check_samples: int = 2000,
) -> bytes:
    """Convert ``model`` to a full-integer int8 flatbuffer calibrated on ``representative``.

    With ``correct_bias`` (bias correction of the output layer, as in Nagel et al. 2019,
    "Data-free quantization through weight equalization and bias correction"): the int8 graph's
    mean logit error against the float model over up to ``check_samples`` representative windows
    is subtracted from the output layer's float bias and the model is converted again. Without
    it the int8 logits sit a fit-dependent -0.06 to +0.09 logit off the float ones on average
    (the rounding inside the int8 kernels), which moves sign decisions of scores near 0.
    ``model`` is left as it was."""
    rng = np.random.default_rng(seed)
    n = representative.shape[0]
    pick = rng.choice(n, size=min(max_samples, n), replace=False) if n else np.zeros(0, int)
    blob = _export(model, representative[pick])
    if not correct_bias or n == 0:
        return blob
    check = representative[rng.choice(n, size=min(check_samples, n), replace=False)]
    err = float(np.mean(int8_logits(blob, check) - float_logits(model, check)))
    out = model.layers[-1]
    weights = out.get_weights()
    try:
        out.set_weights([*weights[:-1], weights[-1] - np.float32(err)])
        blob = _export(model, representative[pick])
    finally:
        out.set_weights(weights)
    left = float(np.mean(int8_logits(blob, check) - float_logits(model, check)))
    log.info("int8 bias correction: mean logit error %+.4f -> %+.4f", err, left)
    return blob


def int8_logits(blob: bytes, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Logits of the int8 flatbuffer ``blob`` for windows ``x`` (the device's quantise/invoke/
    dequantise steps)."""
    from edge.model.runtime import Int8Runner

    runner = Int8Runner(blob)
    return np.asarray([runner.real(w) for w in x], np.float32).reshape(-1)


def _export(model: Any, rep_windows: npt.NDArray[np.float32]) -> bytes:
    import tempfile

    import tensorflow as tf

    shape = (1, *model.input_shape[1:])

    def rep() -> Iterator[list[npt.NDArray[np.float32]]]:
        for i in range(rep_windows.shape[0]):
            yield [rep_windows[i : i + 1].astype(np.float32)]

    with tempfile.TemporaryDirectory(prefix="poise-export-") as tmp:
        # A SavedModel with a fixed batch-1 signature freezes the Keras 3 variables cleanly.
        model.export(
            tmp,
            format="tf_saved_model",
            input_signature=[tf.TensorSpec(shape, tf.float32, name="window")],
            verbose=False,
        )
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        return _convert(converter, rep)


def _convert(converter: Any, rep: Any) -> bytes:
    import tensorflow as tf

    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = rep
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return bytes(converter.convert())


def sha256(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def float_logits(
    model: Any, x: npt.NDArray[np.float32], batch: int = 256
) -> npt.NDArray[np.float32]:
    """Float Keras logits for windows ``x`` (n, hops, channels)."""
    if x.shape[0] == 0:
        return np.zeros(0, np.float32)
    return np.asarray(model.predict(x, batch_size=batch, verbose=0), np.float32).reshape(-1)


INTENDED_USE = (
    "Agent-side, on-device estimate of vocal arousal (activation) relative to the agent's own "
    "baseline, used only to give the agent a private, calm cue. Arousal is not emotion: the "
    "model does not say what anyone feels, only how activated their voice sounds."
)
LIMITS = [
    "Trained on acted speech of 22 speakers: German (EmoDB, 10 speakers, studio, ~2.5 s clips) "
    "and North American English (RAVDESS actors 01-12, two short statements); telephone "
    "band-limiting, codec, noise and level augmentation narrow but do not close the gap to "
    "real headsets, real calls and other languages.",
    "Inputs are normalised per speaker (running statistics of the agent's own speech, "
    "edge.model.speaker_norm): a new voice starts from corpus-wide constants and needs minutes "
    "of speech before its scores mean what the evaluation measured; the evaluation normalised "
    "each test speaker over all of their files (as the anchor's speaker-z does).",
    "Cross-corpus figures (train on one corpus, test on the other) are far below the "
    "within-corpus ones: expect the same gap on unseen languages, channels and speaking styles.",
    "Raw scores depend on the voice; use the baseline-relative score (edge.model.baseline).",
    "Not for judging, ranking or monitoring people. EU AI Act Art. 5(1)(f) prohibits "
    "inferring emotions of natural persons in the workplace (outside medical or safety "
    "reasons): the stress signal is shown to the agent only, or switched off by policy, and "
    "is never reported to supervisors.",
    "Customer-side audio must not be scored.",
    "Silent windows (VAD speech below min_speech_fraction) are not scored.",
]
CITATION = (
    "F. Burkhardt, A. Paeschke, M. Rolfes, W. Sendlmeier, B. Weiss: "
    '"A Database of German Emotional Speech", Proc. Interspeech 2005, Lisbon, pp. 1517-1520.'
)
RAVDESS_CITATION = (
    "S. R. Livingstone, F. A. Russo (2018): The Ryerson Audio-Visual Database of Emotional "
    "Speech and Song (RAVDESS), PLoS ONE 13(5): e0196391."
)


def build_card(
    *,
    tflite_name: str,
    blob: bytes,
    input_info: dict[str, Any],
    output_info: dict[str, Any],
    feature_config: dict[str, Any],
    feature_digest: str,
    frontend_source: str,
    input_spec: dict[str, Any],
    training: dict[str, Any],
    evaluation: dict[str, Any],
    fixtures: dict[str, Any],
    invoke_ms: float | None,
) -> dict[str, Any]:
    """The model card document (see :mod:`edge.model.card` for what the device checks)."""
    return {
        "format": "poise-model-card/1",
        "name": "poise-prosody",
        "version": "2",
        "task": "binary vocal arousal (high: anger, happiness, fear; low: boredom, sadness, "
        "neutral), one logit per 1 s window",
        "model": {"file": tflite_name, "sha256": sha256(blob), "size_bytes": len(blob)},
        "input": {"name": "window", **input_info},
        "output": {"name": "arousal_logit", "meaning": "logit of P(high arousal)", **output_info},
        "features": {
            "config": feature_config,
            "digest": feature_digest,
            "frontend_source_sha256": frontend_source,
        },
        "input_spec": input_spec,
        "training": training,
        "evaluation": evaluation,
        "fixtures": fixtures,
        "runtime": {"invoke_ms_median_1_thread": invoke_ms},
        "intended_use": INTENDED_USE,
        "limits": LIMITS,
        "data": [
            {
                "corpus": "Berlin Database of Emotional Speech (EmoDB)",
                "citation": CITATION,
                "speakers": 10,
                "labels": "arousal high = W, F, A; low = L, T, N; disgust (E) left out",
            },
            {
                "corpus": "RAVDESS speech, actors 01-12 (16 kHz working copy)",
                "citation": RAVDESS_CITATION,
                "licence": "CC BY-NC-SA 4.0; these weights are trained on it and inherit its "
                "terms (non-commercial, share-alike, attribution)",
                "speakers": 12,
                "labels": "arousal high = happy, angry, fearful, surprised; low = neutral, "
                "calm, sad; disgust left out",
            },
        ],
        "licence": "CC BY-NC-SA 4.0 (inherited from RAVDESS)",
    }
