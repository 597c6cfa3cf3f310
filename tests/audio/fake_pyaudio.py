"""A stand-in for the ``pyaudio`` module: scripted callbacks instead of a sound card."""

from __future__ import annotations

from typing import Any, ClassVar

paInt16 = 8
paContinue = 0
paComplete = 1
paInputOverflow = 2


class FakeStream:
    def __init__(self, owner: FakePyAudio, callback: Any, kwargs: dict[str, Any]) -> None:
        self.owner = owner
        self.callback = callback
        self.kwargs = kwargs
        self.active = False
        self.closed = False

    def start_stream(self) -> None:
        self.active = True
        for data, status in self.owner.script:  # deliver the whole script synchronously
            frames = len(data) // (2 * self.kwargs["channels"])
            _, flag = self.callback(data, frames, {}, status)
            if flag != paContinue:
                break
        self.active = False

    def is_active(self) -> bool:
        return self.active

    def stop_stream(self) -> None:
        self.active = False

    def close(self) -> None:
        self.closed = True


class FakePyAudio:
    """Configure the class attributes before the code under test instantiates it."""

    devices: ClassVar[list[dict[str, Any]]] = []
    supported_rates: ClassVar[dict[int, set[int]]] = {}
    script: ClassVar[list[tuple[bytes, int]]] = []
    default_index: ClassVar[int | None] = None
    instances: ClassVar[list[FakePyAudio]] = []

    def __init__(self) -> None:
        self.streams: list[FakeStream] = []
        self.terminated = False
        FakePyAudio.instances.append(self)

    def get_device_count(self) -> int:
        return len(self.devices)

    def get_device_info_by_index(self, i: int) -> dict[str, Any]:
        return dict(self.devices[i])

    def get_default_input_device_info(self) -> dict[str, Any]:
        if self.default_index is None:
            raise OSError("No Default Input Device Available")
        return dict(self.devices[self.default_index])

    def is_format_supported(self, rate: int, **kw: Any) -> bool:
        if rate not in self.supported_rates.get(kw["input_device"], set()):
            raise ValueError("Invalid sample rate")
        return True

    def open(self, **kw: Any) -> FakeStream:
        s = FakeStream(self, kw.pop("stream_callback"), kw)
        self.streams.append(s)
        return s

    def terminate(self) -> None:
        self.terminated = True


PyAudio = FakePyAudio


def device(index: int, name: str, inputs: int, rate: float = 48000.0) -> dict[str, Any]:
    return {
        "index": index,
        "name": name,
        "maxInputChannels": inputs,
        "maxOutputChannels": 2,
        "defaultSampleRate": rate,
    }
