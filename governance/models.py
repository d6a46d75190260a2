"""What every app shares: the user with their scope, and the district's departments."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .scope import Scope


class Department(models.Model):
    """A functional department of the district (职能部门) that petitions are dispatched to."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    webhook_url = models.URLField(
        _("group robot webhook"),
        blank=True,
        help_text=_("WeCom or DingTalk group robot address; overdue reminders are posted there as JSON."),
    )

    # Reference data: every signed-in user reads the list of departments.
    scope = Scope(public=True)
    # The audit trail of admin changes (django-simple-history): who, when, before, after.
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class Satisfaction(models.TextChoices):
    """The national five-level satisfaction scale (好差评, GB/T 39735): petitions' follow-ups, wishes' thanks."""

    VERY_SATISFIED = "very_satisfied", _("very satisfied")
    SATISFIED = "satisfied", _("satisfied")
    BASICALLY_SATISFIED = "basically_satisfied", _("basically satisfied")
    DISSATISFIED = "dissatisfied", _("dissatisfied")
    VERY_DISSATISFIED = "very_dissatisfied", _("very dissatisfied")


SATISFIED_LEVELS = frozenset(
    {Satisfaction.VERY_SATISFIED, Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED}
)


class User(AbstractUser):
    """An account. Its scope is a node of the chain or a department; admins see everything."""

    class Role(models.TextChoices):
        WORKER = "worker", _("grid worker")
        OFFICIAL = "official", _("street official")
        DEPARTMENT = "department", _("department staff")
        LEADER = "leader", _("district leadership")

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.WORKER)
    scope_node = models.ForeignKey(
        "parties.Organization",
        verbose_name=_("scope (chain node)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )

    # Officials see the accounts under their node; department staff, their colleagues.
    scope = Scope(node="scope_node", department="department")
    # The audit trail of admin changes (django-simple-history): who, when, before, after.
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def sees_everything(self) -> bool:
        return self.is_superuser or self.role == self.Role.LEADER

    @property
    def is_department_staff(self) -> bool:
        """Scoped to a department rather than a place on the chain (and not district-wide)."""
        return self.role == self.Role.DEPARTMENT and not self.sees_everything

    def scope_label(self) -> str:
        if self.sees_everything:
            return str(_("the whole district"))
        if self.is_department_staff and self.department_id:
            return str(self.department)
        if self.scope_node_id:
            return self.scope_node.path_label()  # type: ignore[union-attr]
        return str(_("no scope assigned"))


class PersonalDataAccess(models.Model):
    """Who saw a resident's personal data whole, and when (PIPL: log who viewed it)."""

    user = models.ForeignKey(User, verbose_name=_("viewer"), on_delete=models.PROTECT, related_name="+")
    object_type = models.CharField(_("object type"), max_length=50)
    object_id = models.PositiveBigIntegerField(_("object id"))
    fields = models.CharField(_("fields"), max_length=100)
    at = models.DateTimeField(_("at"), db_index=True)
    # The page on which it was seen: its path, and the name of its view (which screen it was).
    page = models.CharField(_("page"), max_length=200, blank=True)
    view_name = models.CharField(_("view"), max_length=100, blank=True)

    # The log itself is for the district only.
    scope = Scope()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data access log")

    def __str__(self) -> str:
        return f"{self.user} {self.object_type}#{self.object_id} {timezone.localtime(self.at):%Y-%m-%d %H:%M}"
