"""Does ``poise[edge]`` resolve to wheels on a 64-bit Raspberry Pi?  (``make install-resolve``)

Runs ``pip download --only-binary=:all: --platform ...`` for Linux aarch64 (manylinux2014 and
every glibc level up to Bookworm's 2.36; Trixie has 2.41) on CPython 3.11 (Bookworm) and 3.13
(Trixie), for the runtime requirements of the wheel with the ``edge`` extra (read from
``pyproject.toml``). Each requirement is tried on its own so one that has no wheel does not hide
the others; one without a wheel is reported as "needs compiling" (with the source release pip
would build) or, where the install uses a Debian package instead, as such. Also checks 32-bit
armv7l (Pi OS 32-bit), where ``ai-edge-litert`` has no wheel. Prints a markdown table (it goes
into docs/install.md) and exits 1 if a requirement the install script takes from pip has no
aarch64 wheel.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHONS = ("3.11", "3.13")
AARCH64 = ["manylinux2014_aarch64", *(f"manylinux_2_{v}_aarch64" for v in range(17, 37))]
ARMV7 = ["linux_armv7l", "manylinux2014_armv7l", *(f"manylinux_2_{v}_armv7l" for v in (17, 31, 35))]
#: Taken from Debian / Raspberry Pi OS by hw/install/install.sh instead of pip (the venv sees them
#: through --system-site-packages).
FROM_DEBIAN = {"pyaudio": "python3-pyaudio", "lgpio": "python3-lgpio"}
#: Not pip requirements of the wheel, but needed on the Pi (gpiozero's pin driver): checked too.
ALSO_CHECKED = ("lgpio>=0.2",)


def requirements(machine: str) -> list[str]:
    """Core + ``edge`` requirements whose environment marker holds on ``machine``."""
    from packaging.requirements import Requirement

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    env = {"platform_machine": machine, "sys_platform": "linux", "platform_system": "Linux"}
    out = []
    for text in [*project["dependencies"], *project["optional-dependencies"]["edge"]]:
        req = Requirement(text)
        if req.marker is None or req.marker.evaluate(env):
            req.marker = None
            out.append(str(req))
    return out


def download(
    req: str, python: str, platforms: list[str], dest: Path, deps: bool = False
) -> tuple[bool, str]:
    args = [sys.executable, "-m", "pip", "download", "--only-binary=:all:", "-q"]
    if not deps:
        args.append("--no-deps")
    args += ["--implementation", "cp", "--python-version", python, "-d", str(dest)]
    for plat in platforms:
        args += ["--platform", plat]
    proc = subprocess.run([*args, *req.split("\0")], capture_output=True, text=True, timeout=900)
    if deps and proc.returncode == 0:
        return True, f"{len(list(dest.glob('*.whl')))} wheels"
    if proc.returncode == 0:
        name = re.split(r"[<>=!~; \[]", req, maxsplit=1)[0].lower().replace("-", "_")
        wheels = sorted(p.name for p in dest.glob("*.whl") if p.name.lower().startswith(name))
        return True, wheels[-1] if wheels else "wheel"
    return False, proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"


def sdist(req: str, dest: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary=:all:", "-q",
         "-d", str(dest), req],
        capture_output=True, text=True, timeout=600,
    )
    files = sorted(p.name for p in dest.glob("*.tar.gz"))
    return files[-1] if proc.returncode == 0 and files else "no source release either"


def main() -> int:
    problems = 0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for python in PYTHONS:
            for req in [*requirements("aarch64"), *ALSO_CHECKED]:
                dest = Path(tmp) / f"{python}-{len(rows)}"
                ok, what = download(req, python, AARCH64, dest)
                name = re.split(r"[<>=!~; \[]", req, maxsplit=1)[0].lower()
                if ok:
                    rows.append((f"aarch64 / {python}", req, f"wheel `{what}`"))
                    continue
                src = sdist(req, dest)
                deb = FROM_DEBIAN.get(name)
                if deb:
                    rows.append((f"aarch64 / {python}", req,
                                 f"no wheel: needs compiling (`{src}`); install.sh uses "
                                 f"Debian's `{deb}` instead"))
                else:
                    problems += 1
                    rows.append((f"aarch64 / {python}", req, f"NO WHEEL: needs compiling ({src})"))
        for python in PYTHONS:  # everything pip installs, with every transitive dependency
            reqs = [r for r in requirements("aarch64") if r.split(">")[0] not in FROM_DEBIAN]
            dest = Path(tmp) / f"all-{python}"
            ok, what = download("\0".join(reqs), python, AARCH64, dest, deps=True)
            if not ok:
                problems += 1
            rows.append((f"aarch64 / {python}", "all of the above from pip, with dependencies",
                         what if ok else f"NOT RESOLVED: {what}"))  # fmt: skip
        for python in PYTHONS:
            dest = Path(tmp) / f"armv7-{python}"
            ok, what = download("ai-edge-litert>=1.2", python, ARMV7, dest)
            rows.append((f"armv7l / {python}", "ai-edge-litert>=1.2",
                         f"wheel `{what}`" if ok else "no wheel: 32-bit Pi OS is refused by "
                         "install.sh"))
    print("| platform / Python | requirement | result |")
    print("| --- | --- | --- |")
    for plat, req, res in rows:
        print(f"| {plat} | `{req}` | {res} |")
    print(f"\n{problems} requirement(s) taken from pip without an aarch64 wheel")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
