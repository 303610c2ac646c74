"""Use case F's words in English and Japanese: its event types, rules, values and store view.

Neutral wording: the machine counts people, it never accuses anyone.
"""

from __future__ import annotations

#: Dismissal reasons only crowding alerts offer (after the generic ones in ``review.reasons``).
DISMISS_REASONS = ("people_together",)  # a family or group who belong together; no distancing problem

# key: (English, Japanese)
MESSAGES: dict[str, tuple[str, str]] = {
    "type.zone.overcrowded": ("Zone over capacity", "エリアの定員超過"),
    "type.zone.occupancy": ("Zone occupancy", "エリアの人数"),
    "type.zone.cleared": ("Zone back under capacity", "エリアの混雑解消"),
    "reason.people_together": ("People who belong together (family, group)", "同伴者（家族・グループ）"),
    "rule.occupancy_over_capacity": ("More people stayed in the zone than its capacity allows, for several frames in a row.", "エリアの人数が定員を超えた状態が、連続したフレームで続きました。"),
    "rule.occupancy_back_under_capacity": ("The zone is back under its capacity.", "エリアの人数が定員以下に戻りました。"),
    "value.capacity": ("Capacity (people)", "定員（人）"),
    "value.count": ("People counted", "人数"),
    "value.consecutive_frames": ("Consecutive frames over capacity", "定員超過が続いたフレーム数"),
    "value.min_frames": ("Frames over capacity before an alert", "アラートまでのフレーム数"),
    "value.hysteresis": ("Re-arm margin (people)", "再通知までの余裕（人）"),
    "value.mean_person_score": ("Mean person detector score", "人物検出の平均スコア"),
    "value.clear_at_or_below": ("Cleared at or below (people)", "解消とみなす人数"),
    "value.zone": ("Zone", "エリア"),
    "value.occupancy_ratio": ("People per capacity", "定員に対する割合"),
    "value.peak_count": ("Most people in the interval", "期間中の最大人数"),
    "value.unique_tracks": ("Different people in the interval", "期間中の人数（延べではない）"),
    "value.interval_s": ("Interval (s)", "集計期間（秒）"),
    "value.overcrowded_for_s": ("Over capacity for (s)", "定員超過の継続時間（秒）"),
    "stores.title": ("Stores", "店舗"),
    "stores.empty": ("No store has reported yet.", "まだ報告のある店舗はありません。"),
    "stores.profile": ("Privacy profile: {profile}", "プライバシープロファイル：{profile}"),
    "store.title": ("Store {store}", "店舗 {store}"),
    "store.cameras": ("Cameras", "カメラ"),
    "store.no_live": ("No live picture (the store keeps no images, or the camera has not sent one yet).", "ライブ画像はありません（画像を保存しない店舗、またはまだ送信されていません）。"),
    "store.live_alt": ("Live picture of camera {camera} with zone outlines", "カメラ {camera} のライブ画像とエリアの枠"),
    "store.occupancy": ("Occupancy", "エリアの人数"),
    "store.zone": ("Zone", "エリア"),
    "store.people": ("People / capacity", "人数 / 定員"),
    "store.as_of": ("As of", "時刻"),
    "store.over": ("over capacity", "定員超過"),
    "store.alerts": ("Alerts and notices (last 24 h)", "アラートとお知らせ（直近24時間）"),
    "store.no_alerts": ("No alerts or notices in the last 24 hours.", "直近24時間のアラート・お知らせはありません。"),
    "store.trends": ("The last {hours} hours", "直近 {hours} 時間の推移"),
    "store.chart_times": ("Times in UTC; one point per minute-long bucket (mean).", "時刻は UTC。一定間隔ごとの平均値を表示しています。"),
    "store.people_unit": ("people", "人"),
    "store.capacity_band": ("shaded: up to capacity {capacity}", "網掛け：定員 {capacity} 人まで"),
    "store.no_occupancy": ("No occupancy readings in this period.", "この期間の人数データはありません。"),
    "store.open_item": ("open review item", "レビュー項目を開く"),
    "store.picture_at": ("Picture taken", "撮影時刻"),
}
