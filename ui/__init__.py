"""Widgets of the terminal: MainWindow, docks, table models, chart items, Designer files."""
