"""How the server process collects garbage.

A thousand subscribed desktops keep a few hundred thousand objects alive (each subscription's
coroutines, async generators and graphql-core field plans), and CPython's full collection walks
every one of them with the event loop stopped. With the default thresholds a full collection ran
every few seconds under load and stopped the loop for 150-270 ms each time: most of the offer
latency's 99th percentile (bench/offers.py). Objects that outlive the start (modules, the schema)
are frozen out of collection, and the young generations are collected less often, so far fewer
short-lived request objects are promoted into the old generation that full collections walk.
Reference counting still frees everything without cycles at once; cycles are still collected.
"""

from __future__ import annotations

import gc

# Allocations between young collections (default 700); young collections between middle ones
# (default 10); middle collections between full ones (default 10, and CPython also waits for the
# old generation to have grown by a quarter).
THRESHOLDS = (10_000, 50, 100)


def tune_after_start() -> None:
    """Call once the application is built: what exists now lives as long as the process."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
