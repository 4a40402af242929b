"""Which scenario a call gets: the request header, else a queued rule, else the sandbox default.

- ``x-sandbox-scenario: NAME[,NAME...]`` on a request: those scenarios for that request only
  (and ``NOTIFY_FAIL`` there drops the first attempts of the notifications it causes).
- ``POST /sandbox/api/scenario {"scenario": NAME, "calls": [...], "count": N}``: the next N
  matching calls (or notification attempts) get NAME.
- the sandbox default (``--scenario``), for every call it applies to.
A scenario only changes the calls it is about (``Scenario.applies_to``); elsewhere it is
``success``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .config import ApiCall, Scenario

__all__ = ["ScenarioBook", "ScenarioRule", "parse_header"]


@dataclass
class ScenarioRule:
    scenario: Scenario
    calls: frozenset[ApiCall]
    remaining: int

    def as_json(self) -> dict[str, object]:
        return {
            "scenario": self.scenario.value,
            "calls": sorted(call.value for call in self.calls),
            "remaining": self.remaining,
        }


def parse_header(value: str) -> list[Scenario]:
    """Parse a header value; raise ``ValueError`` naming an unknown scenario."""
    found: list[Scenario] = []
    for part in value.split(","):
        if not part.strip():
            continue
        try:
            found.append(Scenario.parse(part))
        except ValueError:
            raise ValueError(f"unknown sandbox scenario {part.strip()[:64]!r}") from None
    return found


class ScenarioBook:
    def __init__(self, default: Scenario) -> None:
        self.default = default
        self.rules: list[ScenarioRule] = []

    def add_rule(
        self, scenario: Scenario, calls: Iterable[ApiCall] | None, count: int
    ) -> ScenarioRule:
        """Queue ``scenario`` for the next ``count`` calls among ``calls``.

        ``calls`` defaults to every call the scenario applies to; naming a call it does not
        apply to is a ``ValueError``.
        """
        if count < 1:
            raise ValueError("count must be at least 1")
        chosen = frozenset(calls) if calls is not None else scenario.applies_to
        if not chosen:
            raise ValueError("calls must name at least one call")
        stray = chosen - scenario.applies_to
        if stray:
            names = ", ".join(sorted(call.value for call in stray))
            raise ValueError(f"{scenario.value} does not apply to: {names}")
        rule = ScenarioRule(scenario, chosen, count)
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def take(self, call: ApiCall) -> Scenario:
        """The scenario for one call (or one notification attempt), consuming a queued rule."""
        for rule in self.rules:
            if call in rule.calls:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self.rules.remove(rule)
                return rule.scenario
        if call in self.default.applies_to:
            return self.default
        return Scenario.SUCCESS

    def for_request(self, call: ApiCall, header: list[Scenario] | None) -> Scenario:
        """The scenario of an API call: the header's (if any applies), else ``take``."""
        if header is not None:
            for scenario in header:
                if scenario is not Scenario.NOTIFY_FAIL and call in scenario.applies_to:
                    return scenario
            return Scenario.SUCCESS
        return self.take(call)
