"""Cue puck entry point: MicroPython runs this at power-up (copied to the board as :main.py).

Wires the real ticks, USB serial (sys.stdin.buffer polled with select.poll) and stdout into
puck.app.run(); pins and tunables are in puck/config.py.
"""

import select
import sys
import time

import micropython
from puck import config
from puck.app import Ports, run


def main() -> None:
    poller = select.poll()
    poller.register(sys.stdin, select.POLLIN)
    ports = Ports(time.ticks_ms, time.ticks_diff, time.sleep_ms, poller, sys.stdin.buffer,
                  sys.stdout.write, micropython.kbd_intr)
    run(ports, config)


main()
