"""The connection to Kiwoom (or the embedded simulator): REST and WebSocket clients, wire
parsers, error classes, the rate limiter and the token life cycle.

Kiwoom's wire field names and TR codes stay inside this package; everything it returns is
built from `kiwoom_terminal.objects` and `kiwoom_terminal.constants`. No Qt is imported here:
the package runs inside the worker processes.
"""
