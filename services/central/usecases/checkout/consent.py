"""The consent text members agree to, versioned, in English and Japanese.

A new wording is a new version (never edit a published one): a member's row records the version,
the language they read it in and the sha256 of the exact text, so what each person agreed to can
always be shown again.

>>> current().version, len(digest(current(), "ja"))
('2026-11', 64)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ConsentText:
    version: str
    purpose: tuple[str, str]  # (en, ja)
    retention: tuple[str, str]
    withdrawal: tuple[str, str]

    def text(self, language: str) -> str:
        i = 1 if language == "ja" else 0
        return "\n".join((self.purpose[i], self.retention[i], self.withdrawal[i]))


VERSIONS: dict[str, ConsentText] = {
    "2026-11": ConsentText(
        version="2026-11",
        purpose=(
            "Purpose: when you leave the store, the exit camera compares your face with your face template so the items "
            "in your basket are charged to your registered payment method. Only people who agreed are compared.",
            "目的：退店時に出口カメラがあなたの顔を登録済みの顔テンプレートと照合し、かごの商品を登録済みの支払い方法で決済します。"
            "照合の対象は同意した方だけです。",
        ),
        retention=(
            "Retention: we keep only numbers computed from your photos (no photos), encrypted with a key of your own, "
            "until you withdraw or 12 months after your last visit. Unclear matches go to staff; you are never charged "
            "automatically on a doubtful match.",
            "保存：写真は保存せず、写真から計算した数値だけをあなた専用の鍵で暗号化して保存します。"
            "同意の撤回、または最終来店から12か月で削除します。照合が不確かな場合は店員が確認し、自動では決済しません。",
        ),
        withdrawal=(
            "Withdrawal: at any time at the staff desk or the kiosk. Your key is deleted at once, which makes the "
            "template unreadable, also in backups.",
            "撤回：いつでもサービスカウンターまたはキオスクで撤回できます。鍵をすぐに削除するため、"
            "バックアップを含めてテンプレートは読み出せなくなります。",
        ),
    ),
}
CURRENT_VERSION = "2026-11"


def current() -> ConsentText:
    return VERSIONS[CURRENT_VERSION]


def digest(consent: ConsentText, language: str) -> str:
    """sha256 of the exact text shown in ``language`` (en | ja)."""
    return hashlib.sha256(f"{consent.version}\n{consent.text(language)}".encode()).hexdigest()
