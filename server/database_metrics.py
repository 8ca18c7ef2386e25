"""A repository wrapper that counts database failures for /metrics, then lets them go on.

Wrapping the repository once counts every failure, wherever it is called from (request handlers,
the periodic catalogue refresh, readiness), without touching either implementation.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from assets.repository import ConstraintViolation, Repository, RepositoryError, RepositoryUnavailable
from server.metrics import Metrics


class CountedRepository:
    """Delegates to `inner`; a RepositoryError from an async method is counted by method and kind.

    A ConstraintViolation is not a failure of the database (it is how a deleted exercise surfaces)
    and is not counted.
    """

    def __init__(self, inner: Repository, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute

        @functools.wraps(attribute)
        async def counted(*args: Any, **kwargs: Any) -> Any:
            try:
                return await attribute(*args, **kwargs)
            except ConstraintViolation:
                raise
            except RepositoryUnavailable:
                self._metrics.database_error(name, "unavailable")
                raise
            except RepositoryError:
                self._metrics.database_error(name, "error")
                raise

        return counted
