"""The embedded Kiwoom-compatible simulator: a real HTTP + WebSocket server on 127.0.0.1
backed by a simulated KRX market and account (kiwoom-api.md is the contract).

Run it with `python -m kiwoom_terminal.sim --rest-port 0 --ws-port 0`; from code and tests
use `kiwoom_terminal.sim.launcher.start_simulator()` and drive it deterministically through
`kiwoom_terminal.sim.control.SimControl`. Nothing here imports Qt.
"""
