"""What every token-authenticated WeChat / WeCom API client shares: POST with the access
token (one retry with a fresh token on 40001/42001/40014, in AccessTokens.call) and the
temporary-media endpoints, which both platforms serve at the same paths."""

from __future__ import annotations

from typing import Any

from bot.clients.http import HTTPClient, Media
from bot.clients.tokens import AccessTokens


class TokenAPI:
    def __init__(self, http: HTTPClient, tokens: AccessTokens) -> None:
        self.http = http
        self.tokens = tokens

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self.tokens.call(
            lambda token: self.http.call("POST", path, params={"access_token": token}, json_body=body)
        )

    async def upload_media(self, media: Media, kind: str = "image") -> str:
        """Upload temporary media (kept 3 days); returns its media_id for image messages.
        A retry after a token error sends a fresh form (aiohttp forms are single-use)."""
        answer = await self.tokens.call(
            lambda token: self.http.upload(
                "/cgi-bin/media/upload", params={"access_token": token, "type": kind}, media=media
            )
        )
        return str(answer["media_id"])

    async def download_media(self, media_id: str) -> Media:
        """The bytes of a temporary media (e.g. an image a customer or rep sent; kept 3 days)."""
        return await self.tokens.call(
            lambda token: self.http.download(
                "/cgi-bin/media/get", params={"access_token": token, "media_id": media_id}
            )
        )
