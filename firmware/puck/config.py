"""Pins and tunables of the cue puck. Edit to match your board, then copy to the puck.

Defaults fit a Waveshare RP2040-Zero (on-board WS2812 on GP16) and a Raspberry Pi Pico with an
external WS2812 on GP16 (physical pin 21). The haptic motor's transistor stage is driven from
GP15 (Pico physical pin 20), the button from GP14 (physical pin 19) to GND. See hw/wiring.md.
"""

NEOPIXEL_PIN = 16  # WS2812 data (RP2040-Zero: on-board LED; Pico: external, 330 ohm in series)
NEOPIXEL_COUNT = 1  # every pixel of the chain shows the same colour
MOTOR_PIN = 15  # PWM into the base/gate resistor of the motor transistor
MOTOR_PWM_HZ = 20000  # above hearing, fine for an ERM motor behind a transistor
MOTOR_DUTY = 49152  # duty_u16 while buzzing (75 %); lower it for a 3 V motor on 5 V
MAX_BRIGHTNESS = 96  # 0..255: cap of every colour channel (a full-power WS2812 is glaring)

WDT_TIMEOUT_MS = 4000  # hardware watchdog; the RP2040 allows at most 8388 ms
LOOP_PERIOD_MS = 10  # main loop period: pattern resolution and serial latency
MAX_READ_PER_STEP = 128  # bytes read from USB serial per loop step (bounds the step time)
HOST_LOST_MS = 10000  # no line from the host this long: clear the cue, show "host lost"
BUTTON_PIN = 14  # momentary push button from this pin to GND (internal pull-up); None: no button
LONG_PRESS_MS = 2000  # held this long: "a new agent is at this desk" (acknowledged by a blink)
SELFTEST_STEP_MS = 200  # boot self-test: time per colour (R, G, B) and of the buzz
