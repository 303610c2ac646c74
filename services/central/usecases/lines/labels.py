"""F footfall's words in English and Japanese."""

from __future__ import annotations

# key: (English, Japanese)
MESSAGES: dict[str, tuple[str, str]] = {
    "type.line.crossings": ("Line crossings", "ライン通過数"),
    "value.in_count": ("Crossed in", "入った人数"),
    "value.out_count": ("Crossed out", "出た人数"),
    "value.line": ("Line", "ライン"),
    "visitors.title": ("Visitors", "来店者数"),
    "visitors.last_hours": ("{visitors} visitors in the last {hours} h ({per_hour} per hour)", "直近 {hours} 時間の来店者 {visitors} 人（1時間あたり {per_hour} 人）"),
    "visitors.none": ("No entrance counts yet.", "入口の通過数はまだありません。"),
}
