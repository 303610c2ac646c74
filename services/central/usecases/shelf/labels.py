"""Use case I's labels (English, Japanese): event types and the shelf page."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "type.shelf.gap": ("Shelf gap", "棚の欠品"),
    "type.shelf.refilled": ("Shelf refilled", "棚の補充完了"),
    "shelf.nav": ("Shelves", "棚"),
    "shelf.title": ("Shelves · {store}", "棚 · {store}"),
    "shelf.intro": (
        "Shelf cameras find empty facings per planogram segment; a gap becomes a restock task when enough units "
        "are missing and the back room has stock. A robot (VDA 5050) takes it when one is free and the item suits "
        "it; otherwise staff do. The task closes when the camera sees the shelf full again or staff confirm.",
        "棚カメラが棚割りの区画ごとに空きフェイスを検出します。不足数が閾値以上でバックヤードに在庫があれば補充タスクを作成します。"
        "空いているロボット（VDA 5050）が扱える商品ならロボットに、そうでなければスタッフに割り当てます。"
        "カメラで棚が埋まったことを確認するか、スタッフが確認するとタスクは完了します。"),
    "shelf.gaps": ("Current gaps", "現在の欠品"),
    "shelf.no_gaps": ("No open gaps on this store's shelf cameras.", "この店舗の棚カメラに未解決の欠品はありません。"),
    "shelf.camera": ("Camera {camera}", "カメラ {camera}"),
    "shelf.segment": ("Segment", "区画"),
    "shelf.sku": ("SKU", "商品"),
    "shelf.units": ("Units", "数量"),
    "shelf.missing": ("{units} missing ({share} % empty)", "{units} 個不足（空き {share} %）"),
    "shelf.tasks": ("Open tasks", "未完了のタスク"),
    "shelf.done_tasks": ("Recently done", "最近完了したタスク"),
    "shelf.no_tasks": ("No open restock tasks.", "未完了の補充タスクはありません。"),
    "shelf.assignee": ("Who", "担当"),
    "shelf.assignee.robot": ("Robot {robot}", "ロボット {robot}"),
    "shelf.assignee.staff": ("Staff", "スタッフ"),
    "shelf.state": ("State", "状態"),
    "shelf.state.open": ("Open", "未完了"),
    "shelf.state.escalated": ("Escalated", "エスカレーション"),
    "shelf.state.done": ("Done", "完了"),
    "shelf.order": ("Robot order", "ロボット指示"),
    "shelf.priority": ("Priority", "優先度"),
    "shelf.priority_hint": ("units × sales per day ({source})", "数量 × 1日の販売数（{source}）"),
    "shelf.source.insights": ("POS sales", "POS 販売実績"),
    "shelf.source.config": ("configured rate", "設定値"),
    "shelf.gap_at": ("Gap seen", "欠品検出"),
    "shelf.open_for": ("Open for", "経過時間"),
    "shelf.refill_s": ("Gap to refill", "欠品から補充まで"),
    "shelf.done_by.camera": ("camera", "カメラ確認"),
    "shelf.done_by.staff": ("staff", "スタッフ確認"),
    "shelf.confirm": ("Refilled (confirm)", "補充済み（確認）"),
    "shelf.confirmed": ("Task confirmed as refilled.", "補充済みとして確認しました。"),
    "shelf.reason.no_robot_free": ("no robot free", "空きロボットなし"),
    "shelf.reason.not_robot_handleable": ("not for robots", "ロボット対象外"),
    "shelf.reason.robot_failed": ("robot failed", "ロボット故障"),
    "shelf.reason.robot_timeout": ("robot timed out", "ロボット応答なし"),
    "shelf.reason.robot_offline": ("robot offline", "ロボット切断"),
    "shelf.robots": ("Robots", "ロボット"),
    "shelf.battery": ("Battery", "バッテリー"),
    "shelf.connection": ("Connection", "接続"),
    "shelf.history": ("History", "履歴"),
    "shelf.seconds": ("{s} s", "{s} 秒"),
}
