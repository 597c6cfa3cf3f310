"""Build the Poise wheel from the files git knows (tracked, or new and not ignored), outside the
checkout, so nothing in the working tree (build/, *.egg-info, caches, local data) leaks in or is
left behind. ``--requirements`` instead prints poise[edge]'s requirements for this machine.

    python hw/install/build_wheel.py dist/          # -> dist/poise-<version>-py3-none-any.whl
    python hw/install/build_wheel.py --requirements # one requirement per line
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from resolve_wheels import requirements  # noqa: E402


def source_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode()
    return [f for f in out.split("\0") if f and (REPO / f).is_file()]


def build(dest: Path) -> Path:
    dest = dest.resolve()
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        for rel in source_files():
            if rel.startswith(("tests/", "bench/", "firmware/", "scripts/")):
                continue
            target = src / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, target)
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
             "-w", str(dest), str(src)],
            check=True,
        )
    wheels = sorted(dest.glob("poise-*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        raise SystemExit("no wheel was built")
    print(wheels[-1])
    return wheels[-1]


if __name__ == "__main__":
    if sys.argv[1:] == ["--requirements"]:
        print("\n".join(requirements(platform.machine())))
    else:
        build(Path(sys.argv[1] if len(sys.argv) > 1 else "dist"))
