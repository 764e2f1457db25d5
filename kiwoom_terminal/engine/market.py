"""What the engine knows about the market: the stock list, the latest tick and order book
per code, and the price band of the day. Plain dictionaries, written once per drain."""

from __future__ import annotations

import math
from collections.abc import Iterable

from kiwoom_terminal import krx
from kiwoom_terminal.constants import Market
from kiwoom_terminal.objects import OrderBookData, StockInfoData, TickData


class MarketData:
    """Latest known market state per code."""

    def __init__(self) -> None:
        self.stocks: dict[str, StockInfoData] = {}
        self.ticks: dict[str, TickData] = {}
        self.books: dict[str, OrderBookData] = {}
        self._bands: dict[str, krx.PriceBand] = {}

    def add_stocks(self, stocks: Iterable[StockInfoData]) -> None:
        for stock in stocks:
            self.stocks[stock.code] = stock
            self._bands.pop(stock.code, None)

    def update_ticks(self, last_ticks: dict[str, TickData]) -> None:
        """The last tick of each code in a drained batch."""
        self.ticks.update(last_ticks)

    def update_books(self, books: Iterable[OrderBookData]) -> dict[str, OrderBookData]:
        """Store order books; returns the latest one per code of this batch."""
        latest: dict[str, OrderBookData] = {}
        for book in books:
            latest[book.code] = book
        self.books.update(latest)
        return latest

    # --- lookups -----------------------------------------------------------------------

    def name(self, code: str) -> str:
        stock = self.stocks.get(code)
        return stock.name if stock is not None else ""

    def is_etf(self, code: str) -> bool:
        stock = self.stocks.get(code)
        return stock is not None and stock.market is Market.ETF

    def last_price(self, code: str) -> int | None:
        tick = self.ticks.get(code)
        return tick.price if tick is not None and tick.price > 0 else None

    def change_rate(self, code: str) -> float:
        """The last trade's change from the previous close, in percent (NaN before one)."""
        tick = self.ticks.get(code)
        return tick.change_rate if tick is not None and tick.price > 0 else math.nan

    def best_ask(self, code: str) -> int:
        """Best ask from the fresher of the last order book and the last tick (0 = none)."""
        book = self.books.get(code)
        tick = self.ticks.get(code)
        if (
            book is not None
            and book.ask_prices
            and (tick is None or book.received_at >= tick.received_at)
        ):
            return book.ask_prices[0]
        return tick.best_ask if tick is not None else 0

    def best_bid(self, code: str) -> int:
        book = self.books.get(code)
        tick = self.ticks.get(code)
        if (
            book is not None
            and book.bid_prices
            and (tick is None or book.received_at >= tick.received_at)
        ):
            return book.bid_prices[0]
        return tick.best_bid if tick is not None else 0

    def band(self, code: str) -> krx.PriceBand | None:
        """Today's limits: from the listing's base price (previous close), else derived from
        a tick (price − change)."""
        band = self._bands.get(code)
        if band is not None:
            return band
        base = 0
        stock = self.stocks.get(code)
        if stock is not None and stock.last_close > 0:
            base = stock.last_close
        else:
            tick = self.ticks.get(code)
            if tick is not None and tick.price > 0:
                base = tick.price - tick.change
        if base <= 0:
            return None
        band = krx.price_band(base, etf=self.is_etf(code))
        self._bands[code] = band
        return band
