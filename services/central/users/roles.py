"""Roles and what each may do in the dashboard.

=========  ==========================================================================
role       may
=========  ==========================================================================
staff      see the queue and stores, claim and decide review items
manager    all staff may, plus: decide escalated items, release others' claims,
           read the audit log, see faces where the store's profile is ``identified``,
           unlock accounts locked after failed sign-ins (of their store; not admins)
operator   see the queue (read-only) and the live store views (deploys and runs edges)
auditor    see the queue (read-only) and read and verify the audit log
admin      everything
=========  ==========================================================================

>>> Role.STAFF.allows(Permission.DECIDE), Role.STAFF.allows(Permission.AUDIT)
(True, False)
>>> Role.AUDITOR.allows(Permission.AUDIT), Role.AUDITOR.allows(Permission.DECIDE)
(True, False)
>>> may_see_faces(Role.MANAGER, "identified"), may_see_faces(Role.MANAGER, "standard"), may_see_faces(Role.STAFF, "identified")
(True, False, False)
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    VIEW = "view"  # the queue, review items, store views
    DECIDE = "decide"  # claim, release one's own claim, confirm, dismiss, escalate
    DECIDE_ESCALATED = "decide_escalated"  # settle an item reviewers disagreed on or escalated
    RELEASE_ANY = "release_any"  # release someone else's claim (they went home)
    AUDIT = "audit"  # browse and verify the audit chain
    SEE_FACES = "see_faces"  # unblurred faces, and only where the store's profile allows it
    UNLOCK_ACCOUNTS = "unlock_accounts"  # lift a lockout after repeated failed sign-ins


class Role(StrEnum):
    STAFF = "staff"
    MANAGER = "manager"
    OPERATOR = "operator"
    AUDITOR = "auditor"
    ADMIN = "admin"

    def allows(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self]


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.STAFF: frozenset({Permission.VIEW, Permission.DECIDE}),
    Role.MANAGER: frozenset({
        Permission.VIEW, Permission.DECIDE, Permission.DECIDE_ESCALATED, Permission.RELEASE_ANY,
        Permission.AUDIT, Permission.SEE_FACES, Permission.UNLOCK_ACCOUNTS,
    }),
    Role.OPERATOR: frozenset({Permission.VIEW}),
    Role.AUDITOR: frozenset({Permission.VIEW, Permission.AUDIT}),
    Role.ADMIN: frozenset(Permission),
}

#: Privacy profiles under which a role with ``SEE_FACES`` may see faces unblurred. Under
#: ``standard`` the edge blurs before upload, so there is nothing to show; under ``minimal`` no
#: image exists at all.
FACE_PROFILES = frozenset({"identified"})


def may_see_faces(role: Role, privacy_profile: str) -> bool:
    """True when a viewer with ``role`` may see faces unblurred in a store with this profile."""
    return role.allows(Permission.SEE_FACES) and privacy_profile in FACE_PROFILES
