"""Use case H's words in English and Japanese: its event types, rules, values, dismissal reasons and page.

Neutral wording throughout: the machine says where an anonymous track went and for how long; it
never calls anyone a suspect or a thief. Staff decide what a notice means.

Dismissal reasons are per rule: a code ``<event type with '_' for '.'>__<reason>`` is offered only
on review items of that type (the review panel filters by this prefix).
"""

from __future__ import annotations

DISMISS_REASONS = (
    "behaviour_loitering__waiting",
    "behaviour_loitering__working",
    "behaviour_restricted_zone__authorised",
    "behaviour_restricted_zone__did_not_enter",
    "behaviour_exit_without_checkout__nothing_taken",
    "behaviour_exit_without_checkout__paid_elsewhere",
    "behaviour_repeated_returns__choosing",
)

# key: (English, Japanese)
MESSAGES: dict[str, tuple[str, str]] = {
    "type.behaviour.loitering": ("Long stay in a zone", "エリアでの長時間の滞在"),
    "type.behaviour.restricted_zone": ("Restricted zone entered or approached", "立入制限エリアへの進入・接近"),
    "type.behaviour.exit_without_checkout": ("Left without passing checkout", "レジを通らずに退出"),
    "type.behaviour.repeated_returns": ("Repeated returns to a zone", "同じエリアへの繰り返しの訪問"),
    "rule.loitering": ("A track stayed in the zone longer than the threshold. It says nothing about the person.",
                       "追跡対象がしきい値より長くエリアに留まりました。人物については何も示しません。"),
    "rule.restricted_zone": ("A track entered a restricted zone during its active hours, or its movement predicts it will.",
                             "追跡対象が制限時間帯に立入制限エリアに入った、または動きから入ると予測されました。"),
    "rule.exit_without_checkout": ("A track went through a merchandise zone, then crossed the exit line without passing the checkout zone.",
                                   "追跡対象が商品エリアを通った後、レジエリアを通らずに出口の線を越えました。"),
    "rule.repeated_returns": ("A track came back to the same zone several times within the window.",
                              "追跡対象が一定時間内に同じエリアへ何度も戻りました。"),
    "reason.behaviour_loitering__waiting": ("Waiting or resting (e.g. for a companion)", "待ち合わせ・休憩"),
    "reason.behaviour_loitering__working": ("Staff or a worker doing their job", "従業員・作業員の業務"),
    "reason.behaviour_restricted_zone__authorised": ("Authorised person (staff, delivery)", "許可された人（従業員・配送）"),
    "reason.behaviour_restricted_zone__did_not_enter": ("Did not enter (prediction wrong)", "入らなかった（予測の誤り）"),
    "reason.behaviour_exit_without_checkout__nothing_taken": ("Carried nothing from the shop", "商品を持っていなかった"),
    "reason.behaviour_exit_without_checkout__paid_elsewhere": ("Paid elsewhere (another till, self-checkout)", "別の場所で支払い済み"),
    "reason.behaviour_repeated_returns__choosing": ("Comparing or choosing products", "商品の比較・選択"),
    "value.track_id": ("Track number (anonymous)", "追跡番号（匿名）"),
    "value.path": ("Recent path (points)", "直近の移動経路（点）"),
    "value.note": ("Store's note on the rule", "ルールについての店舗のメモ"),
    "value.dwell_s": ("Stayed for (s)", "滞在時間（秒）"),
    "value.threshold_s": ("Threshold (s)", "しきい値（秒）"),
    "value.leave_s": ("Counts as left after (s outside)", "退出とみなす時間（秒）"),
    "value.cooldown_s": ("No repeat for the same track for (s)", "同じ追跡対象への再通知までの時間（秒）"),
    "value.predicted": ("Predicted (not yet inside)", "予測（まだ入っていない）"),
    "value.eta_s": ("Predicted entry in (s)", "予測される進入までの時間（秒）"),
    "value.speed_px_s": ("Speed (pixels/s)", "速さ（ピクセル/秒）"),
    "value.predict_s": ("Warns ahead by (s)", "事前通知の時間（秒）"),
    "value.inside_frames": ("Frames inside", "エリア内のフレーム数"),
    "value.min_inside_frames": ("Frames inside before a notice", "通知までのエリア内フレーム数"),
    "value.active_hours": ("Active hours", "制限時間帯"),
    "value.checkout_zone": ("Checkout zone", "レジエリア"),
    "value.seconds_in_merchandise": ("Time in the merchandise zone (s)", "商品エリアでの時間（秒）"),
    "value.min_merchandise_s": ("Merchandise time that counts (s)", "対象とする商品エリアでの時間（秒）"),
    "value.visits": ("Visits", "訪問回数"),
    "value.threshold_visits": ("Visits before a notice", "通知までの訪問回数"),
    "value.window_s": ("Window (s)", "期間（秒）"),
    "behaviour.title": ("Behaviour rules: which ones mislead", "行動ルール：誤報の多いルール"),
    "behaviour.intro": ("Every behaviour notice is decided by staff. Per rule: alerts per day (bars) and the share of decided alerts that were dismissed (line). A rule dismissed most of the time needs its thresholds or zones changed.",
                        "行動の通知はすべて従業員が判断します。ルールごとに、1日の通知数（棒）と、判断済みの通知のうち却下された割合（線）を示します。却下が多いルールは、しきい値やエリアの見直しが必要です。"),
    "behaviour.notice_title": ("Notice for the store manager", "店長へのお知らせ"),
    "behaviour.notice": ("Rule “{rule}”: more than {level} % of its decided alerts were dismissed on every day with decisions in the last 7 days. Please review its thresholds and zones.",
                         "ルール「{rule}」：過去7日間、判断のあった毎日で却下の割合が {level} % を超えました。しきい値とエリアを見直してください。"),
    "behaviour.none": ("No behaviour notices in the last {days} days.", "過去 {days} 日間、行動の通知はありません。"),
    "behaviour.chart_alt": ("{rule}: alerts per day and dismissal rate, last {days} days", "{rule}：過去 {days} 日間の1日の通知数と却下の割合"),
    "behaviour.legend": ("Bars: alerts per day (busiest day: {max}). Line: dismissal rate, 0 % at the bottom to 100 % at the top; dashed: the notice level. {first} to {last}.",
                         "棒：1日の通知数（最多の日：{max}）。線：却下の割合（下端 0 %、上端 100 %）。破線：お知らせの基準。{first} ～ {last}。"),
    "behaviour.alerts": ("Alerts", "通知数"),
    "behaviour.confirmed": ("Confirmed", "確認"),
    "behaviour.dismissed": ("Dismissed", "却下"),
    "behaviour.dismissal_rate": ("Dismissal rate", "却下の割合"),
    "behaviour.level": ("Notice level: {level} %", "お知らせの基準：{level} %"),
    "behaviour.days": ("Last {days} days (UTC)", "過去 {days} 日間（UTC）"),
    "behaviour.nav": ("Behaviour rules", "行動ルール"),
    "clip.title": ("Clip around the notice", "通知前後の動画"),
    "clip.blurred": ("Heads and faces blurred on the edge.", "頭部と顔はエッジで ぼかし済みです。"),
    "clip.pixelated": ("Shown pixelated: this clip was not anonymised and your role may not see faces.",
                       "モザイク表示：この動画は匿名化されておらず、あなたの役割では顔を表示できません。"),
    "clip.faces_shown": ("Faces visible (your role and the store's profile allow it; this view is audited).",
                         "顔が表示されています（役割と店舗のプロファイルで許可。閲覧は監査記録されます）。"),
    "clip.unsupported": ("Your browser cannot play WebM video.", "このブラウザーでは WebM 動画を再生できません。"),
}
