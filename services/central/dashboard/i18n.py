"""The dashboard's words in Japanese and English.

Japanese is the default for stores in Japan; a viewer switches with the language links (a
cookie), or an account carries its own ``locale``. Missing keys fall back to English, then to
the key itself, so a new string never breaks a page.

>>> Translator("ja")("nav.queue"), Translator("en")("nav.queue")
('レビュー待ち', 'Review queue')
>>> Translator("en")("queue.overdue_by", minutes=3)
'overdue by 3 min'
>>> Translator("en").event_type("zone.overcrowded"), Translator("en").event_type("custom.thing")
('Zone over capacity', 'custom.thing')
"""

from __future__ import annotations

from dataclasses import dataclass

LOCALES = ("ja", "en")

# key: (English, Japanese)
MESSAGES: dict[str, tuple[str, str]] = {
    "app.name": ("Anshin", "安心"),
    "app.tagline": ("store safety operations", "店舗安全オペレーション"),
    "nav.queue": ("Review queue", "レビュー待ち"),
    "nav.stores": ("Stores", "店舗"),
    "nav.audit": ("Audit log", "監査ログ"),
    "nav.signed_in_as": ("Signed in as {name} ({role})", "{name}（{role}）でサインイン中"),
    "nav.sign_out": ("Sign out", "サインアウト"),
    "nav.language": ("Language", "言語"),
    "nav.skip": ("Skip to content", "本文へ移動"),
    "nav.live": ("live", "ライブ"),
    "nav.offline": ("reconnecting…", "再接続中…"),
    "role.staff": ("staff", "スタッフ"),
    "role.manager": ("manager", "店長"),
    "role.operator": ("operator", "運用担当"),
    "role.auditor": ("auditor", "監査担当"),
    "role.admin": ("admin", "管理者"),
    # sign-in
    "login.title": ("Sign in", "サインイン"),
    "login.name": ("User name", "ユーザー名"),
    "login.password": ("Password", "パスワード"),
    "login.submit": ("Sign in", "サインイン"),
    "login.failed": ("Wrong user name or password.", "ユーザー名またはパスワードが違います。"),
    "login.expired": ("The form expired. Please try again.", "フォームの有効期限が切れました。もう一度お試しください。"),
    "login.signed_out": ("You are signed out.", "サインアウトしました。"),
    # queue
    "queue.title": ("Review queue", "レビュー待ち"),
    "queue.filters": ("Filters", "絞り込み"),
    "queue.store": ("Store", "店舗"),
    "queue.camera": ("Camera", "カメラ"),
    "queue.use_case": ("Use case", "ユースケース"),
    "queue.state": ("State", "状態"),
    "queue.any": ("all", "すべて"),
    "queue.open": ("open (pending, claimed, escalated)", "未完了（未着手・対応中・エスカレーション）"),
    "queue.apply": ("Apply", "適用"),
    "queue.counts": ("Items per state", "状態ごとの件数"),
    "queue.overdue": ("overdue", "期限超過"),
    "queue.overdue_by": ("overdue by {minutes} min", "{minutes}分超過"),
    "queue.due_in": ("due in {minutes} min", "あと{minutes}分"),
    "queue.empty": ("Nothing to review. New alerts appear here by themselves.", "レビュー待ちはありません。新しいアラートは自動で表示されます。"),
    "queue.col.severity": ("Severity", "重要度"),
    "queue.col.alert": ("Alert", "アラート"),
    "queue.col.where": ("Store / camera", "店舗 / カメラ"),
    "queue.col.state": ("State", "状態"),
    "queue.col.deadline": ("Deadline", "期限"),
    "queue.col.who": ("Claimed by", "担当者"),
    "queue.col.when": ("Occurred", "発生時刻"),
    "queue.new": ("new", "新着"),
    "queue.shown": ("{shown} of {total} shown", "{total}件中{shown}件を表示"),
    "queue.done": ("Decision recorded for item #{id}.", "項目 #{id} の判断を記録しました。"),
    "state.pending": ("pending", "未着手"),
    "state.claimed": ("claimed", "対応中"),
    "state.confirmed": ("confirmed", "確認済み"),
    "state.dismissed": ("dismissed", "却下"),
    "state.escalated": ("escalated", "エスカレーション"),
    "severity.critical": ("critical", "緊急"),
    "severity.warning": ("warning", "警告"),
    "severity.notice": ("notice", "注意"),
    "severity.info": ("info", "情報"),
    "use_case.A": ("A entrance screening", "A 入口での検温・マスク確認"),
    "use_case.B": ("B congestion-avoiding routes", "B 混雑回避ルート"),
    "use_case.C": ("C remote service", "C 遠隔接客"),
    "use_case.D": ("D contactless ordering", "D 非接触注文"),
    "use_case.E": ("E face checkout", "E 顔認証決済"),
    "use_case.F": ("F density monitoring", "F 密集度モニタリング"),
    "use_case.G": ("G ventilation", "G 換気制御"),
    "use_case.H": ("H behaviour to check", "H 要確認行動"),
    "use_case.I": ("I restocking", "I 品出し"),
    "use_case.J": ("J sales and purchasing", "J 販売・発注"),
    # event types (neutral wording: the machine never accuses anyone)
    "type.zone.overcrowded": ("Zone over capacity", "エリアの定員超過"),
    "type.zone.over_capacity": ("Zone over capacity", "エリアの定員超過"),
    "type.zone.occupancy": ("Zone occupancy", "エリアの人数"),
    "type.zone.cleared": ("Zone back under capacity", "エリアの混雑解消"),
    "type.entrance.fever_suspected": ("Possible fever at the entrance", "入口で発熱の疑い"),
    "type.entrance.no_mask": ("No mask seen at the entrance", "入口でマスク未着用"),
    "type.behaviour.suspicious": ("Behaviour to check", "確認が必要な行動"),
    # review item
    "review.title": ("Review item #{id}", "レビュー項目 #{id}"),
    "review.back": ("Back to the queue", "一覧に戻る"),
    "review.evidence": ("Evidence", "証拠画像"),
    "review.no_picture": ("No picture for this alert.", "このアラートには画像がありません。"),
    "review.no_picture_minimal": ("This store keeps no pictures (privacy profile: minimal).", "この店舗は画像を保存しません（プライバシープロファイル：minimal）。"),
    "review.faces_blurred": ("Faces are blurred.", "顔はぼかしています。"),
    "review.faces_shown": ("Faces are shown: your role and this store's privacy profile allow it. This viewing is recorded in the audit log.", "顔を表示しています（役割と店舗のプライバシープロファイルにより許可）。この閲覧は監査ログに記録されます。"),
    "review.picture_alt": ("Camera picture of the alert, {boxes} marked boxes", "アラート時のカメラ画像（枠 {boxes} 個）"),
    "review.boxes": ("Marked in the picture", "画像内の枠"),
    "review.why": ("Why this alert", "アラートの理由"),
    "review.rule": ("Rule", "ルール"),
    "review.thresholds": ("Thresholds", "しきい値"),
    "review.measured": ("Measured", "測定値"),
    "review.model": ("Model", "モデル"),
    "review.scores": ("Scores", "スコア"),
    "review.edge_note": ("Note from the camera", "カメラからのメモ"),
    "review.details": ("Details", "詳細"),
    "review.decisions": ("Decisions", "判断の履歴"),
    "review.no_decisions": ("No decision yet.", "まだ判断されていません。"),
    "review.state": ("State", "状態"),
    "review.deadline": ("Deadline", "期限"),
    "review.claimed_by": ("Claimed by {name}", "{name} が対応中"),
    "review.unclaimed": ("Nobody has claimed this item.", "まだ誰も担当していません。"),
    "review.two_person": ("Two-person rule: two different people must decide this item.", "二人確認ルール：異なる二人の判断が必要です。"),
    "review.awaiting_second": ("Waiting for a second person: {name} decided “{decision}”.", "二人目の判断待ち：{name} が「{decision}」と判断しました。"),
    "review.you_decided": ("You made the first decision. The second must come from someone else.", "あなたは一人目として判断済みです。二人目は別の人が判断する必要があります。"),
    "review.round": ("Round {round}", "第{round}ラウンド"),
    "review.final": ("Decided: {state}.", "判断済み：{state}。"),
    "review.escalated_note": ("Escalated: a manager settles this item.", "エスカレーション中：店長が判断します。"),
    "review.needs_manager": ("Only a manager can decide an escalated item.", "エスカレーションされた項目は店長のみ判断できます。"),
    "review.read_only": ("Your role can look but not decide.", "あなたの役割では閲覧のみ可能です。"),
    "action.claim": ("Claim", "担当する"),
    "action.release": ("Release", "担当を外れる"),
    "action.confirm": ("Confirm", "確認（アラートは正しい）"),
    "action.dismiss": ("Dismiss", "却下（誤報）"),
    "action.escalate": ("Escalate", "エスカレーション"),
    "action.reason": ("Reason", "理由"),
    "action.choose_reason": ("Choose a reason…", "理由を選んでください…"),
    "action.note": ("Details (optional)", "詳細（任意）"),
    "action.note_other": ("Details (required for “other”)", "詳細（「その他」の場合は必須）"),
    "decision.confirm": ("confirmed", "確認"),
    "decision.dismiss": ("dismissed", "却下"),
    "decision.escalate": ("escalated", "エスカレーション"),
    "reason.detector_error": ("Detector error: nobody there, or not a person", "検出の誤り（人がいない・人ではない）"),
    "reason.people_together": ("People who belong together (family, group)", "同伴者（家族・グループ）"),
    "reason.measurement_disturbed": ("Measurement disturbed (hot drink, sun, heater, glasses)", "測定の妨げ（温かい飲み物・日差し・暖房・眼鏡）"),
    "reason.clinical_check_normal": ("Clinical thermometer read normal", "医療用体温計で平熱を確認"),
    "reason.already_handled": ("Already handled", "対応済み"),
    "reason.duplicate": ("Duplicate of another alert", "他のアラートと重複"),
    "reason.other": ("Other (explain in the details)", "その他（詳細に記入）"),
    "err.two_person": ("Refused by the two-person rule: you already decided this item in this round. The second decision must come from a different person.", "二人確認ルールにより拒否されました：このラウンドではすでに判断済みです。二人目の判断は別の人が行う必要があります。"),
    "err.claimed_by": ("{name} has claimed this item. Ask them, or a manager, to release it.", "{name} が担当中です。本人または店長に担当を外してもらってください。"),
    "err.final": ("This item is already decided; decisions are final.", "この項目は判断済みです。判断は変更できません。"),
    "err.reason": ("A dismissal needs a reason.", "却下には理由が必要です。"),
    "err.note_other": ("Please explain “other” in the details.", "「その他」の場合は詳細を記入してください。"),
    "err.csrf": ("The form expired. Reload the page and try again.", "フォームの有効期限が切れました。ページを再読み込みしてください。"),
    "err.forbidden": ("Your role does not allow this page.", "あなたの役割ではこのページを開けません。"),
    "err.not_found": ("Not found.", "見つかりません。"),
    "err.title": ("Not allowed", "アクセスできません"),
    # rules in plain words
    "rule.occupancy_over_capacity": ("More people stayed in the zone than its capacity allows, for several frames in a row.", "エリアの人数が定員を超えた状態が、連続したフレームで続きました。"),
    "rule.occupancy_back_under_capacity": ("The zone is back under its capacity.", "エリアの人数が定員以下に戻りました。"),
    "rule.body_temperature_over_threshold": ("The estimated body temperature is at or above the threshold. Confirm with a clinical thermometer before deciding.", "推定体温がしきい値以上です。判断の前に医療用体温計で確認してください。"),
    "rule.body_surface_temperature_over_threshold": ("The measured temperature is above the threshold. Confirm with a clinical thermometer before deciding.", "測定温度がしきい値を超えています。判断の前に医療用体温計で確認してください。"),
    "rule.mask_not_detected": ("No mask was seen on this face over several frames.", "複数のフレームでこの顔にマスクが確認できませんでした。"),
    "value.capacity": ("Capacity (people)", "定員（人）"),
    "value.count": ("People counted", "人数"),
    "value.consecutive_frames": ("Consecutive frames over capacity", "定員超過が続いたフレーム数"),
    "value.min_frames": ("Frames over capacity before an alert", "アラートまでのフレーム数"),
    "value.hysteresis": ("Re-arm margin (people)", "再通知までの余裕（人）"),
    "value.core_c": ("Estimated body temperature (°C)", "推定体温（°C）"),
    "value.raw_c": ("Camera reading, raw (°C)", "カメラ測定値・補正前（°C）"),
    "value.corrected_c": ("Camera reading, corrected (°C)", "カメラ測定値・補正後（°C）"),
    "value.ambient_c": ("Room temperature (°C)", "室温（°C）"),
    "value.celsius": ("Temperature (°C)", "温度（°C）"),
    "value.fever_threshold_c": ("Fever threshold (°C)", "発熱のしきい値（°C）"),
    "value.blackbody_set_point_c": ("Reference blackbody set point (°C)", "基準黒体の設定温度（°C）"),
    "value.blackbody_measured_c": ("Reference blackbody measured (°C)", "基準黒体の測定値（°C）"),
    "value.blackbody_expected_c": ("Reference blackbody expected (°C)", "基準黒体の期待値（°C）"),
    "value.blackbody_drift_c": ("Camera drift from the blackbody (°C)", "黒体によるカメラのずれ（°C）"),
    "value.interocular_px": ("Distance between the eyes (pixels)", "目の間隔（ピクセル）"),
    "value.p_mask": ("Mask probability", "マスク着用の確率"),
    "value.mask_threshold": ("Mask probability threshold", "マスク判定のしきい値"),
    "value.mean_person_score": ("Mean person detector score", "人物検出の平均スコア"),
    "value.clear_at_or_below": ("Cleared at or below (people)", "解消とみなす人数"),
    "value.zone": ("Zone", "エリア"),
    "value.occupancy_ratio": ("People per capacity", "定員に対する割合"),
    "value.frames": ("Frames measured", "測定フレーム数"),
    "value.face_track": ("Face (anonymous number on this camera)", "顔（このカメラでの匿名番号）"),
    "value.canthus_coupling": ("Inner eye corner to body temperature factor", "目頭温度から体温への係数"),
    "value.skin_emissivity": ("Skin emissivity", "皮膚の放射率"),
    "value.action": ("What to do", "対応"),
    "value.peak_count": ("Most people in the interval", "期間中の最大人数"),
    "value.unique_tracks": ("Different people in the interval", "期間中の人数（延べではない）"),
    "value.interval_s": ("Interval (s)", "集計期間（秒）"),
    "value.overcrowded_for_s": ("Over capacity for (s)", "定員超過の継続時間（秒）"),
    # stores
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
    "store.recent": ("Recent events", "最近のイベント"),
    "store.no_events": ("No events yet.", "イベントはまだありません。"),
    "store.open_item": ("open review item", "レビュー項目を開く"),
    "store.picture_at": ("Picture taken", "撮影時刻"),
    # audit
    "audit.title": ("Audit log", "監査ログ"),
    "audit.verify": ("Verify chain", "チェーンを検証"),
    "audit.intact": ("Chain intact: {checked} entries checked; head #{seq}.", "チェーンは正常です：{checked}件を検証、最新は #{seq}。"),
    "audit.empty_chain": ("The chain is empty.", "チェーンは空です。"),
    "audit.broken": ("Chain BROKEN at entry #{seq}: {reason}. {checked} entries before it are intact.", "チェーンが壊れています：項目 #{seq}（{reason}）。それ以前の{checked}件は正常です。"),
    "audit.show_broken": ("Show entry #{seq}", "項目 #{seq} を表示"),
    "audit.col.seq": ("#", "#"),
    "audit.col.at": ("When", "日時"),
    "audit.col.actor": ("Who", "実行者"),
    "audit.col.action": ("Action", "操作"),
    "audit.col.subject": ("Subject", "対象"),
    "audit.col.details": ("Details", "詳細"),
    "audit.col.hash": ("Hash", "ハッシュ"),
    "audit.action": ("Action", "操作"),
    "audit.actor": ("Actor", "実行者"),
    "audit.subject": ("Subject", "対象"),
    "audit.before": ("Up to entry #", "この番号まで #"),
    "audit.filter": ("Filter", "絞り込み"),
    "audit.older": ("Older entries", "さらに古い項目"),
    "audit.newer": ("Newest entries", "最新の項目"),
    "audit.none": ("No entries match.", "該当する項目はありません。"),
    "audit.total": ("{total} entries match", "該当 {total} 件"),
}


@dataclass(frozen=True, slots=True)
class Translator:
    """``t("key", **values)`` in one locale (``ja`` or ``en``)."""

    locale: str

    def __call__(self, key: str, **values: object) -> str:
        pair = MESSAGES.get(key)
        if pair is None:
            return key
        text = pair[1] if self.locale == "ja" else pair[0]
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in MESSAGES

    def event_type(self, event_type: str) -> str:
        key = f"type.{event_type}"
        return self(key) if key in MESSAGES else event_type

    def value_label(self, name: str) -> str:
        key = f"value.{name}"
        return self(key) if key in MESSAGES else name.replace("_", " ")
