"""The async HTTP layer under every WeChat / WeCom client: timeouts and error mapping.

wechatpy's API clients are synchronous (requests), so the project calls the HTTP APIs
itself here, on aiohttp. Every call has a total timeout; a transport failure becomes
`TransportError`, a non-zero errcode becomes `WeChatAPIError`. Bodies are sent as UTF-8
JSON with Chinese left unescaped (some WeChat APIs show `\\uXXXX` escapes literally).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.clients.errors import TransportError, WeChatAPIError

DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=10, connect=5)


@dataclass(frozen=True)
class Media:
    data: bytes
    content_type: str
    filename: str


class HTTPClient:
    """JSON calls against one API root. Owns its session unless one is given."""

    def __init__(
        self,
        base_url: str,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._owns_session = session is None
        self.timeout = timeout

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
            self._owns_session = True
        return self._session

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()

    async def __aenter__(self) -> HTTPClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _send(
        self, method: str, path: str, params: dict[str, Any] | None, body: Any
    ) -> tuple[int, str, bytes, str]:
        headers: dict[str, str] | None = None
        if isinstance(body, aiohttp.FormData):
            data: Any = body
        elif body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers = {"Content-Type": "application/json; charset=utf-8"}
        else:
            data = None
        try:
            async with self.session.request(
                method, self.base_url + path, params=params, data=data, headers=headers,
                timeout=self.timeout,
            ) as resp:
                disposition = resp.content_disposition
                filename = disposition.filename if disposition and disposition.filename else ""
                return resp.status, resp.content_type, await resp.read(), filename
        except TimeoutError as exc:
            raise TransportError(f"timed out after {self.timeout.total}s", api=path) from exc
        except aiohttp.ClientError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}", api=path) from exc

    async def call(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json_body: Any = None
    ) -> dict[str, Any]:
        """The JSON answer, or WeChatAPIError when errcode is not 0."""
        status, _, raw, _ = await self._send(method, path, params, json_body)
        return _parse(path, status, raw)

    async def upload(self, path: str, *, params: dict[str, Any], media: Media) -> dict[str, Any]:
        """multipart/form-data with the file in field "media" (media/upload)."""
        form = aiohttp.FormData()
        form.add_field("media", media.data, filename=media.filename or "media",
                       content_type=media.content_type)
        status, _, raw, _ = await self._send("POST", path, params, form)
        return _parse(path, status, raw)

    async def download(self, path: str, *, params: dict[str, Any]) -> Media:
        """Raw bytes (media/get); a JSON body means WeChat refused (errcode)."""
        status, content_type, raw, filename = await self._send("GET", path, params, None)
        if status >= 400 or content_type in {"application/json", "text/plain"}:
            _parse(path, status, raw)  # raises for an errcode, or a bad status
            raise TransportError("expected media, got a JSON body", api=path, status=status)
        return Media(raw, content_type, filename)


def _parse(path: str, status: int, raw: bytes) -> dict[str, Any]:
    if status >= 500:
        raise TransportError(f"HTTP {status}", api=path, status=status)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TransportError(f"HTTP {status}, body is not JSON: {raw[:80]!r}", api=path, status=status) from exc
    if not isinstance(body, dict):
        raise TransportError(f"HTTP {status}, JSON is not an object", api=path, status=status)
    errcode = int(body.get("errcode", 0) or 0)
    if errcode:
        raise WeChatAPIError(errcode, str(body.get("errmsg", "")), api=path)
    if status >= 400:
        raise TransportError(f"HTTP {status}", api=path, status=status)
    return body
