"""Sources without webhooks, polled: the stage beside the listener that feeds the same intake.

`config.py` reads a poll source's table, `records.py` owns `poll_cursors`, `fetch.py` speaks
HTTP (tokens, 429 and `Retry-After`, retries), `runner.py` walks one source's pages since its
cursor into the store, `schedule.py` runs every source on its interval inside `cxbot serve`.
The providers themselves are pure modules in `cxbot/sources/` (`POLLERS`).
"""
