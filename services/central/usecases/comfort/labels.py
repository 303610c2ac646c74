"""F comfort's words in English and Japanese: event types, rules, values, quantities, statuses."""

from __future__ import annotations

# key: (English, Japanese)
MESSAGES: dict[str, tuple[str, str]] = {
    "type.comfort.reading": ("Comfort reading", "快適性の測定値"),
    "type.comfort.notice": ("Comfort notice", "快適性のお知らせ"),
    "type.comfort.restored": ("Comfort back in range", "快適性の回復"),
    "rule.comfort_out_of_range": ("A light or air value stayed outside its target range.", "照度または空気の値が目標範囲外の状態が続きました。"),
    "rule.comfort_back_in_range": ("The value is back inside its target range.", "値が目標範囲内に戻りました。"),
    "value.target_low": ("Target: at least", "目標（下限）"),
    "value.target_high": ("Target: at most", "目標（上限）"),
    "value.limit": ("Limit crossed", "超えた基準値"),
    "value.min_out_s": ("Seconds out of range before a notice", "お知らせまでの時間（秒）"),
    "value.out_of_range_s": ("Out of range for (s)", "範囲外の継続時間（秒）"),
    "value.value": ("Measured", "測定値"),
    "comfort.title": ("Comfort", "快適性"),
    "comfort.none": ("No comfort readings yet.", "快適性の測定値はまだありません。"),
    "comfort.quantity.lux": ("Light", "照度"),
    "comfort.quantity.co2_ppm": ("CO₂", "CO₂濃度"),
    "comfort.quantity.temperature_c": ("Temperature", "温度"),
    "comfort.quantity.humidity_pct": ("Humidity", "湿度"),
    "comfort.status.ok": ("in range", "範囲内"),
    "comfort.status.low": ("too low", "低すぎ"),
    "comfort.status.high": ("too high", "高すぎ"),
    "comfort.status.untrusted": ("not readable (camera exposure changed)", "読み取り不可（カメラの露出が変化）"),
    "comfort.target": ("Target", "目標"),
    "comfort.out_for": ("out of range for {minutes} min", "範囲外 {minutes} 分"),
    "comfort.band": ("shaded: target range", "網掛け：目標範囲"),
}
