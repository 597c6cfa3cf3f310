"""Bulk import of desks (``poise fleet import``): 500 rows into a fresh fleet, timed.

Run: ``python -m bench.fleet_import [--rows 500]``. Measures the whole command path a user runs:
CSV parse and checks, 500 one-time tokens, one registry transaction, ACL regeneration.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.results import write_results


def run(rows: int) -> dict[str, float]:
    from broker.fleet.csv_import import read_desks
    from broker.fleet.fleet import Fleet
    from broker.fleet.layout import FleetDir
    from broker.fleet.settings import FleetSettings

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        fleet = Fleet.init(FleetDir(root / "fleet"), FleetSettings(), reloader=lambda: None)
        t_init = time.perf_counter() - t0
        csv = root / "desks.csv"
        csv.write_text(
            "device,site,desk\n"
            + "".join(f"desk-{i:04d},site-{i % 7},D{i:04d}\n" for i in range(rows))
        )
        t0 = time.perf_counter()
        added = fleet.add_many(read_desks(csv))
        t_import = time.perf_counter() - t0
        t0 = time.perf_counter()
        listed = fleet.registry.devices()
        t_list = time.perf_counter() - t0
        acl_lines = len(fleet.dir.acl.read_text().splitlines())
        fleet.close()
    assert len(added) == rows == len(listed)
    return {
        "rows": rows,
        "init_s": t_init,
        "import_s": t_import,
        "list_s": t_list,
        "acl_lines": acl_lines,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=500)
    args = ap.parse_args()
    r = run(args.rows)
    print(f"{'step':<28} {'value':>10}")
    print(f"{'fleet init (CA, keys)':<28} {r['init_s']:>9.3f}s")
    print(f"{'import ' + str(r['rows']) + ' desks':<28} {r['import_s']:>9.3f}s")
    print(f"{'list inventory':<28} {r['list_s']:>9.3f}s")
    print(f"{'ACL lines generated':<28} {r['acl_lines']:>10d}")
    write_results("fleet_import", r)


if __name__ == "__main__":
    main()
