"""A local stand-in for the WeChat, WeCom and mini-program server APIs (see
shared/contracts/interfaces.md, "The stand-in")."""

from orderbot.standin.app import create_standin_app
from orderbot.standin.config import StandinConfig
from orderbot.standin.state import ApiError, StandinState

__all__ = ["ApiError", "StandinConfig", "StandinState", "create_standin_app"]
