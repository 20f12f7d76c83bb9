"""One flow runner per platform, found from the platform or from a connection's engine (the
hooks a write calls see only the write unit)."""

from __future__ import annotations

import threading
import weakref

import sqlalchemy as sa

from engine import Platform
from flow_engine.runtime import Clock, Runner

_runners: weakref.WeakKeyDictionary[sa.Engine, Runner] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def runner_of(platform: Platform, clock: Clock | None = None) -> Runner:
    """The platform's runner (made on first use); ``clock`` replaces its clock (tests)."""
    with _lock:
        runner = _runners.get(platform.db)
        if runner is None or runner.platform is not platform:
            runner = _runners[platform.db] = Runner(platform)
    if clock is not None:
        runner.clock = clock
    return runner


def runner_for(engine: sa.Engine) -> Runner | None:
    return _runners.get(engine)
