"""Dashboard users: roles and what each may do (``roles``), argon2 passwords (``passwords``),
accounts (``service``), signed-in sessions with CSRF tokens (``sessions``), ``anshin users`` (``cli``)."""

from services.central.users.roles import Permission, Role, may_see_faces
from services.central.users.service import UserError, actor_of

__all__ = ["Permission", "Role", "UserError", "actor_of", "may_see_faces"]
