"""Namespaces: isolated tasks, journal, faults, latency and clock on one server (header X-Mock-Namespace)."""

from __future__ import annotations

import random
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator

from mockserver.behaviour.clock import Clock, SystemClock, VirtualClock
from mockserver.behaviour.faults import FaultPlan, FaultRule
from mockserver.behaviour.latency import LatencyModel, parse_latency
from mockserver.behaviour.ratelimit import RateLimiter, parse_rate_limit
from mockserver.config.settings import Config
from mockserver.sim.journal import Journal
from mockserver.sim.tasks import TaskStore

DEFAULT = "default"
HEADER = "x-mock-namespace"
_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


class NamespaceError(ValueError):
    pass


def check_name(name: str) -> str:
    if _NAME.fullmatch(name) is None:
        raise NamespaceError(f"namespace={name!r} must be 1-64 characters from A-Z a-z 0-9 . _ -")
    return name


class Namespace:
    """One tenant's state. Faults and latency follow the server config unless set for this namespace."""

    def __init__(self, name: str, config: Config, clock: Clock) -> None:
        self.name = name
        self.clock = clock
        self.journal = Journal(config.journal_entries, config.journal_bytes)
        self.tasks = TaskStore(clock, config.ttl, max_tasks=config.max_tasks, max_bytes=config.task_bytes)
        self.fault_override: tuple[FaultRule, ...] | None = None
        self.latency_override: str | None = None
        self.last_job_at: float | None = None
        self.seed = config.seed
        self.apply(config)

    def apply(self, config: Config) -> None:
        """Take a new server config; this namespace's own overrides stay."""
        self.config = config
        # The same stores stay (handles hold them); only their settings change.
        self.tasks.ttl = config.ttl
        self.tasks.max_tasks, self.tasks.max_bytes = config.max_tasks, config.task_bytes
        self.journal.max_entries, self.journal.max_bytes = config.journal_entries, config.journal_bytes
        self.limiter = RateLimiter(parse_rate_limit(config.rate_limit)) if config.rate_limit else None
        self._rebuild()

    def set_faults(self, rules: tuple[FaultRule, ...] | None) -> None:
        """This namespace's own fault rules, or None to follow the server's."""
        self.fault_override = rules
        self._rebuild()

    def set_latency(self, spec: str | None) -> None:
        self.latency_override = spec
        self._rebuild()

    def reseed(self, seed: int) -> None:
        self.seed = seed
        self._rebuild()

    def reset(self, scope: str) -> None:
        """scope: 'journal', 'tasks' or 'all' (also restarts the seeded sequence and fault schedules)."""
        if scope in ("journal", "all"):
            self.journal.clear()
        if scope in ("tasks", "all"):
            self.tasks.clear()
        if scope == "all":
            self.last_job_at = None
            if self.limiter is not None:
                self.limiter.clear()
            self._rebuild()

    @property
    def fault_rules(self) -> tuple[FaultRule, ...]:
        return self.config.fault_rules if self.fault_override is None else self.fault_override

    @property
    def fault_specs(self) -> tuple[str, ...]:
        """The rules in force, as their normalised specs (what the admin API shows)."""
        return tuple(rule.spec for rule in self.fault_rules)

    @property
    def latency_spec(self) -> str:
        return self.config.latency if self.latency_override is None else self.latency_override

    def _rebuild(self) -> None:
        # The default namespace keeps the plain seed, so ids match a server without namespaces.
        self.rng = random.Random(self.seed if self.name == DEFAULT else f"{self.seed}:{self.name}")
        self.faults = FaultPlan(self.fault_rules, self.rng)
        self.latency: LatencyModel = parse_latency(self.latency_spec)


class Namespaces:
    """Namespaces by name, created on first use, at most `config.max_namespaces` of them.

    Beyond the bound the least recently used namespace is forgotten (never `default`), as a cache would.
    """

    def __init__(self, config: Config, clock: Clock | None) -> None:
        self.config = config
        self._shared_clock = clock
        if clock is None and config.clock == "system":
            self._shared_clock = SystemClock(config.time_scale)
        self._spaces: OrderedDict[str, Namespace] = OrderedDict()
        # Test threads read namespaces while a live server's loop creates them.
        self._lock = threading.Lock()
        self.evicted = 0
        self.get(DEFAULT)

    def get(self, name: str = DEFAULT) -> Namespace:
        """The namespace called `name`, created if new; NamespaceError if the name is not allowed."""
        with self._lock:
            space = self._spaces.get(name)
            if space is not None:
                self._spaces.move_to_end(name)
                return space
            # A virtual clock per namespace lets parallel tests move time without touching each other.
            clock = self._shared_clock or VirtualClock()
            space = self._spaces[check_name(name)] = Namespace(name, self.config, clock)
            while len(self._spaces) > self.config.max_namespaces:
                oldest = next(name for name in self._spaces if name != DEFAULT)
                del self._spaces[oldest]
                self.evicted += 1
            return space

    def find(self, name: str) -> Namespace | None:
        """The namespace if it exists; never creates one."""
        with self._lock:
            return self._spaces.get(name)

    def apply(self, config: Config) -> None:
        self.config = config
        for space in self:
            space.apply(config)

    def __iter__(self) -> Iterator[Namespace]:
        with self._lock:
            return iter(list(self._spaces.values()))

    def __len__(self) -> int:
        return len(self._spaces)
