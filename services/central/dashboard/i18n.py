"""The dashboard's words in Japanese and English.

Japanese is the default for stores in Japan; a viewer switches with the language links (a
cookie), or an account carries its own ``locale``. Missing keys fall back to English, then to
the key itself, so a new string never breaks a page.

This module holds the generic UI strings; each use case's labels (event types, rules, values,
its own dismissal reasons and pages) live with the use case in
``services/central/usecases/<name>/labels.py`` and join the catalogue here.

>>> Translator("ja")("nav.queue"), Translator("en")("nav.queue")
('レビュー待ち', 'Review queue')
>>> Translator("en")("queue.overdue_by", minutes=3)
'overdue by 3 min'
>>> Translator("en").event_type("zone.overcrowded"), Translator("en").event_type("custom.thing")
('Zone over capacity', 'custom.thing')
"""

from __future__ import annotations

from dataclasses import dataclass

from services.central.usecases import merge_messages

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

#: The generic strings plus every use case's labels.
CATALOGUE = merge_messages(MESSAGES)


@dataclass(frozen=True, slots=True)
class Translator:
    """``t("key", **values)`` in one locale (``ja`` or ``en``)."""

    locale: str

    def __call__(self, key: str, **values: object) -> str:
        pair = CATALOGUE.get(key)
        if pair is None:
            return key
        text = pair[1] if self.locale == "ja" else pair[0]
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in CATALOGUE

    def event_type(self, event_type: str) -> str:
        key = f"type.{event_type}"
        return self(key) if key in CATALOGUE else event_type

    def value_label(self, name: str) -> str:
        key = f"value.{name}"
        return self(key) if key in CATALOGUE else name.replace("_", " ")
