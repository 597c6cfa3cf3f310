"""Fake `neopixel` module: keeps the pixel buffer like the real driver and records each
write() (runs inside MicroPython, not CPython)."""

import fakerec


class NeoPixel:
    ORDER = (1, 0, 2, 3)

    def __init__(self, pin, n, bpp=3, timing=1):
        self.pin = pin
        self.n = n
        self.bpp = bpp
        self.buf = bytearray(n * bpp)
        fakerec.record("neopixel_new", pin=pin.id, n=n)

    def __len__(self):
        return self.n

    def __setitem__(self, i, v):
        offset = i * self.bpp
        for k in range(self.bpp):
            self.buf[offset + self.ORDER[k]] = v[k]

    def __getitem__(self, i):
        offset = i * self.bpp
        return tuple(self.buf[offset + self.ORDER[k]] for k in range(self.bpp))

    def fill(self, v):
        for i in range(self.n):
            self[i] = v

    def write(self):
        if fakerec.neopixel_fails:
            raise OSError(5)
        fakerec.record("px", rgb=list(self[0]), pin=self.pin.id)
