"""Dashboard settings: one frozen dataclass, the ``[dashboard]`` table of ``collector.toml``
(read by ``edge.settings.loader.from_mapping`` with the collector's settings; unknown keys fail)."""

from __future__ import annotations

from dataclasses import dataclass

from broker.dashboard.viewer_policy import PROFILES
from edge.errors import ConfigError


@dataclass(frozen=True)
class DashboardSettings:
    """How the dashboard serves, whom it lets in and what it shows."""

    enabled: bool = True
    """Serve the dashboard on the collector's ``http.listen`` address."""
    policy_profile: str = "default"
    """Policy profile (``default``, ``eu``, ``private``; the device's, edge.policy): what
    supervisors may see."""
    min_aggregate_agents: int | None = None
    """``eu``/``private``: team figures only over at least this many agents (None: the
    profile's ``min_team_aggregate``, 5)."""
    accounts_db: str = "accounts.db"
    """SQLite file with the accounts and sessions (``poise users`` manages it)."""
    desks_file: str | None = None
    """TOML desk directory: ``[desks.<device>]`` with ``name``, ``team`` (and ``agent``)."""
    cookie_secure: bool = True
    """Send the session cookie with ``Secure`` (browsers treat http://127.0.0.1 as secure)."""
    session_idle_s: float = 1800.0
    """A session ends after this many seconds without a request."""
    session_absolute_s: float = 12 * 3600.0
    """A session ends this many seconds after login whatever happens."""
    login_failures_per_account: int = 5
    """Failed logins per account name in ``login_window_s`` before it is locked out."""
    login_failures_per_address: int = 20
    """Failed logins per client address in ``login_window_s`` before it is locked out."""
    login_window_s: float = 900.0
    """Sliding window for the login failure counts (seconds)."""
    stale_after_s: float = 180.0
    """A device heard from longer ago than this shows offline (3 health periods)."""
    offline_alert_min: float = 10.0
    """Alert when a device has been offline longer than this many minutes."""
    stress_alert_cues: int = 3
    """Stress cues within ``stress_alert_window_min`` that raise an "offer a break" note."""
    stress_alert_window_min: float = 30.0
    """Window (minutes) for the stress alert."""
    history_s: float = 12 * 3600.0
    """Default span of the desk charts (a shift); the page can ask for weeks."""
    sse_batch_s: float = 0.05
    """After a change, wait this long so a burst of payloads goes out as one stream event."""
    sse_heartbeat_s: float = 15.0
    """Seconds between keep-alive comments on a quiet live stream (which then also re-checks
    which desks went silent)."""

    def __post_init__(self) -> None:
        if self.policy_profile not in PROFILES:
            raise ConfigError(
                f"dashboard.policy_profile {self.policy_profile!r}: known {', '.join(PROFILES)}"
            )
        if self.min_aggregate_agents is not None and self.min_aggregate_agents < 1:
            raise ConfigError("dashboard.min_aggregate_agents must be >= 1")
