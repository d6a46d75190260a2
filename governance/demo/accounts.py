"""The demo accounts' password: hashed once for all of them, since they share it."""

from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import password_changed

from governance.models import User


@dataclass(frozen=True)
class DemoPassword:
    """The demo password with its hash, made once: the hasher (Argon2) costs about a third of a second
    a call, and a dozen demo accounts made ``make run`` wait four seconds for the same password."""

    raw: str = field(repr=False)
    hashed: str = field(repr=False)

    @classmethod
    def of(cls, raw: str) -> "DemoPassword":
        return cls(raw, make_password(raw))

    def give(self, user: User) -> None:
        """What ``user.set_password(raw)`` and saving it do (the saved row, the ``password_changed``
        hook that revokes API tokens), with the hash made once."""
        user.password = self.hashed
        user.save(update_fields=["password"])
        password_changed(self.raw, user)
