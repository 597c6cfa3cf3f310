"""Roles and what each may reach: admin (everything), supervisor (sites/teams), agent (own desk)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(enum.StrEnum):
    """What an account is for; access rules are decided by :func:`can_see_desk` and friends."""

    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"


@dataclass(frozen=True)
class Principal:
    """The logged-in account as the API sees it."""

    name: str
    """Account name (login)."""
    role: Role
    """admin, supervisor or agent."""
    sites: frozenset[str] = frozenset()
    """Supervisor: the sites they watch (empty with teams set: any site of those teams)."""
    teams: frozenset[str] = frozenset()
    """Supervisor: the teams they watch (empty with sites set: every team of those sites)."""
    agent: str | None = None
    """Agent: the agent id whose desk and trends are theirs."""


def can_see_desk(who: Principal, site: str, team: str | None, agent: str | None) -> bool:
    """Whether ``who`` may see a desk at ``site`` in ``team`` used by ``agent``."""
    if who.role is Role.ADMIN:
        return True
    if who.role is Role.AGENT:
        return who.agent is not None and agent == who.agent
    if not who.sites and not who.teams:
        return False
    if who.sites and site not in who.sites:
        return False
    return not who.teams or (team is not None and team in who.teams)


def can_see_fleet(who: Principal) -> bool:
    """Device health, versions and seq gaps are for admins (IT)."""
    return who.role is Role.ADMIN
