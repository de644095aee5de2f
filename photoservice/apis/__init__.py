"""The two APIs: uploadPhotos (Yahoo! V3.0 style, :mod:`.yahoo`) and up.* (REST, :mod:`.platform`).

Each turns an :class:`~.messages.ApiRequest` into a reply or a plan for the body (:mod:`.messages`): parameters,
credentials, error codes and the response documents (:mod:`.documents`, written by :mod:`.xml`).
"""

from __future__ import annotations

from .common import ApiContext
from .messages import ApiRequest, Outcome, Reply, SmallBody, StreamedBody
from .platform import PlatformApi, PlatformError
from .yahoo import COOKIE_NAME, YahooApi, YahooError

__all__ = [
    "ApiContext",
    "ApiRequest",
    "Outcome",
    "Reply",
    "SmallBody",
    "StreamedBody",
    "PlatformApi",
    "PlatformError",
    "YahooApi",
    "YahooError",
    "COOKIE_NAME",
]
