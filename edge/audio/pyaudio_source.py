"""Live capture from a sound card through PyAudio (PortAudio), as an AudioSource.

The device is chosen by index, by a case-insensitive substring of its name, or the system default.
``channels`` maps device channels to output channels: ``(0, 1)`` gives agent = device channel 0 and
customer = channel 1 (the inline headset adapter's left/right), ``(1, 0)`` swaps them and ``(0,)``
captures the agent only. When the device cannot run at the front-end rate it is opened at its
default rate and resampled (soxr HQ).

Audio arrives in PortAudio's callback thread and is handed over through a bounded queue. When the
consumer falls behind, the callback waits for room, the driver's buffer overruns and PortAudio
reports ``paInputOverflow`` on the next callback: each such report is counted in
:attr:`PyAudioSource.overflows` and logged, and capture goes on. ``t0`` of each block counts
seconds of audio delivered (audio lost to an overflow is not counted).

The ``pyaudio`` module is injected (``pyaudio_module``) so tests can pass a fake.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from edge.audio.resample import StreamResampler, to_int16
from edge.errors import ConfigError, InputError
from edge.protocols import AudioBlock

log = logging.getLogger(__name__)


def _input_devices(pa: Any) -> list[dict[str, Any]]:
    devs = [pa.get_device_info_by_index(i) for i in range(pa.get_device_count())]
    return [d for d in devs if int(d.get("maxInputChannels", 0)) > 0]


def _describe(devs: list[dict[str, Any]]) -> str:
    if not devs:
        return "none"
    return "; ".join(
        f"{d['index']}: {d['name']} ({d['maxInputChannels']} ch, {int(d['defaultSampleRate'])} Hz)"
        for d in devs
    )


def find_input_device(pa: Any, device: str | int | None) -> dict[str, Any]:
    """The PortAudio device-info dict for ``device`` (index, name substring, or None = default)."""
    devs = _input_devices(pa)
    if device is None:
        try:
            return dict(pa.get_default_input_device_info())
        except OSError as exc:
            raise ConfigError(
                f"no default input device ({exc}); available input devices: {_describe(devs)}"
            ) from None
    if isinstance(device, int) or (isinstance(device, str) and device.strip().isdigit()):
        idx = int(device)
        for d in devs:
            if int(d["index"]) == idx:
                return d
        raise ConfigError(
            f"input device {idx} not found; available input devices: {_describe(devs)}"
        )
    want = device.lower()
    exact = [d for d in devs if str(d["name"]).lower() == want]
    matches = exact or [d for d in devs if want in str(d["name"]).lower()]
    if not matches:
        raise ConfigError(
            f"no input device matching {device!r}; available input devices: {_describe(devs)}"
        )
    if len(matches) > 1:
        log.info("%d devices match %r; using %s", len(matches), device, matches[0]["name"])
    return matches[0]


class PyAudioSource:
    """Captures int16 blocks at ``rate`` from a PortAudio input device."""

    def __init__(
        self,
        device: str | int | None = None,
        channels: Sequence[int] = (0, 1),
        rate: int = 16_000,
        block_frames: int = 1_600,
        pyaudio_module: ModuleType | Any | None = None,
        queue_blocks: int = 50,
    ) -> None:
        if not channels:
            raise ConfigError("channel mapping is empty")
        if any(int(c) < 0 for c in channels):
            raise ConfigError(f"channel mapping {tuple(channels)} has a negative channel")
        if block_frames < 1 or rate < 1:
            raise ConfigError("block_frames and rate must be positive")
        if pyaudio_module is None:
            try:
                import pyaudio

                pyaudio_module = pyaudio
            except ImportError:
                raise ConfigError(
                    "live capture needs PyAudio: pip install 'poise[edge]' "
                    "(and apt-get install portaudio19-dev)"
                ) from None
        self._pya: Any = pyaudio_module
        self.channel_map = tuple(int(c) for c in channels)
        self.channels = len(self.channel_map)
        self.sample_rate = int(rate)
        self.block_frames = int(block_frames)
        self.overflows = 0
        self._pa = self._pya.PyAudio()
        try:
            self.device = find_input_device(self._pa, device)
            self.device_channels = max(self.channel_map) + 1
            if self.device_channels > int(self.device["maxInputChannels"]):
                raise ConfigError(
                    f"input device {self.device['name']!r} has {self.device['maxInputChannels']} "
                    f"channel(s); mapping {self.channel_map} needs {self.device_channels}"
                )
            self.device_rate = self._pick_rate()
        except BaseException:
            self._pa.terminate()
            raise
        self._queue: queue.Queue[bytes] = queue.Queue(maxsize=max(queue_blocks, 1))
        self._closed = threading.Event()
        self._stream: Any = None

    def _pick_rate(self) -> int:
        try:
            ok = self._pa.is_format_supported(
                self.sample_rate,
                input_device=int(self.device["index"]),
                input_channels=self.device_channels,
                input_format=self._pya.paInt16,
            )
        except ValueError:
            ok = False
        if ok:
            return self.sample_rate
        fallback = int(self.device["defaultSampleRate"])
        log.info(
            "%s does not support %d Hz; capturing at %d Hz and resampling",
            self.device["name"],
            self.sample_rate,
            fallback,
        )
        return fallback

    def _callback(self, in_data: bytes | None, frames: int, time_info: Any, status: int) -> Any:
        if status & self._pya.paInputOverflow:
            self.overflows += 1
            log.warning("input overflow on %s (%d so far)", self.device["name"], self.overflows)
        if in_data:
            while not self._closed.is_set():
                try:
                    self._queue.put(bytes(in_data), timeout=0.1)
                    break
                except queue.Full:
                    continue
        flag = self._pya.paComplete if self._closed.is_set() else self._pya.paContinue
        return (None, flag)

    def _open(self) -> None:
        dev_block = max(1, round(self.block_frames * self.device_rate / self.sample_rate))
        try:
            self._stream = self._pa.open(
                format=self._pya.paInt16,
                channels=self.device_channels,
                rate=self.device_rate,
                input=True,
                input_device_index=int(self.device["index"]),
                frames_per_buffer=dev_block,
                stream_callback=self._callback,
            )
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot open input device {self.device['name']!r}: {exc}") from None

    def blocks(self) -> Iterator[AudioBlock]:
        """Capture until :meth:`close` is called or the stream stops."""
        if self._stream is None:
            self._open()
        stream = self._stream
        rs = StreamResampler(self.device_rate, self.sample_rate, self.channels)
        cols = list(self.channel_map)
        emitted = 0
        stream.start_stream()
        while not self._closed.is_set():
            active = stream.is_active()
            try:
                raw = self._queue.get_nowait() if not active else self._queue.get(timeout=0.5)
            except queue.Empty:
                if not active:
                    break
                continue
            x = np.frombuffer(raw, "<i2").reshape(-1, self.device_channels)[:, cols]
            if rs.passthrough:
                out = np.ascontiguousarray(x)
            else:
                out = to_int16(rs.process(x.astype(np.float32) / 32768.0))
            if out.shape[0]:
                yield AudioBlock(emitted / self.sample_rate, out, self.sample_rate)
                emitted += out.shape[0]

    def close(self) -> None:
        """Stop capture and release the device (safe to call twice)."""
        if self._closed.is_set():
            return
        self._closed.set()
        if self._stream is not None:
            try:
                self._stream.stop_stream()
                self._stream.close()
            except OSError as exc:
                log.debug("closing stream: %s", exc)
            self._stream = None
        self._pa.terminate()
