"""Who is acting and in which language: passed explicitly, never a global."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    """An authenticated user as the kernel sees it during one request."""

    id: int
    username: str
    is_admin: bool = False
    department_id: int | None = None
    #: ``(app, role)`` pairs, read when the caller authenticates: a role change applies from the
    #: next request on, and no enforcement step needs a database round trip to know it.
    roles: frozenset[tuple[str, str]] = frozenset()

    def roles_in(self, app: str) -> frozenset[str]:
        return frozenset(role for role_app, role in self.roles if role_app == app)


@dataclass(frozen=True)
class Context:
    """The caller of a service method. ``user`` is None only for the system itself."""

    user: Principal | None = None
    locale: str = "en"
    request_id: str | None = None
    #: Free-form tags for listeners (e.g. ``{"source": "import"}``).
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None

    @property
    def is_system(self) -> bool:
        return self.user is None


SYSTEM = Context()
