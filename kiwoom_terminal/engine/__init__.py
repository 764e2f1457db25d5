"""The trading engine: state, timers, decisions wiring, snapshots, journal (issue #4)."""
