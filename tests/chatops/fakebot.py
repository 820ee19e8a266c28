"""A local Bot API peer speaking Telegram's JSON: getUpdates (long polling, offsets), sendMessage,
answerCallbackQuery, on a real socket. Tests queue updates as a chat user would send them and read
what the bot sent. `down = True` answers 502 with an HTML page, as a proxy in front of a dead API would.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a bot killed mid-poll drops its connection: not the test's failure


class FakeBotApi:
    def __init__(self, token: str) -> None:
        self.token = token
        self.updates: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.answered: list[dict[str, Any]] = []
        self.calls: list[str] = []  # method names, in order (the token never appears here)
        self.down = False
        self.refused = 0  # calls answered 502 while down
        self.username = "AcademyBot"
        self.blocked: set[str] = set()  # chat ids whose sendMessage is refused for good (403)
        self._next_id = 1000
        self._message_id = 1
        self._cond = threading.Condition()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # what a chat user does

    def message(self, user_id: int, text: str, *, username: str = "", chat_id: int | None = None) -> int:
        return self._queue({"message": {
            "message_id": self._msg(), "date": 1765000000, "text": text,
            "from": {"id": user_id, "is_bot": False, "first_name": "Op", "username": username},
            "chat": {"id": chat_id or user_id, "type": "private"}}})

    def press(self, user_id: int, data: str, *, chat_id: int | None = None) -> int:
        """Press an inline button whose callback_data is `data` (as on the message the bot sent)."""
        return self._queue({"callback_query": {
            "id": f"cb{self._next_id}", "data": data, "chat_instance": "x",
            "from": {"id": user_id, "is_bot": False, "first_name": "Op"},
            "message": {"message_id": self._msg(), "date": 1765000000, "chat": {"id": chat_id or user_id,
                                                                                "type": "private"}}}})

    def redeliver(self, update_id: int) -> None:
        """Deliver an update again (as Telegram does when the offset did not move past it)."""
        with self._cond:
            update = next(u for u in self._all if u["update_id"] == update_id)
            self.updates.append(update)
            self._cond.notify_all()

    def texts(self, chat_id: int) -> list[str]:
        return [m["text"] for m in self.sent if str(m["chat_id"]) == str(chat_id)]

    def buttons(self, chat_id: int) -> list[str]:
        """The callback data of every button the bot sent to `chat_id`, in order."""
        out = []
        for m in self.sent:
            if str(m["chat_id"]) == str(chat_id):
                for row in (m.get("reply_markup") or {}).get("inline_keyboard", []):
                    out += [b["callback_data"] for b in row]
        return out

    # internals

    _all: list[dict[str, Any]]

    def _msg(self) -> int:
        self._message_id += 1
        return self._message_id

    def _queue(self, body: dict[str, Any]) -> int:
        with self._cond:
            self._next_id += 1
            update = {"update_id": self._next_id, **body}
            self.updates.append(update)
            self._all = [*getattr(self, "_all", []), update]
            self._cond.notify_all()
            return self._next_id

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset, timeout = int(params.get("offset") or 0), float(params.get("timeout") or 0)
        with self._cond:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]  # confirmed: forgotten
            if not self.updates and timeout:
                self._cond.wait(min(timeout, 1.0))
            return list(self.updates)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                params = json.loads(self.rfile.read(length) or b"{}")
                prefix, _, method = self.path.lstrip("/").partition("/")
                if api.down:
                    api.refused += 1
                    return self._reply(502, b"<html><body>502 Bad Gateway</body></html>", "text/html")
                if prefix != f"bot{api.token}":
                    return self._json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                api.calls.append(method)
                if method == "getUpdates":
                    return self._json(200, {"ok": True, "result": api._get_updates(params)})
                if method == "getMe":
                    return self._json(200, {"ok": True, "result": {"id": 7000000001, "is_bot": True,
                                                                   "first_name": "Academy", "username": api.username}})
                if method == "sendMessage":
                    if str(params.get("chat_id")) in api.blocked:
                        return self._json(403, {"ok": False, "error_code": 403,
                                                "description": "Forbidden: bot was blocked by the user"})
                    if not params.get("text"):
                        return self._json(400, {"ok": False, "error_code": 400,
                                                "description": "Bad Request: message text is empty"})
                    api.sent.append(params)
                    return self._json(200, {"ok": True, "result": {"message_id": api._msg(), "date": 1765000000,
                                                                   "chat": {"id": params["chat_id"]},
                                                                   "text": params["text"]}})
                if method == "answerCallbackQuery":
                    api.answered.append(params)
                    return self._json(200, {"ok": True, "result": True})
                return self._json(404, {"ok": False, "error_code": 404, "description": "Not Found"})

            def _json(self, status: int, body: dict[str, Any]) -> None:
                self._reply(status, json.dumps(body).encode(), "application/json")

            def _reply(self, status: int, data: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
