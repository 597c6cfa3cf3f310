"""``poise edge forget AGENT`` and ``poise edge agents``: the device's per-agent baselines.

Registered on the ``edge`` parser by :func:`register_actions`. Baselines are derived from speech
and stay on the device (``baseline.agents_dir``, default ``agents/`` beside
``baseline.state_file``); forgetting one deletes that agent's file, so their next call calibrates
from nothing.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

log = logging.getLogger(__name__)


def register_actions(esub: Any, common: Any) -> None:
    """Add the per-agent actions to the ``edge`` subparsers ``esub`` (``common`` adds
    ``--config``/``--set``)."""
    fg = esub.add_parser("forget", help="delete one agent's baseline from this device")
    common(fg)
    fg.add_argument("agent", metavar="AGENT", help="agent id (as signed in, or voice-N)")
    fg.set_defaults(func=_forget)
    ls = esub.add_parser("agents", help="list the agents whose baselines this device keeps")
    common(ls)
    ls.set_defaults(func=_agents)


def per_agent_pipeline(settings: Any, model: Any) -> tuple[Any, Any]:
    """The device pipeline with per-agent baselines (``baseline.agent`` signs in at start; else
    the voice decides at each call) and what the runner saves through. Call it while holding the
    desk's state-file lock (it removes what a killed run's saves left)."""
    from edge.device.agent_store import AgentStore
    from edge.device.agents import AgentSaver, AgentSession
    from edge.device.pipeline import Pipeline

    directory = settings.baseline.agents_path
    store = AgentStore(directory, settings.baseline)
    store.clean_stale_temps()
    session = AgentSession(store, agent_id=settings.baseline.agent or None)
    pipeline = Pipeline(settings, None, model, agents=session)
    return pipeline, AgentSaver(pipeline.save_agent, directory)


def _store(args: argparse.Namespace) -> Any:
    from edge.device.agent_store import AgentStore
    from edge.settings import load_settings

    settings = load_settings(args.config, args.overrides)
    return AgentStore(settings.baseline.agents_path, settings.baseline)


def _forget(args: argparse.Namespace) -> int:
    from edge.device.agent_store import check_agent_id

    agent = check_agent_id(args.agent)
    store = _store(args)
    removed = store.forget(agent)
    if not removed:
        print(f"no baseline for agent {agent} in {store.directory}")
        return 1
    print(
        f"forgot agent {agent} ({store.path_for(agent)}); a running loop still holds it in "
        "memory until the agent signs out or the loop restarts"
    )
    return 0


def _agents(args: argparse.Namespace) -> int:
    store = _store(args)
    for agent in store.agents():
        print(agent)
    return 0
