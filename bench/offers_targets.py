"""Offer benchmark, the issue's targets and whether a run met them."""

from __future__ import annotations

import argparse
from typing import Any

# The targets (2 cores): offer latency at 1,000 agents and 50 contacts/s; RONA lateness
# with 1,000 pending offers; server RSS with 2,000 idle authenticated subscriptions.
TARGETS = {
    "offer_latency_p50_ms": 10.0,
    "offer_latency_p99_ms": 40.0,
    "rona_lateness_p99_ms": 250.0,
    "idle_rss_mb": 300.0,
}
TARGET_LOAD = {"agents": 1000, "rate": 50.0, "pending": 1000, "idle_subscriptions": 2000}


def targets(report: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Each target with the measured figure and whether it was met; whether the run was sized at
    least as the target says (a smaller run's verdict is only indicative) and whether the phase
    completed (a latency phase that overloaded the server meets nothing). A phase left out gives
    None."""

    def verdict(
        name: str, measured: float | None, sized: bool, completed: bool = True
    ) -> dict[str, Any]:
        return {
            "target": TARGETS[name],
            "measured": measured,
            "met": completed and measured is not None and measured <= TARGETS[name],
            "run_at_target_size": sized,
            "phase_completed": completed,
        }

    verdicts: dict[str, Any] = dict.fromkeys(TARGETS)
    if "offer_latency" in report:
        phase = report["offer_latency"]
        latency = phase["offer_latency"] or {}
        sized = args.agents >= TARGET_LOAD["agents"] and args.rate >= TARGET_LOAD["rate"]
        completed = phase["offered"] == args.contacts and not phase["overloaded"]
        for name, key in (("offer_latency_p50_ms", "p50_ms"), ("offer_latency_p99_ms", "p99_ms")):
            verdicts[name] = verdict(name, latency.get(key), sized, completed)
    if "rona" in report:
        phase = report["rona"]
        verdicts["rona_lateness_p99_ms"] = verdict(
            "rona_lateness_p99_ms",
            (phase["lateness_received"] or {}).get("p99_ms"),
            phase["peak_pending_seen"] >= TARGET_LOAD["pending"],
            phase["rona"] == phase["offers_made"],
        )
    if "idle_subscriptions" in report:
        phase = report["idle_subscriptions"]
        verdicts["idle_rss_mb"] = verdict(
            "idle_rss_mb",
            phase["rss_with_subscriptions_mb"],
            phase["subscriptions"] >= TARGET_LOAD["idle_subscriptions"],
            phase["confirmed_live"] == phase["subscriptions"],
        )
    return verdicts
