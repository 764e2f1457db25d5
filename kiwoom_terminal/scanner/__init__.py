"""Watchlist, minute scanner and scheduled jobs (issue #6).

- `watchlist.Watchlist`: the user's 관심종목, persisted as JSON, synced from a condition.
- `scanner.Scanner`: which codes need minute bars now, and what the strategies say about
  each newly completed bar (signals into `signals.SignalBook`, buy candidates for the engine).
- `schedule.Scheduler`: time rules ("mon 09:05 buy strategy=sma_cross") due at a given time.

All of it is plain Python driven by the engine's timers with an injected clock.
"""
