"""Use case G's labels (English, Japanese): event types, modes and the ventilation page."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "type.ventilation.zone_state": ("Zone air", "ゾーンの空気"),
    "type.ventilation.setpoints_changed": ("Ventilation setpoints changed", "換気設定値の変更"),
    "type.ventilation.failsafe": ("Ventilation failsafe", "換気フェイルセーフ"),
    "type.ventilation.restored": ("Ventilation restored", "換気制御の復旧"),
    "type.ventilation.purge_completed": ("Purge completed", "パージ完了"),
    "type.ventilation.infection_reported": ("Infected visitor reported", "感染者来店の報告"),
    "vent.nav": ("Ventilation", "換気"),
    "vent.title": ("Ventilation · {store}", "換気 · {store}"),
    "vent.intro": (
        "Demand-controlled ventilation keeps CO₂ near {setpoint} ppm with the least fan energy; a confirmed "
        "infection report purges the zones. Setpoints, purges and overrides are in the audit chain.",
        "需要制御換気で CO₂ を {setpoint} ppm 付近に保ち、送風機の電力を最小にします。感染者来店の報告が確認されると"
        "該当ゾーンをパージします。設定値の変更・パージ・オーバーライドはすべて監査ログに記録されます。"),
    "vent.none": ("No ventilation reports from this store yet.", "この店舗からの換気レポートはまだありません。"),
    "vent.zone": ("Zone {zone}", "ゾーン {zone}"),
    "vent.mode": ("Mode", "モード"),
    "vent.mode.dcv": ("Demand control", "需要制御"),
    "vent.mode.purge": ("Purge", "パージ"),
    "vent.mode.override": ("Manual override", "手動オーバーライド"),
    "vent.mode.failsafe": ("Failsafe", "フェイルセーフ"),
    "vent.co2": ("CO₂", "CO₂"),
    "vent.airflow": ("Outdoor air", "外気量"),
    "vent.required": ("Required (ASHRAE 62.1 / 30 m³/h·person)", "必要外気量（ASHRAE 62.1 / 30 m³/h·人）"),
    "vent.occupants": ("People", "人数"),
    "vent.ach": ("Air changes per hour", "換気回数（回/時）"),
    "vent.damper_fan": ("Damper / fan", "ダンパー / 送風機"),
    "vent.temperature": ("Temperature", "温度"),
    "vent.humidity": ("Humidity", "湿度"),
    "vent.updated": ("Updated {at}", "更新 {at}"),
    "vent.chart.co2": ("CO₂ (ppm) since {since} UTC; dashed line: 1000 ppm", "{since} UTC 以降の CO₂（ppm）。破線は 1000 ppm"),
    "vent.chart.airflow": ("Outdoor air (m³/h) and people since {since} UTC", "{since} UTC 以降の外気量（m³/h）と人数"),
    "vent.risk": ("Infection-risk index", "感染リスク指標"),
    "vent.risk.value": ("{pct} % per hour", "1 時間あたり {pct} %"),
    "vent.risk.explain": (
        "Wells–Riley: P = 1 − exp(−I·q·p·t/Q) for one susceptible person staying one hour, with I = people × 0.2 % "
        "(the prevalence assumed), q = 25 quanta/h (an infector talking little; Buonanno et al. 2020), "
        "p = 0.75 m³/h breathing and Q the measured outdoor air. An index for comparing ventilation, not a clinical risk.",
        "Wells–Riley 式：P = 1 − exp(−I·q·p·t/Q)。感受性のある 1 人が 1 時間滞在した場合。I = 人数 × 0.2 %（想定有病率）、"
        "q = 25 quanta/時（会話の少ない感染者、Buonanno ほか 2020）、p = 呼吸量 0.75 m³/時、Q = 実測外気量。"
        "換気の比較のための指標であり、臨床的なリスクではありません。"),
    "vent.purge.progress": ("Purge: {done} of {goal} air changes", "パージ：{goal} 回中 {done} 回の換気"),
    "vent.override.until": ("Override until {at}", "{at} までオーバーライド"),
    "vent.changes": ("Recent setpoint changes", "最近の設定値変更"),
    "vent.by": ("By", "実行者"),
    "vent.why": ("Why", "理由"),
    "vent.report.title": ("Report an infected visitor", "感染者来店を報告"),
    "vent.report.help": (
        "Two people must confirm the report in the review queue before the purge starts. No names or contact details.",
        "パージ開始前に、レビューキューで 2 人が報告を確認する必要があります。氏名や連絡先は入力しないでください。"),
    "vent.report.zones": ("Zones visited", "立ち寄ったゾーン"),
    "vent.report.from": ("Visited from", "滞在開始"),
    "vent.report.until": ("Visited until", "滞在終了"),
    "vent.report.note": ("Note (no personal data)", "メモ（個人情報なし）"),
    "vent.report.submit": ("Send for two-person review", "2 人レビューに送る"),
    "vent.report.sent": ("Reported: review item {item} waits for two people.", "報告しました：レビュー項目 {item} が 2 人の確認を待っています。"),
    "vent.reports": ("Infection reports", "感染者来店の報告"),
    "vent.override.title": ("Manual override", "手動オーバーライド"),
    "vent.override.minutes": ("Minutes", "分"),
    "vent.override.reason": ("Reason", "理由"),
    "vent.override.submit": ("Override", "オーバーライド"),
    "vent.override.clear": ("End override", "オーバーライド終了"),
    "vent.override.sent": ("Command {command} sent to the air handler.", "空調機にコマンド {command} を送信しました。"),
    "vent.managers_only": ("Managers request purges and overrides.", "パージとオーバーライドは店長が行います。"),
    "vent.err.zones": ("Choose at least one zone of this store.", "この店舗のゾーンを 1 つ以上選んでください。"),
    "vent.err.window": ("The visit must end after it starts.", "滞在終了は滞在開始より後にしてください。"),
    "vent.err.device": ("No air handler has reported for this store yet.", "この店舗の空調機からのレポートがまだありません。"),
    "vent.err.override": ("Damper 0-100 %, fan 10-100 %, 1-1440 minutes.", "ダンパー 0〜100 %、送風機 10〜100 %、1〜1440 分。"),
    "vent.state.pending": ("waiting for review", "レビュー待ち"),
    "vent.state.claimed": ("in review", "レビュー中"),
    "vent.state.confirmed": ("confirmed: purge ordered", "確認済み：パージ指示済み"),
    "vent.state.dismissed": ("dismissed", "却下"),
    "vent.state.escalated": ("escalated", "エスカレーション"),
}
