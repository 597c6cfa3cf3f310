"""The fleet agent on a running unit: enrollment at first start, then config, models and commands.

:meth:`FleetRuntime.start` enrolls if the unit has no certificate yet (key made here, token from
the bundle), then builds the :class:`FleetAgent`. :meth:`FleetRuntime.attach` registers its
handlers with the telemetry publisher (one MQTT connection carries both; the broker forces the
client id to the certificate name, so a second connection would push the first off).
Commands arrive on the publisher's network thread; what touches the cue or the baseline is
queued and run by :meth:`FleetRuntime.poll` on the audio thread, between blocks.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.errors import ConfigError
from edge.fleet.agent import FleetAgent
from edge.fleet.cmds import CmdHandler
from edge.fleet.config_keeper import ConfigKeeper
from edge.fleet.enroll import (
    EnrollError,
    EnrollmentClient,
    EnrollRefusedError,
    HttpsFetcher,
    HttpsTransport,
    Identity,
    RenewalClient,
    Transport,
)
from edge.fleet.model_update import Fetcher, ModelUpdater
from edge.fleet.selftest import run_self_test
from edge.fleet.signing import SignatureError, load_public_keys
from edge.settings.loader import from_mapping
from edge.telemetry.envelope import WallClock
from edge.telemetry.topics import DeviceTopics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Identify:
    seconds: float


class _Recalibrate:
    pass


@dataclass(frozen=True)
class _SignIn:
    agent: str | None


def run_actions(
    actions: QueuedActions,
    now: float,
    identify_until: float | None,
    emit: Callable[[Any], None],
    reset_baseline: Callable[[], None],
    sign_in: Callable[[str | None], None] | None,
) -> float | None:
    """On the audio thread: run the queued commands; return when the identify blink ends."""
    from edge.device.cue_sink import IdentifyCue

    while True:
        try:
            act = actions.q.get_nowait()
        except queue.Empty:
            break
        if isinstance(act, _Identify):
            emit(IdentifyCue(True))
            identify_until = now + act.seconds
        elif isinstance(act, _SignIn):
            if sign_in is not None:
                sign_in(act.agent)
                log.info("agent %s", "signed in" if act.agent else "signed out")
        else:
            reset_baseline()
            log.info("baseline reset by a recalibrate command")
    if identify_until is not None and now >= identify_until:
        emit(IdentifyCue(False))
        identify_until = None
    return identify_until


class QueuedActions:
    """The :class:`~edge.fleet.cmds.Blinker` and recalibrate callback given to the cmd handler:
    both only queue; :meth:`FleetRuntime.poll` acts."""

    def __init__(self) -> None:
        self.q: queue.SimpleQueue[object] = queue.SimpleQueue()

    def identify(self, seconds: float) -> None:
        self.q.put(_Identify(seconds))

    def recalibrate(self) -> None:
        self.q.put(_Recalibrate())

    def sign_in(self, agent: str | None) -> None:
        self.q.put(_SignIn(agent))


class LocalControl:
    """``cmd`` handling for a unit without a fleet (a development broker): identify,
    recalibrate, sign-in and sign-out, with the same handler and queue as the fleet's."""

    def __init__(self, wall_clock: WallClock, max_age_s: float = 600.0) -> None:
        self.actions = QueuedActions()
        self.cmds = CmdHandler(
            self.actions,
            self.actions.recalibrate,
            wall_clock,
            max_age_s,
            sign_in=self.actions.sign_in,
        )
        self._identify_until: float | None = None

    def attach(self, publisher: Any) -> None:
        publisher.add_handler("cmd", lambda m: self.cmds.handle(m.payload))

    def poll(
        self,
        now: float,
        emit: Callable[[Any], None],
        reset_baseline: Callable[[], None],
        sign_in: Callable[[str | None], None] | None = None,
    ) -> None:
        self._identify_until = run_actions(
            self.actions, now, self._identify_until, emit, reset_baseline, sign_in
        )


class FleetRuntime:
    """Everything fleet-related on one unit."""

    def __init__(
        self,
        agent: FleetAgent,
        actions: QueuedActions,
        identity: Identity,
        renewal: RenewalClient | None = None,
        device: str = "",
    ) -> None:
        self.agent = agent
        self.actions = actions
        self.identity = identity
        self.renewal = renewal
        self.device = device
        self._identify_until: float | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.pending_enrollment: Callable[[], object] | None = None
        """A first enrollment still to do (the fleet was unreachable at start)."""
        self.live: queue.SimpleQueue[Any] = queue.SimpleQueue()
        """New settings whose live part :meth:`poll` swaps into the running loop."""

    @classmethod
    def start(
        cls,
        settings: Any,
        wall_clock: WallClock,
        transport: Transport | None = None,
        fetcher: Fetcher | None = None,
    ) -> FleetRuntime:
        """Enroll if needed and build the agent from ``settings`` (a ``DeviceSettings``)."""
        fs, ts = settings.fleet, settings.telemetry
        if not ts.broker or not ts.ca_file or not ts.cert_file:
            raise ConfigError(
                "fleet.enabled needs telemetry.broker, telemetry.ca_file, cert_file and key_file"
            )
        state = Path(fs.state_dir)
        state.mkdir(parents=True, exist_ok=True)
        identity = Identity(Path(ts.key_file), Path(ts.cert_file), Path(ts.ca_file))
        device = ts.device_id()
        tr = transport or HttpsTransport(fs.enroll_url, identity.ca)
        pending: Callable[[], object] | None = None
        if not identity.enrolled:
            client = EnrollmentClient(identity, tr)
            token = Path(fs.token_file)
            try:
                client.enroll(device, token)
            except EnrollRefusedError:
                raise  # IT must act (new bundle): one clear line, exit 2
            except EnrollError as exc:
                log.warning("cannot enroll yet (%s): running locally, retrying", exc)
                pending = functools.partial(client.enroll, device, token)
        try:
            trusted = load_public_keys(Path(fs.signing_keys).read_bytes())
        except (OSError, SignatureError) as exc:
            raise ConfigError(f"fleet.signing_keys {fs.signing_keys}: {exc}") from None
        topics = DeviceTopics(ts.site, device)
        local = settings

        def validate(remote: dict[str, Any]) -> object:
            from edge.fleet.config_keeper import deep_merge
            from edge.settings import DeviceSettings
            from edge.settings.loader import to_mapping

            return from_mapping(DeviceSettings, deep_merge(to_mapping(local), remote))

        keeper = ConfigKeeper(state / "config.json", trusted, ts.site, device, wall_clock, validate)
        models = ModelUpdater(
            state / "models",
            trusted,
            settings.features.digest(),
            fetcher or HttpsFetcher(fs.enroll_url, identity.ca),
            lambda m, c, e: run_self_test(m, c, e, settings.features),
            wall_clock,
        )
        actions = QueuedActions()
        cmds = CmdHandler(
            actions, actions.recalibrate, wall_clock, fs.cmd_max_age_s, sign_in=actions.sign_in
        )
        live: queue.SimpleQueue[Any] = queue.SimpleQueue()

        def apply_live(remote: dict[str, Any], keys: tuple[str, ...]) -> None:
            live.put(validate(remote))  # built (and checked) here, swapped in by poll()

        agent = FleetAgent(topics, keeper, cmds, models, apply_live=apply_live)
        renewal = RenewalClient(identity, tr, wall_clock)
        if identity.enrolled:
            renewal.finish()
        rt = cls(agent, actions, identity, renewal, device)
        rt.live = live
        rt.pending_enrollment = pending
        return rt

    def effective_settings(self, settings: Any) -> Any:
        """``settings`` with the fleet's last good config laid over them (at start)."""
        if not self.agent.config.settings:
            return settings
        from edge.fleet.config_keeper import deep_merge
        from edge.settings import DeviceSettings
        from edge.settings.loader import to_mapping

        return from_mapping(
            DeviceSettings, deep_merge(to_mapping(settings), self.agent.config.settings)
        )

    def start_renewals(self, every_s: float = 12 * 3600.0, retry_s: float = 30.0) -> None:
        """On a thread of its own: finish a first enrollment that could not reach the fleet
        (retrying from ``retry_s``, doubling up to 10 minutes; the publisher connects once the
        certificate is there), then check the certificate every ``every_s`` and renew it within
        30 days of its end (the publisher's next connection uses the new one)."""

        def loop() -> None:
            delay = retry_s
            while True:
                wait = every_s
                try:
                    if not self.identity.enrolled and self.pending_enrollment is not None:
                        self.pending_enrollment()
                    if self.identity.enrolled and self.renewal is not None:
                        self.renewal.renew(self.device)
                    delay = retry_s
                except EnrollRefusedError as exc:
                    log.error("the fleet refused this unit: %s", exc)
                except Exception as exc:  # offline: try again later
                    log.warning("fleet enrollment/renewal failed: %s", exc)
                    wait, delay = delay, min(delay * 2, 600.0)
                if self._stop.wait(wait):
                    return

        self._renewer = threading.Thread(target=loop, name="poise-cert-renewal", daemon=True)
        self._renewer.start()

    def model_path(self) -> Path | None:
        """The fleet-installed model to run (None: the configured one)."""
        return self.agent.models.current_model() if self.agent.models is not None else None

    def attach(self, publisher: Any) -> None:
        """Route the publisher's ``config`` and ``cmd`` messages to the agent, and re-publish the
        retained ``status`` when a new config version is in force."""
        publisher.add_handler("config", lambda m: self.agent.on_message(m.topic, m.payload))
        publisher.add_handler("cmd", lambda m: self.agent.on_message(m.topic, m.payload))
        before = self.agent.changed

        def changed() -> None:
            if before is not None:
                before()
            version = self.agent.config.version or None
            if publisher.birth.config_version != version:
                publisher.update_birth(config_version=version)

        self.agent.changed = changed
        self.agent.start()

    def poll(
        self,
        now: float,
        emit: Callable[[Any], None],
        reset_baseline: Callable[[], None],
        pipeline: Any = None,
        cue_sink: Any = None,
        sign_in: Callable[[str | None], None] | None = None,
    ) -> None:
        """On the audio thread: run queued identify/recalibrate, end an identify blink, swap in
        live settings. ``emit`` hands an :class:`~edge.device.cue_sink.IdentifyCue` to the cue
        sink (whose thread owns the LED/puck); ``pipeline`` gets the new budget and detector
        hysteresis, ``cue_sink`` (the inner :class:`CueSink`) the new cue styles; ``sign_in``
        gets the agent of a ``sign_in``/``sign_out`` command."""
        while True:
            try:
                new = self.live.get_nowait()
            except queue.Empty:
                break
            if pipeline is not None:
                pipeline.arbiter.budget = new.budget
                pipeline.arbiter.detectors = new.detectors
                for name, drift in pipeline.drifts.items():
                    drift.settings = new.detectors.get(name)
            if cue_sink is not None:
                cue_sink.styles = new.cues.styles  # one reference swap; read by the sink thread
            log.info("fleet config applied to the running loop")
        self._identify_until = run_actions(
            self.actions, now, self._identify_until, emit, reset_baseline, sign_in
        )

    def close(self) -> None:
        self._stop.set()
        self.agent.close()
