"""The simulator's control API: plain JSON over HTTP under `/_sim/` on the REST port.

Not rate limited and needing no token, it lets tests (ours and the terminal's) script the
market deterministically instead of waiting on random prices: move or script a price,
pause the random walk, force condition members, set faults, force the session phase, set
the account, read the account back, count requests per api-id. `control.SimControl` is the
Python client; the README lists every command.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from kiwoom_terminal import krx
from kiwoom_terminal.krx import SessionPhase
from kiwoom_terminal.sim.faults import parse_spec
from kiwoom_terminal.sim.http import Request, Response
from kiwoom_terminal.sim.market import Script, Stock
from kiwoom_terminal.sim.ws import SYSTEM_TEXTS

if TYPE_CHECKING:
    from kiwoom_terminal.sim.server import Simulator


class ControlError(ValueError):
    """A bad control request (400 with the message)."""


class ControlApi:
    """Dispatches `/_sim/<command>` to `cmd_<command>`."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    async def handle(self, req: Request) -> Response:
        name = req.path.removeprefix("/_sim/").strip("/")
        handler = getattr(self, "cmd_" + name, None) if name.isidentifier() else None
        if handler is None:
            return Response.json({"ok": False, "error": f"unknown command {name!r}"}, 404)
        try:
            body = json.loads(req.body.decode("utf-8")) if req.body.strip() else {}
            if not isinstance(body, dict):
                raise ControlError("body must be a JSON object")
            result = handler(body)
        except (ControlError, ValueError, KeyError, TypeError) as exc:
            return Response.json({"ok": False, "error": str(exc)}, 400)
        self.sim.after_request()
        return Response.json({"ok": True, **result})

    # --- helpers -------------------------------------------------------------------------

    def _stock(self, body: dict[str, Any]) -> Stock:
        code = str(body.get("code", ""))
        stock = self.sim.market.get(code)
        if stock is None:
            raise ControlError(f"unknown stock code {code!r}")
        return stock

    def _quote(self, stock: Stock) -> dict[str, Any]:
        book = stock.book
        return {
            "code": stock.code,
            "name": stock.name,
            "price": stock.price,
            "fair": stock.fair,
            "base": stock.base,
            "upper": stock.band.upper,
            "lower": stock.band.lower,
            "open": stock.open,
            "high": stock.high,
            "low": stock.low,
            "volume": stock.cum_volume,
            "best_ask": book.best_ask(),
            "best_bid": book.best_bid(),
            "change_rate": round(stock.change_rate, 4),
            "paused": stock.paused or self.sim.market.paused_all,
            "scripted": stock.script is not None,
            "last_tick_at": stock.last_tick_at,
            "last_tick_sent_at": stock.last_tick_sent_at,
        }

    # --- state ---------------------------------------------------------------------------

    def cmd_state(self, body: dict[str, Any]) -> dict[str, Any]:
        sim = self.sim
        now = sim.clock.now()
        return {
            "time": now.strftime("%Y%m%d%H%M%S"),
            "phase": sim.clock.phase(now).value,
            "forced_phase": sim.clock.forced_phase.value if sim.clock.forced_phase else None,
            "speed": sim.clock.speed,
            "seed": sim.seed,
            "day": sim.market.day.strftime("%Y%m%d"),
            "tick_rate": sim.tick_rate,
            "paused_all": sim.market.paused_all,
            "faults": sim.faults.as_dict(),
            "fees": {
                "commission_rate": sim.account.fees.commission_rate,
                "tax_rate": sim.account.fees.tax_rate,
            },
            "schedule": {
                f.name: getattr(sim.clock.schedule, f.name).strftime("%H:%M")
                for f in dataclasses.fields(sim.clock.schedule)
            },
            "sessions": [
                {
                    "id": s.id,
                    "logged_in": s.logged_in,
                    "registrations": sorted(f"{i}:{t}" for i, t in s.registrations()),
                    "groups": {
                        g: sorted(f"{i}:{t}" for i, t in regs) for g, regs in s.groups.items()
                    },
                    "reg_counts": dict(s.reg_counts),
                    "received": dict(s.received),
                    "conditions": sorted(s.cnsr_rt),
                    "dropped": s.dropped,
                    "frames_sent": s.frames_sent,
                    "entries": s.entries_framed,
                }
                for s in sim.feed.sessions
            ],
        }

    def cmd_quote(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._quote(self._stock(body))

    def cmd_book(self, body: dict[str, Any]) -> dict[str, Any]:
        """Read a book (with each level's queue); `crowd_qty` fixes the crowd size."""
        stock = self._stock(body)
        if "crowd_qty" in body:
            value = body["crowd_qty"]
            stock.book.crowd_qty = None if value is None else int(value)
            self.sim.market.recenter(stock, stock.fair, self.sim.clock.now(), jitter=False)
        book = stock.book
        asks = sorted(book.asks)
        bids = sorted(book.bids, reverse=True)
        return {
            **self._quote(stock),
            "asks": [[p, book.asks[p].total, book.level_entries(False, p)] for p in asks],
            "bids": [[p, book.bids[p].total, book.level_entries(True, p)] for p in bids],
        }

    # --- prices --------------------------------------------------------------------------

    def cmd_price(self, body: dict[str, Any]) -> dict[str, Any]:
        """Move a stock now: `price` (absolute) or `ticks` (steps on the grid)."""
        stock = self._stock(body)
        stock.script = None
        if "price" in body:
            target = int(body["price"])
        elif "ticks" in body:
            target = krx.step_price(stock.fair, int(body["ticks"]), etf=stock.etf)
        else:
            raise ControlError("give price or ticks")
        if body.get("pause"):
            stock.paused = True
        stock.stamp_sends = True  # benchmarks time the moved tick from when it is written
        try:
            self.sim.market.set_price(stock, target, int(body.get("qty", 1)))
        finally:
            stock.stamp_sends = False
        return self._quote(stock)

    def cmd_path(self, body: dict[str, Any]) -> dict[str, Any]:
        """Script a path: `keyframes` [[seconds from now, price], ...], `then` hold|resume."""
        stock = self._stock(body)
        frames = body.get("keyframes")
        if not isinstance(frames, list) or not frames:
            raise ControlError("keyframes must be a non-empty list of [seconds, price]")
        then = str(body.get("then", "hold"))
        if then not in ("hold", "resume"):
            raise ControlError("then must be hold or resume")
        now_sec = self.sim.market.session_second(self.sim.clock.now())
        self.install_path(stock, [(float(t), int(p)) for t, p in frames], then, now_sec)
        return self._quote(stock)

    def install_path(
        self, stock: Stock, frames: list[tuple[float, int]], then: str, origin: int
    ) -> None:
        keyframes = sorted((origin + round(t), p) for t, p in frames)
        if keyframes[0][0] > stock.process.sec:
            keyframes.insert(0, (stock.process.sec, stock.fair))
        stock.script = Script(keyframes, then)

    def cmd_pause(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("code"):
            self._stock(body).paused = True
        else:
            self.sim.market.paused_all = True
        return {}

    def cmd_resume(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("code"):
            stock = self._stock(body)
            stock.paused = False
            stock.script = None
        else:
            self.sim.market.paused_all = False
            for stock in self.sim.market.stocks.values():
                stock.paused = False
        return {}

    def cmd_trade(self, body: dict[str, Any]) -> dict[str, Any]:
        """A crowd order hits the book: `side` buy|sell, `qty`, optional limit `price`."""
        stock = self._stock(body)
        side = body.get("side")
        if side not in ("buy", "sell"):
            raise ControlError("side must be buy or sell")
        limit = int(body["price"]) if body.get("price") is not None else None
        result = self.sim.market.crowd_trade(stock, side == "buy", int(body["qty"]), limit)
        return {"filled": result.filled, "trades": result.trades, **self._quote(stock)}

    def cmd_tick_rate(self, body: dict[str, Any]) -> dict[str, Any]:
        rate = body.get("rate")
        self.sim.tick_rate = None if rate is None else max(0.0, float(rate))
        return {"tick_rate": self.sim.tick_rate}

    # --- session, clock, faults ----------------------------------------------------------

    def cmd_phase(self, body: dict[str, Any]) -> dict[str, Any]:
        phase = body.get("phase")
        self.sim.clock.forced_phase = None if phase is None else SessionPhase(phase)
        return {"phase": self.sim.clock.phase().value}

    def cmd_clock(self, body: dict[str, Any]) -> dict[str, Any]:
        if "speed" in body:
            self.sim.clock.set_speed(float(body["speed"]))
        if "advance" in body:
            self.sim.clock.advance(float(body["advance"]))
            self.sim.step()
        return {"time": self.sim.clock.now().strftime("%Y%m%d%H%M%S")}

    def cmd_faults(self, body: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, object] = dict(body)
        spec = values.pop("spec", None)
        if isinstance(spec, str):
            values = {**parse_spec(spec), **values}
        self.sim.set_faults(values)
        return {"faults": self.sim.faults.as_dict()}

    def cmd_expire_tokens(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"expired": self.sim.auth.expire_all()}

    def cmd_drop_ws(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"dropped": self.sim.ws.drop_all()}

    def cmd_ws_system(self, body: dict[str, Any]) -> dict[str, Any]:
        """Send a SYSTEM frame (`code`, optional `message`) to every open session or to
        `session` (an id from `state`), without closing the connection."""
        code = body.get("code")
        if not isinstance(code, str) or not code.strip():
            raise ControlError("give code, e.g. R10002")
        code = code.strip()
        message = body.get("message")
        if message is None:
            message = SYSTEM_TEXTS.get(code, "서버 알림")
        session = body.get("session")
        sent = self.sim.ws.send_system(
            code, str(message), None if session is None else int(session)
        )
        return {"sent": sent}

    def cmd_cnsr_page_size(self, body: dict[str, Any]) -> dict[str, Any]:
        self.sim.config.cnsr_page_size = max(1, int(body["size"]))
        return {}

    # --- conditions ----------------------------------------------------------------------

    def cmd_condition(self, body: dict[str, Any]) -> dict[str, Any]:
        seq = str(body.get("seq", ""))
        if seq not in self.sim.conditions.defs:
            raise ControlError(f"unknown condition seq {seq!r}")
        stock = self._stock(body)
        self.sim.conditions.force(seq, stock.code, str(body.get("action", "add")))
        return {"members": self.sim.conditions.matches(seq)}

    def cmd_conditions(self, body: dict[str, Any]) -> dict[str, Any]:
        conds = self.sim.conditions
        return {
            "conditions": [
                {"seq": seq, "name": name, "members": conds.matches(seq)}
                for seq, name in conds.listing()
            ]
        }

    # --- account -------------------------------------------------------------------------

    def cmd_account(self, body: dict[str, Any]) -> dict[str, Any]:
        """Set `cash` and/or `holdings` [{code, qty, avg_price}]; returns the account."""
        acct = self.sim.account
        if "cash" in body:
            acct.cash = int(body["cash"])
        for h in body.get("holdings", []) or []:
            stock = self._stock(h)
            acct.set_holding(stock.code, int(h["qty"]), int(h.get("avg_price", stock.price)))
        if body.get("reject_next"):
            acct.reject_next.extend(
                [str(body.get("reject_reason", "RC4999"))] * int(body["reject_next"])
            )
        return self.account_state()

    def account_state(self) -> dict[str, Any]:
        acct = self.sim.account
        return {
            "account_no": acct.account_no,
            "cash": acct.cash,
            "orderable": acct.orderable(),
            "realized_today": acct.realized_today,
            "positions": [
                {
                    "code": h.code,
                    "qty": h.qty,
                    "sellable": acct.sellable(h.code),
                    "avg_price": h.avg_price,
                    "cost": h.cost,
                    "buy_fees": h.buy_fees,
                    "realized": h.today_realized,
                }
                for h in acct.holdings.values()
                if h.qty > 0
            ],
            "orders": [
                {
                    "order_no": o.order_no,
                    "orig_no": o.orig_no,
                    "root_no": o.root_no,
                    "code": o.code,
                    "side": "buy" if o.buy else "sell",
                    "kind": o.kind,
                    "trde_tp": o.trde_tp,
                    "price": o.price,
                    "qty": o.qty,
                    "remaining": o.remaining,
                    "filled": o.filled,
                    "filled_amount": o.filled_amount,
                    "fee": o.fee,
                    "tax": o.tax,
                    "status": o.status,
                    "received_at": o.received_at,
                    "loop_read_at": o.loop_read_at,
                    "read_at": o.read_at,
                }
                for o in acct.orders.values()
            ],
            "fills": [
                {
                    "fill_no": f.fill_no,
                    "order_no": f.order_no,
                    "code": f.code,
                    "side": "buy" if f.buy else "sell",
                    "price": f.price,
                    "qty": f.qty,
                    "fee": f.fee,
                    "tax": f.tax,
                    "time": f.time,
                }
                for f in acct.fills
            ],
        }

    def cmd_account_state(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.account_state()

    # --- request counters ----------------------------------------------------------------

    def cmd_requests(self, body: dict[str, Any]) -> dict[str, Any]:
        rest = self.sim.rest
        return {
            "counts": dict(rest.counts),
            "results": {f"{api}:{code}": n for (api, code), n in rest.results.items()},
        }

    def cmd_reset_requests(self, body: dict[str, Any]) -> dict[str, Any]:
        self.sim.rest.counts.clear()
        self.sim.rest.results.clear()
        return {}

    def cmd_stop(self, body: dict[str, Any]) -> dict[str, Any]:
        self.sim.request_stop()
        return {}
