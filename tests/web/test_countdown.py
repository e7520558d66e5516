"""The one countdown's words (the server writes them; app.js keeps them running in the same format)."""

from __future__ import annotations

import pytest

from api.web.templating import countdown_text


@pytest.mark.parametrize(("seconds", "zh", "en"), [
    (86400 + 3 * 3600 + 59, "剩余 1天3小时", "left: 1d 3h"),
    (14 * 3600 + 22 * 60 + 40, "剩余 14小时22分", "left: 14h 22m"),
    (59, "剩余 0分钟", "left: 0 min"),
    (-3 * 60 - 10, "已超时 3分钟", "overdue by 3 min"),
    (-(2 * 3600 + 5 * 60), "已超时 2小时5分", "overdue by 2h 5m"),
])
def test_countdown_words(seconds, zh, en):
    assert countdown_text(seconds, english=False) == zh
    assert countdown_text(seconds, english=True) == en
