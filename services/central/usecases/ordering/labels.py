"""Use case D's words in English and Japanese: the kiosk page and the staff's orders page."""

from __future__ import annotations

# key: (English, Japanese)
MESSAGES: dict[str, tuple[str, str]] = {
    "order.nav": ("Orders", "注文"),
    "order.title": ("Kiosk orders", "キオスクの注文"),
    "order.none": ("No orders yet.", "注文はまだありません。"),
    "order.id": ("Order", "注文番号"),
    "order.store": ("Store", "店舗"),
    "order.kiosk": ("Kiosk", "キオスク"),
    "order.items": ("Items", "商品"),
    "order.total": ("Total", "合計"),
    "order.time": ("Time", "時刻"),
    "order.source": ("Ordered by", "注文方法"),
    "order.source.airtouch": ("Air-touch", "エアタッチ"),
    "order.source.touch": ("Touch / mouse", "タッチ・マウス"),
    "order.source.phone": ("Phone", "スマートフォン"),
    "kiosk.title": ("Order here", "こちらでご注文ください"),
    "kiosk.intro": ("Point at an item and push your finger towards the screen — no need to touch it. Touch works too.",
                    "商品を指さし、画面に向かって指を押し出してください。画面に触れる必要はありません。タッチ操作もできます。"),
    "kiosk.menu": ("Menu", "メニュー"),
    "kiosk.basket": ("Your basket", "お買い物かご"),
    "kiosk.empty": ("Your basket is empty.", "かごは空です。"),
    "kiosk.order": ("Place order", "注文する"),
    "kiosk.clear": ("Clear", "クリア"),
    "kiosk.remove": ("Remove one", "1つ減らす"),
    "kiosk.sending": ("Sending your order…", "注文を送信しています…"),
    "kiosk.retrying": ("Connection problem; trying again…", "通信エラーのため再試行しています…"),
    "kiosk.placed": ("Thank you! Your order number is", "ありがとうございます。注文番号は"),
    "kiosk.failed": ("Your order could not be sent. Please ask a member of staff.", "注文を送信できませんでした。スタッフにお声がけください。"),
    "kiosk.phone": ("Prefer your phone? Scan to order there.", "スマートフォンで注文する場合は、こちらを読み取ってください。"),
    "kiosk.qr_alt": ("QR code of this ordering page", "この注文ページのQRコード"),
    "kiosk.yen": ("¥{amount}", "{amount}円"),
    "kiosk.not_found": ("This store does not take kiosk orders.", "この店舗ではキオスク注文を受け付けていません。"),
}
