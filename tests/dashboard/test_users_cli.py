"""``poise users``: add, list, passwd, remove; bad input is one error line, exit 2."""

from __future__ import annotations

import io
import time

import pytest

from broker.accounts.store import AccountStore
from edge.cli import main


def _run(monkeypatch, capsys, argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_users_lifecycle(tmp_path, monkeypatch, capsys) -> None:
    db = str(tmp_path / "acc.db")
    rc, out, _ = _run(
        monkeypatch,
        capsys,
        [
            "users",
            "--db",
            db,
            "add",
            "sue",
            "--role",
            "supervisor",
            "--teams",
            "north,south",
            "--password-stdin",
        ],
        "a long password\n",
    )
    assert rc == 0 and "added sue" in out
    _run(
        monkeypatch,
        capsys,
        [
            "users",
            "--db",
            db,
            "add",
            "ann",
            "--role",
            "agent",
            "--agent",
            "ann",
            "--password-stdin",
        ],
        "another password\n",
    )
    rc, out, _ = _run(monkeypatch, capsys, ["users", "--db", db, "list"])
    assert "sue" in out and "north,south" in out and "ann" in out
    store = AccountStore(db, time.time)
    assert store.check("sue", "a long password") is not None
    hashed = store._db.execute("SELECT hash FROM users WHERE name='sue'").fetchone()[0]
    assert hashed.startswith("$argon2id$") and "a long password" not in hashed
    store.close()
    rc, _, _ = _run(
        monkeypatch,
        capsys,
        ["users", "--db", db, "passwd", "sue", "--password-stdin"],
        "changed password\n",
    )
    assert rc == 0
    store = AccountStore(db, time.time)
    assert store.check("sue", "a long password") is None
    assert store.check("sue", "changed password") is not None
    store.close()
    rc, out, _ = _run(monkeypatch, capsys, ["users", "--db", db, "remove", "ann"])
    assert rc == 0
    rc, out, _ = _run(monkeypatch, capsys, ["users", "--db", db, "list"])
    assert "ann" not in out


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["add", "x", "--role", "admin", "--password-stdin"], "short\n", "at least 10"),
        (["add", "Bad Name", "--role", "admin", "--password-stdin"], "long enough pw\n", "name"),
        (["add", "sup", "--role", "supervisor", "--password-stdin"], "long enough pw\n", "--sites"),
        (["add", "ag", "--role", "agent", "--password-stdin"], "long enough pw\n", "--agent"),
        (
            ["add", "s2", "--role", "supervisor", "--sites", "a/b", "--password-stdin"],
            "long enough pw\n",
            "site id",
        ),
        (["passwd", "ghost", "--password-stdin"], "long enough pw\n", "no account"),
        (["remove", "ghost"], "", "no account"),
    ],
)
def test_bad_input_is_one_error_line(tmp_path, monkeypatch, capsys, args, stdin, message) -> None:
    rc, _, err = _run(monkeypatch, capsys, ["users", "--db", str(tmp_path / "a.db"), *args], stdin)
    assert rc == 2
    assert err.startswith("poise: error:") and message in err and err.count("\n") == 1


def test_duplicate_account_refused(tmp_path, monkeypatch, capsys) -> None:
    db = str(tmp_path / "a.db")
    argv = ["users", "--db", db, "add", "root", "--role", "admin", "--password-stdin"]
    assert _run(monkeypatch, capsys, argv, "long enough pw\n")[0] == 0
    rc, _, err = _run(monkeypatch, capsys, argv, "long enough pw\n")
    assert rc == 2 and "already exists" in err
