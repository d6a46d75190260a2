"""The state machine, driven through the services as the pages and the API drive it.

Each transition, and each refusal: a step not allowed from the current status (TransitionNotAllowed),
by the wrong role (PermissionDenied), or with bad input (ValidationError naming the field) changes
nothing — not the status, not the timeline, not the follow-ups.
"""

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from governance.models import Department, User
from petitions import services
from petitions.deadlines import working_hours_deadline
from petitions.models import FollowUp, Petition, PetitionEvent, Status
from petitions.workflow import TransitionNotAllowed, may

from ..conftest import World
from ..factories import CategoryFactory, HouseholdFactory

# --- what a step may change (test_scope checks it too)


def snapshot(petition_id: int) -> tuple[Any, ...]:
    """Everything a step may change: the petition row, its timeline and its follow-ups."""
    return (
        Petition.objects.filter(pk=petition_id).values().get(),
        list(PetitionEvent.objects.filter(petition_id=petition_id).values()),
        list(FollowUp.objects.filter(petition_id=petition_id).values()),
    )


def last_event(p: Petition) -> PetitionEvent:
    return PetitionEvent.objects.filter(petition=p).select_related("actor", "department").latest("id")


# --- each transition


@pytest.mark.django_db
class TestTransitions:
    def test_register_opens_a_numbered_petition_with_a_resolve_deadline(self, world: World) -> None:
        p = world.petition(reporter_name="张三", reporter_phone="13812345678")
        p.refresh_from_db()
        assert p.status == Status.REGISTERED
        local = timezone.localtime(p.registered_at)
        assert p.number == f"{local:%Y%m%d}-{p.pk:06d}"
        assert p.resolve_due is not None and p.resolve_due > p.registered_at
        assert p.current_due == p.resolve_due
        assert p.masked_phone == "138****5678"
        event = last_event(p)
        assert (event.action, event.actor, event.from_status, event.to_status) == (
            "register", world.worker, "", Status.REGISTERED
        )

    def test_dispatch_sends_it_to_the_department_and_starts_the_accept_clock(self, world: World) -> None:
        p = world.petition(stage="dispatched", dispatch_note="请住建局处理")
        p.refresh_from_db()
        assert p.status == Status.DISPATCHED
        assert p.department == world.housing
        assert p.dispatched_at is not None
        c = world.category  # the accept clock runs on the category's working hours
        assert p.accept_due == working_hours_deadline(p.dispatched_at, c.accept_hours, c.work_starts, c.work_ends).at
        assert p.current_due == p.accept_due
        event = last_event(p)
        assert (event.action, event.actor, event.from_status, event.to_status, event.note) == (
            "dispatch", world.official, Status.REGISTERED, Status.DISPATCHED, "请住建局处理"
        )
        assert event.department == world.housing

    def test_accept_reports_in_and_the_resolve_deadline_becomes_current(self, world: World) -> None:
        p = world.petition(stage="accepted", accept_note="已签收")
        p.refresh_from_db()
        assert p.status == Status.ACCEPTED
        assert p.accepted_at is not None and p.dispatched_at is not None
        assert p.accepted_at >= p.dispatched_at
        assert p.current_due == p.resolve_due
        event = last_event(p)
        assert (event.action, event.actor, event.from_status, event.to_status, event.note) == (
            "accept", world.dept, Status.DISPATCHED, Status.ACCEPTED, "已签收"
        )

    def test_return_sends_it_back_to_the_street_with_the_reason(self, world: World) -> None:
        p = world.petition(stage="dispatched")
        services.petition_return(actor=world.dept, petition_id=p.pk, reason="不属于本部门职责")
        p.refresh_from_db()
        assert p.status == Status.REGISTERED
        assert p.department is None and p.dispatched_at is None and p.accept_due is None
        assert p.current_due == p.resolve_due
        event = last_event(p)
        assert (event.action, event.actor, event.from_status, event.to_status, event.note) == (
            "return", world.dept, Status.DISPATCHED, Status.REGISTERED, "不属于本部门职责"
        )
        # The timeline still says which department sent it back.
        assert event.department == world.housing

    def test_department_resolves_an_accepted_petition(self, world: World) -> None:
        p = world.petition(stage="resolved", result="已更换防水层")
        p.refresh_from_db()
        assert p.status == Status.RESOLVED
        assert p.result == "已更换防水层"
        assert p.resolved_on_grid is False
        assert p.follow_up_due is not None and p.resolved_at is not None
        assert p.follow_up_due > p.resolved_at
        assert p.current_due == p.follow_up_due
        event = last_event(p)
        assert (event.action, event.actor, event.from_status, event.to_status, event.note) == (
            "resolve", world.dept, Status.ACCEPTED, Status.RESOLVED, "已更换防水层"
        )

    def test_worker_resolves_on_the_grid_straight_from_registered(self, world: World) -> None:
        p = world.petition(stage="resolved_on_grid")
        p.refresh_from_db()
        assert p.status == Status.RESOLVED
        assert p.resolved_on_grid is True
        assert p.department is None and p.dispatched_at is None
        assert p.current_due == p.follow_up_due
        event = last_event(p)
        assert (event.action, event.actor, event.from_status, event.to_status) == (
            "resolve_on_grid", world.worker, Status.REGISTERED, Status.RESOLVED
        )

    def test_satisfied_follow_up_closes(self, world: World) -> None:
        p = world.petition(stage="closed")
        p.refresh_from_db()
        assert p.status == Status.CLOSED
        assert p.closed_at is not None and p.current_due is None
        follow_up = FollowUp.objects.get(petition=p)
        assert (follow_up.reached, follow_up.solved, follow_up.satisfaction, follow_up.by) == (
            True, True, "satisfied", world.worker
        )
        event = last_event(p)
        assert (event.action, event.from_status, event.to_status) == ("follow_up", Status.RESOLVED, Status.CLOSED)

    def test_unreached_follow_up_is_recorded_and_the_petition_waits(self, world: World) -> None:
        p = world.petition(stage="resolved")
        services.petition_follow_up(actor=world.worker, petition_id=p.pk, reached=False, note="电话无人接听")
        p.refresh_from_db()
        assert p.status == Status.RESOLVED and p.closed_at is None
        assert p.current_due == p.follow_up_due
        follow_up = FollowUp.objects.get(petition=p)
        assert (follow_up.reached, follow_up.solved, follow_up.satisfaction) == (False, None, "")
        assert last_event(p).action == "follow_up_unreached"

    def test_dissatisfied_follow_up_reopens_to_the_same_department(self, world: World) -> None:
        p = world.petition(stage="resolved")
        services.petition_follow_up(
            actor=world.worker, petition_id=p.pk, reached=True, solved=False, satisfaction="dissatisfied",
            note="仍然漏水",
        )
        p.refresh_from_db()
        assert p.status == Status.DISPATCHED
        assert p.department == world.housing
        assert p.rehandle_count == 1 and p.escalated is False
        assert p.accepted_at is None and p.resolved_at is None
        assert p.dispatched_at is not None
        c = world.category  # the accept clock runs on the category's working hours
        assert p.accept_due == working_hours_deadline(p.dispatched_at, c.accept_hours, c.work_starts, c.work_ends).at
        assert p.current_due == p.accept_due
        event = last_event(p)
        assert (event.action, event.actor, event.from_status, event.to_status, event.note) == (
            "reopen", world.worker, Status.RESOLVED, Status.DISPATCHED, "仍然漏水"
        )
        # The department sees it again and can report in.
        services.petition_accept(actor=world.dept, petition_id=p.pk)

    def test_dissatisfied_after_resolving_on_the_grid_reopens_on_the_grid(self, world: World) -> None:
        p = world.petition(stage="resolved_on_grid")
        services.petition_follow_up(
            actor=world.worker, petition_id=p.pk, reached=True, solved=False, satisfaction="very_dissatisfied"
        )
        p.refresh_from_db()
        assert p.status == Status.REGISTERED
        assert p.department is None
        assert p.rehandle_count == 1
        assert p.resolved_on_grid is False and p.resolved_at is None
        assert p.current_due == p.resolve_due
        assert last_event(p).action == "reopen_on_grid"

    def test_cancel_with_a_reason(self, world: World) -> None:
        p = world.petition(stage="cancelled", cancel_reason="重复登记")
        p.refresh_from_db()
        assert p.status == Status.CANCELLED
        assert p.current_due is None and not p.is_open
        event = last_event(p)
        assert (event.action, event.actor, event.from_status, event.to_status, event.note) == (
            "cancel", world.official, Status.REGISTERED, Status.CANCELLED, "重复登记"
        )

    def test_leadership_may_take_any_step(self, world: World) -> None:
        p = world.petition()
        services.petition_dispatch(actor=world.admin, petition_id=p.pk, department=world.police)
        services.petition_accept(actor=world.admin, petition_id=p.pk)
        p.refresh_from_db()
        assert p.status == Status.ACCEPTED and p.department == world.police

    def test_the_third_rehandle_escalates(self, world: World) -> None:
        p = world.petition(stage="resolved")
        seen = []
        for _ in range(3):
            services.petition_follow_up(
                actor=world.worker, petition_id=p.pk, reached=True, solved=False, satisfaction="dissatisfied"
            )
            services.petition_accept(actor=world.dept, petition_id=p.pk)
            services.petition_resolve(actor=world.dept, petition_id=p.pk, result="再次处理")
            p.refresh_from_db()
            seen.append((p.rehandle_count, p.escalated))
        assert seen == [(1, False), (2, False), (3, True)]


# --- refusals: not from this status, not by this role; nothing changes


def _dispatch(w: World, actor: User, p: Petition) -> Petition:
    return services.petition_dispatch(actor=actor, petition_id=p.pk, department=w.housing)


def _accept(w: World, actor: User, p: Petition) -> Petition:
    return services.petition_accept(actor=actor, petition_id=p.pk)


def _return(w: World, actor: User, p: Petition) -> Petition:
    return services.petition_return(actor=actor, petition_id=p.pk, reason="不归我们管")


def _resolve(w: World, actor: User, p: Petition) -> Petition:
    return services.petition_resolve(actor=actor, petition_id=p.pk, result="处理完毕")


def _follow_up(w: World, actor: User, p: Petition) -> Petition:
    return services.petition_follow_up(
        actor=actor, petition_id=p.pk, reached=True, solved=True, satisfaction="satisfied"
    )


def _unhappy(w: World, actor: User, p: Petition) -> Petition:
    return services.petition_follow_up(
        actor=actor, petition_id=p.pk, reached=True, solved=False, satisfaction="dissatisfied"
    )


def _cancel(w: World, actor: User, p: Petition) -> Petition:
    return services.petition_cancel(actor=actor, petition_id=p.pk, reason="居民撤回")


Step = Callable[[World, User, Petition], Petition]

NOT_FROM_THIS_STATUS: list[tuple[str, str, Step]] = [
    ("registered", "admin", _accept),
    ("registered", "admin", _return),
    ("registered", "worker", _follow_up),
    ("dispatched", "official", _dispatch),
    ("dispatched", "official", _cancel),
    ("dispatched", "dept", _resolve),
    ("dispatched", "worker", _follow_up),
    ("accepted", "dept", _accept),
    ("accepted", "dept", _return),
    ("accepted", "official", _dispatch),
    ("accepted", "worker", _unhappy),
    ("resolved", "dept", _resolve),
    ("resolved", "official", _cancel),
    ("resolved_on_grid", "admin", _resolve),
    ("closed", "worker", _follow_up),
    ("closed", "worker", _unhappy),
    ("closed", "admin", _resolve),
    ("cancelled", "official", _dispatch),
    ("cancelled", "admin", _resolve),
    ("cancelled", "official", _cancel),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("stage", "who", "step"), NOT_FROM_THIS_STATUS)
def test_step_not_allowed_from_the_current_status_changes_nothing(
    world: World, stage: str, who: str, step: Step
) -> None:
    p = world.petition(stage=stage)
    before = snapshot(p.pk)
    with pytest.raises(TransitionNotAllowed) as err:
        step(world, getattr(world, who), p)
    assert snapshot(p.pk) == before
    # The message names, in Chinese, the status it is in, so the user knows why.
    assert str(Status(p.status).label) in str(err.value)


WRONG_ROLE: list[tuple[str, str, Step]] = [
    ("registered", "worker", _dispatch),
    ("registered", "worker", _cancel),
    ("dispatched", "official", _accept),
    ("dispatched", "worker", _accept),
    ("dispatched", "official", _return),
    ("accepted", "official", _resolve),
    ("accepted", "worker", _resolve),
    ("resolved", "dept", _follow_up),
    ("resolved", "dept", _unhappy),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("stage", "who", "step"), WRONG_ROLE)
def test_step_by_the_wrong_role_is_forbidden_and_changes_nothing(
    world: World, stage: str, who: str, step: Step
) -> None:
    p = world.petition(stage=stage)
    before = snapshot(p.pk)
    with pytest.raises(PermissionDenied):
        step(world, getattr(world, who), p)
    assert snapshot(p.pk) == before


@pytest.mark.django_db
def test_may_tells_the_pages_which_buttons_to_show(world: World) -> None:
    p = world.petition(stage="dispatched")
    assert may(world.dept, p, "accept") and may(world.dept, p, "return")
    assert not may(world.police_staff, p, "accept")
    assert not may(world.official, p, "accept")
    assert not may(world.dept, p, "resolve")
    assert may(world.admin, p, "accept")


# --- refusals: bad input; nothing changes


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("stage", "who", "call", "field"),
    [
        ("registered", "official", lambda w, a, p: services.petition_cancel(actor=a, petition_id=p.pk, reason="  "),
         "reason"),
        ("dispatched", "dept", lambda w, a, p: services.petition_return(actor=a, petition_id=p.pk, reason=""),
         "reason"),
        ("accepted", "dept", lambda w, a, p: services.petition_resolve(actor=a, petition_id=p.pk, result=" "),
         "result"),
        ("registered", "worker", lambda w, a, p: services.petition_resolve(actor=a, petition_id=p.pk, result=""),
         "result"),
        ("resolved", "worker", lambda w, a, p: services.petition_follow_up(
            actor=a, petition_id=p.pk, reached=True, solved=True, satisfaction=""), "satisfaction"),
        ("resolved", "worker", lambda w, a, p: services.petition_follow_up(
            actor=a, petition_id=p.pk, reached=True, satisfaction="satisfied"), "solved"),
        ("resolved", "worker", lambda w, a, p: services.petition_follow_up(
            actor=a, petition_id=p.pk, reached=True, solved=True, satisfaction="happy"), "satisfaction"),
        ("registered", "official", lambda w, a, p: services.petition_dispatch(
            actor=a, petition_id=p.pk, department=Department.objects.create(code="gone", name="撤销局", is_active=False)
        ), "department"),
    ],
    ids=["cancel-no-reason", "return-no-reason", "resolve-no-result", "resolve-on-grid-no-result",
         "follow-up-no-satisfaction", "follow-up-no-solved", "follow-up-bad-satisfaction",
         "dispatch-inactive-department"],
)
def test_bad_input_names_the_field_and_changes_nothing(
    world: World, stage: str, who: str, call: Step, field: str
) -> None:
    p = world.petition(stage=stage)
    before = snapshot(p.pk)
    with pytest.raises(ValidationError) as err:
        call(world, getattr(world, who), p)
    assert field in err.value.message_dict
    assert snapshot(p.pk) == before


def _counts() -> tuple[int, int]:
    return Petition.objects.count(), PetitionEvent.objects.count()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("title", lambda w: {"title": "   "}),
        ("description", lambda w: {"description": ""}),
        ("description", lambda w: {"description": "漏" * 100_000}),
        ("grid", lambda w: {"grid": w.foreign_grid}),
        ("category", lambda w: {"category": CategoryFactory(is_active=False)}),
        ("reporter_phone", lambda w: {"reporter_phone": "1381234567x"}),
        ("reporter_phone", lambda w: {"reporter_phone": "12345"}),
        ("household", lambda w: {"household": HouseholdFactory(building__grid=w.other_grid_same_street)}),
        ("priority", lambda w: {"priority": "whenever"}),
    ],
    ids=["empty-title", "empty-description", "100k-description", "grid-outside-scope", "inactive-category",
         "phone-with-letter", "short-phone", "household-of-another-grid", "unknown-priority"],
)
def test_register_refuses_bad_input_naming_the_field_and_writes_nothing(
    world: World, field: str, change: Callable[[World], dict[str, Any]]
) -> None:
    fields: dict[str, Any] = {
        "actor": world.worker,
        "grid": world.grid,
        "category": world.category,
        "title": "楼道堆物",
        "description": "5栋楼道堆放杂物，堵塞消防通道",
        **change(world),
    }
    before = _counts()
    with pytest.raises(ValidationError) as err:
        services.petition_register(**fields)
    assert field in err.value.message_dict
    assert _counts() == before


@pytest.mark.django_db
def test_register_reports_every_bad_field_at_once(world: World) -> None:
    with pytest.raises(ValidationError) as err:
        services.petition_register(
            actor=world.worker, grid=world.foreign_grid, category=world.category, title="", description="x",
            reporter_phone="110",
        )
    assert {"grid", "title", "reporter_phone"} <= set(err.value.message_dict)
    assert _counts() == (0, 0)


@pytest.mark.django_db
def test_department_staff_cannot_register(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.petition_register(
            actor=world.dept, grid=world.grid, category=world.category, title="t", description="d"
        )
    assert _counts() == (0, 0)


@pytest.mark.django_db
def test_register_accepts_a_household_of_the_grid_and_a_description_at_the_limit(world: World) -> None:
    household = HouseholdFactory(building__grid=world.grid)
    p = world.petition(household=household, description="漏" * 4000)
    p.refresh_from_db()
    assert p.household == household and len(p.description) == 4000
