"""A demo district that looks lived in: twelve weeks of petitions in every street and town.

Every step goes through the real services (``petitions.services``, ``petitions.workflow``) and the
overdue scan (``petitions.reminders``), with the clock moved to the moment each step happens
(time-machine): registration, the worker's whistle, dispatch, returns, acceptance, extensions asked
and approved, resolution on the grid or by a department, follow-up calls, re-handling, cancelling.
All petitions' steps run in one timeline, interleaved with the scans of each working morning and
afternoon, so reminders and escalations (督办) are recorded when they fell due, as beat would have.

What a visitor sees: weekly trends with a shape (a rainy-season bump in leaks), petitions still
open in the last weeks, some overdue now, some extended, re-handled, escalated; every demo account
has work waiting on its home page. Deterministic (one seeded generator), idempotent (a district with
history is left alone), and fast enough for ``make run`` (see the README for the figure).
"""

import datetime as dt
import heapq
import itertools
import random
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from functools import lru_cache

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from governance.models import Department, User
from grids.models import Grid, GridAssignment
from parties.models import Organization
from petitions import metrics, reminders, services
from petitions.deadlines import is_working_day
from petitions.models import Category, Notification, Petition, PetitionEvent

WEEKS = 12
# Petitions a grid logs in an average week, by kind of grid.
RATE: dict[str, float] = {Grid.Kind.URBAN: 1.1, Grid.Kind.DEDICATED: 0.5, Grid.Kind.RURAL: 0.8}
# The shape of the twelve weeks, oldest first: a quiet start, the rainy-season leaks, a calmer end.
SEASON = (0.6, 0.7, 0.9, 1.0, 1.3, 1.5, 1.2, 1.0, 1.1, 1.3, 1.2, 1.0)
# The overdue scan runs (twice a working day) over the last weeks only: what fell due before is
# recorded by the first scan, as when beat starts. Delivering every reminder of twelve weeks would
# double the seed's time for notifications nobody reads.
SCANNED = dt.timedelta(weeks=3)

# Title, description, category code, weight.
STORIES = [
    ("顶楼漏水", "连续降雨后顶楼住户家中漏水，墙面发霉，请求维修。", "roof-leak", 5),
    ("外墙渗水", "外墙瓷砖脱落，雨天渗水到室内。", "roof-leak", 3),
    ("楼道消防通道被占", "楼道内堆放杂物和电动车，堵塞消防通道。", "fire-lane", 3),
    ("小区东门消防通道停车", "小区东门消防通道长期停放私家车。", "fire-lane", 2),
    ("独居老人需要探访", "独居老人近几天未出门，邻居担心其身体状况。", "elderly-visit", 3),
    ("深夜装修噪声", "楼上住户深夜装修，影响休息。", "noise", 3),
    ("广场舞音响扰民", "晚上广场舞音响声音过大，附近居民无法休息。", "noise", 2),
    ("邻里漏水纠纷", "楼上漏水到楼下，双方协商不成，请求调解。", "neighbour-dispute", 2),
    ("宅基地界址纠纷", "两户村民对宅基地界址有争议，请求村里调解。", "neighbour-dispute", 1),
    ("燃气管道异味", "厨房附近有燃气味，需要排查隐患。", "gas-hazard", 2),
    ("咨询医保缴费", "居民咨询城乡居民医保缴费时间和标准。", "policy-consult", 3),
    ("咨询养老金认证", "老人不会在手机上做养老金资格认证。", "policy-consult", 2),
    ("代办高龄津贴", "80岁以上老人申请高龄津贴，行动不便。", "errand", 2),
    ("代办残疾人证", "残疾居民需要办理残疾人证，请网格员代办。", "errand", 1),
    ("小餐馆卫生问题", "巷口小餐馆后厨卫生差，居民投诉。", "food-safety", 2),
    ("流动人口信息登记", "新搬来的租户需要登记人口信息。", "info-update", 2),
    ("垃圾分类意见收集", "居民对垃圾分类投放点位置有意见。", "survey", 1),
]

# What becomes of a petition, with weights: how far along the loop and by which road.
FATES = {
    "on_grid": 24,  # resolved on the grid (网格内解决), followed up
    "department": 34,  # dispatched, accepted, resolved, followed up
    "whistle": 12,  # reported up by the worker (吹哨), dispatched by the street, …
    "returned": 6,  # sent to the wrong department, returned, dispatched again
    "reopened": 7,  # the resident is dissatisfied: re-handled (重办)
    "extended": 7,  # the department asks for more time, the street approves (延期)
    "cancelled": 4,  # a duplicate
    "stuck": 2,  # dispatched and never accepted: overdue, escalated by the scan
}
# Where the wrong department of a returned petition is taken from.
WRONG_DEPARTMENT = {"housing": "urban", "urban": "housing", "police": "justice", "justice": "police"}

Step = Generator[dt.datetime | None, None, None]
# The seed's name generator (governance.demo.seed._name), handed in: the seed imports this module.
Namer = Callable[[random.Random], str]


@dataclass
class _Cast:
    """Who acts: the grids' workers, the streets' officials, the departments' staff."""

    admin: User
    name: Namer
    registrar: dict[int, User] = field(default_factory=dict)  # by grid id
    official: dict[int, User] = field(default_factory=dict)  # by tree id
    staff: dict[int, User] = field(default_factory=dict)  # by department id


def seed_lived_in(*, name: Namer, log: Callable[[str], object] = print) -> int:
    """Twelve weeks of petitions in every street and town; returns how many it made (0 if there already).

    ``name`` draws a person's name (for residents and the accounts made here) from a generator.
    """
    import time_machine  # the seed's clock; the services read timezone.now()

    now = timezone.now()
    if PetitionEvent.objects.filter(at__lt=now - dt.timedelta(days=14)).exists():
        return 0
    rng = random.Random(11)
    with transaction.atomic():  # one commit: SQLite (``make run``) pays one fsync, not thousands
        cast = _cast(rng, name)
        categories = {c.code: c for c in Category.objects.select_related("default_department")}
        departments = {d.code: d for d in Department.objects.all()}
        timeline: list[tuple[dt.datetime, int, Step]] = []
        order = itertools.count()

        def schedule(step: Step) -> None:
            at = next(step)
            if at is not None and at < now:
                heapq.heappush(timeline, (at, next(order), step))

        made = 0
        start = now - dt.timedelta(weeks=WEEKS)
        for grid in Grid.objects.select_related("branch").order_by("code"):
            for week, share in enumerate(SEASON):
                for _ in range(_how_many(rng, RATE[grid.kind] * share)):
                    registered = _working(start + dt.timedelta(weeks=week, days=rng.uniform(0, 7)), rng)
                    if registered >= now - dt.timedelta(hours=1):
                        continue
                    title, text, code, _weight = rng.choices(STORIES, weights=[s[3] for s in STORIES])[0]
                    fate = rng.choices(list(FATES), weights=list(FATES.values()))[0]
                    story = _Story(cast, grid, categories[code], departments, rng, title, text)
                    schedule(story.run(registered, fate))
                    made += 1
        # Three petitions re-handled again and again: escalated (提级督办) after the third time.
        for grid in Grid.objects.order_by("code")[:3]:
            title, text, code = STORIES[0][:3]
            story = _Story(cast, grid, categories[code], departments, rng, title, text)
            schedule(story.run(_working(start + dt.timedelta(days=rng.uniform(14, 30)), rng), "escalated"))
            made += 1
        # The demo accounts' own fresh work, whatever the weekday the seed runs on: in the worker's grid
        # a leak dispatched to the ``dept`` account and never accepted (reminded, then escalated to the
        # street and the district), one resolved and not called back yet, one just reported up.
        worker = User.objects.get(username="worker")
        home = Grid.objects.filter(assignments__user=worker).order_by("code").first()
        if home is not None:
            for days, fate in ((9, "stuck"), (12, "unfollowed"), (1, "reported")):
                story = _Story(cast, home, categories["roof-leak"], departments, rng, *STORIES[days % 2][:2])
                schedule(story.run(_working(now - dt.timedelta(days=days), rng), fate))
                made += 1
        schedule(_scans(now - SCANNED, now))

        while timeline:
            at, _n, step = heapq.heappop(timeline)
            with time_machine.travel(at, tick=False):
                following = next(step, None)
            if following is not None and following < now:
                heapq.heappush(timeline, (max(following, at), next(order), step))

        # The accounts have read what was dealt with since: the reminders of a stage the petition has left.
        # Those of a stage it is still stuck in wait for them, unread.
        still_due = Notification.objects.filter(petition__status=F("reminder__stage"))
        Notification.objects.filter(read_at__isnull=True).exclude(pk__in=still_due.values("pk")).update(read_at=now)
        metrics.refresh_daily_figures(full=True)
    log(f"seeded {made} petitions over the past twelve weeks")
    return made


def _how_many(rng: random.Random, mean: float) -> int:
    """A count with the given mean: the whole part, plus one with the chance of the rest."""
    whole = int(mean)
    return whole + (1 if rng.random() < mean - whole else 0)


@lru_cache(maxsize=1024)
def _is_working_day(day: dt.date) -> bool:
    """The district's calendar (one query a day asked, so asked once a day per run)."""
    return is_working_day(day)


def _working(at: dt.datetime, rng: random.Random) -> dt.datetime:
    """``at`` if in working hours (08:30–18:00 on a working day), else early on the next working day."""
    local = timezone.localtime(at)
    opening = dt.time(8, 30)
    if _is_working_day(local.date()) and opening <= local.time() < dt.time(18):
        return at
    day = local.date() if local.time() < opening else local.date() + dt.timedelta(days=1)
    while not _is_working_day(day):
        day += dt.timedelta(days=1)
    tz = timezone.get_default_timezone()
    return dt.datetime.combine(day, opening, tzinfo=tz) + dt.timedelta(minutes=rng.randint(5, 90))


def _within(rng: random.Random, start: dt.datetime, due: dt.datetime | None, *, late: float = 0.1) -> dt.datetime:
    """When the next step happens: mostly inside the time allowed, now and then late."""
    if due is None or due <= start:
        due = start + dt.timedelta(hours=8)
    if rng.random() < late:
        return _working(due + dt.timedelta(hours=rng.uniform(2, 60)), rng)
    return _working(start + (due - start) * rng.uniform(0.1, 0.8), rng)


def _cast(rng: random.Random, name: Namer) -> _Cast:
    """The demo accounts, and a sign-in-less account for every other grid, street and department."""
    cast = _Cast(admin=User.objects.get(username="admin"), name=name)
    workers = {u.scope_node_id: u for u in User.objects.filter(username="worker")}
    for a in GridAssignment.objects.select_related("user", "grid").order_by("grid_id", "user_id"):
        cast.registrar.setdefault(a.grid_id, workers.get(a.grid.branch_id, a.user))
    for root in Organization.objects.filter(parent=None).order_by("tree_id"):
        official = User.objects.filter(role=User.Role.OFFICIAL, scope_node=root).order_by("pk").first()
        if official is None:
            official = User(
                username=f"{root.code}-official", first_name=name(rng), role=User.Role.OFFICIAL, scope_node=root
            )
            official.set_unusable_password()
            official.save()
        cast.official[root.tree_id] = official
    for department in Department.objects.order_by("code"):
        staff = User.objects.filter(role=User.Role.DEPARTMENT, department=department).order_by("pk").first()
        if staff is None:
            staff = User(
                username=f"dept-{department.code}",
                first_name=name(rng),
                role=User.Role.DEPARTMENT,
                department=department,
            )
            staff.set_unusable_password()
            staff.save()
        cast.staff[department.pk] = staff
    return cast


def _scans(start: dt.datetime, now: dt.datetime) -> Step:
    """The overdue scan of every working morning and afternoon, delivering what it records."""
    tz = timezone.get_default_timezone()
    day = timezone.localtime(start).date()
    while True:
        for time in (dt.time(9), dt.time(15)):
            at = dt.datetime.combine(day, time, tzinfo=tz)
            if at >= now:
                return
            yield at
            for reminder_id in reminders.record_overdue_reminders(now=timezone.now()):
                reminders.deliver(reminder_id)
        day += dt.timedelta(days=1)


@dataclass
class _Story:
    """One petition's life: ``run`` yields the moment of each next step and takes it when resumed then."""

    cast: _Cast
    grid: Grid
    category: Category
    departments: dict[str, Department]
    rng: random.Random
    title: str
    text: str

    def run(self, registered: dt.datetime, fate: str) -> Step:
        rng, cast = self.rng, self.cast
        worker = cast.registrar[self.grid.pk]
        official = cast.official[self.grid.branch.tree_id]
        department = self.category.default_department
        assert department is not None
        yield registered
        p = services.petition_register(
            actor=worker,
            grid=self.grid,
            category=self.category,
            title=self.title,
            description=self.text,
            priority="urgent" if rng.random() < 0.08 else "normal",
            reporter_name=cast.name(rng),
            reporter_phone=f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}",
        )
        pk = p.pk
        if fate == "cancelled":
            yield _working(registered + dt.timedelta(hours=rng.uniform(1, 20)), rng)
            services.petition_cancel(actor=official, petition_id=pk, reason="与已登记的诉求重复")
            return
        if fate == "on_grid":
            yield _within(rng, registered, p.resolve_due)
            p = services.petition_resolve(actor=worker, petition_id=pk, result="网格员上门协调，现场解决")
            yield from self._follow_up(p, worker, happy=True)
            return
        if fate == "reported":
            yield _working(registered + dt.timedelta(hours=rng.uniform(1, 4)), rng)
            services.petition_report(actor=worker, petition_id=pk, note="网格协调不了，需要街道派单到职能部门")
            return
        if fate == "whistle":
            yield _working(registered + dt.timedelta(hours=rng.uniform(1, 24)), rng)
            p = services.petition_report(actor=worker, petition_id=pk, note="网格协调不了，需要街道派单到职能部门")
            yield _within(rng, p.registered_at, p.dispatch_due, late=0.15)
        else:
            yield _working(registered + dt.timedelta(hours=rng.uniform(0.5, 8)), rng)
        if fate == "returned":
            wrong = self.departments.get(WRONG_DEPARTMENT.get(department.code, "civil"), department)
            p = services.petition_dispatch(actor=official, petition_id=pk, department=wrong, note="请核实处理")
            yield _within(rng, p.dispatched_at or registered, p.accept_due, late=0)
            services.petition_return(actor=cast.staff[wrong.pk], petition_id=pk, reason="不属于本部门职责，请重新派单")
            yield _working(timezone.now() + dt.timedelta(hours=rng.uniform(1, 6)), rng)
        p = services.petition_dispatch(actor=official, petition_id=pk, department=department, note="请按时限办理")
        if fate == "stuck":
            return  # never accepted: overdue now, reminded, then escalated to the street and the district
        staff = cast.staff[department.pk]
        rounds = 3 if fate == "escalated" else 1 if fate == "reopened" else 0
        for round_ in range(rounds + 1):
            p = yield from self._handle(p, staff, official, extend=fate == "extended" and round_ == 0)
            if fate == "unfollowed":
                return  # the call back is due: the grid's workers are reminded
            p = yield from self._follow_up(p, worker, happy=round_ == rounds)

    def _handle(
        self, p: Petition, staff: User, official: User, *, extend: bool
    ) -> Generator[dt.datetime | None, None, Petition]:
        """Accept, maybe ask for more time, resolve: the department's part."""
        rng = self.rng
        yield _within(rng, p.dispatched_at or p.registered_at, p.accept_due, late=0.12)
        p = services.petition_accept(actor=staff, petition_id=p.pk)
        due = p.resolve_due
        if extend and due is not None:
            yield _working(timezone.now() + dt.timedelta(hours=rng.uniform(2, 30)), rng)
            proposed = timezone.localtime(due).date() + dt.timedelta(days=rng.randint(5, 10))
            services.petition_request_extension(
                actor=staff, petition_id=p.pk, reason="需要协调物业和施工队，材料采购需要时间", proposed_due=proposed
            )
            yield _working(timezone.now() + dt.timedelta(hours=rng.uniform(1, 8)), rng)
            p = services.petition_approve_extension(actor=official, petition_id=p.pk, note="同意延期，请抓紧办理")
            yield _within(rng, due, p.resolve_due, late=0.05)  # after the first deadline, before the new one
        else:
            yield _within(rng, timezone.now(), p.resolve_due, late=0.1)
        return services.petition_resolve(actor=staff, petition_id=p.pk, result="已安排人员现场处理，问题已解决")

    def _follow_up(self, p: Petition, worker: User, *, happy: bool) -> Generator[dt.datetime | None, None, Petition]:
        """The call back (回访): satisfied closes it, dissatisfied reopens it for re-handling."""
        rng = self.rng
        yield _within(rng, timezone.now(), p.follow_up_due, late=0.1)
        if happy:
            satisfaction = rng.choices(["very_satisfied", "satisfied", "basically_satisfied"], weights=[5, 4, 1])[0]
        else:
            satisfaction = rng.choice(["dissatisfied", "very_dissatisfied"])
        return services.petition_follow_up(
            actor=worker,
            petition_id=p.pk,
            reached=True,
            solved=happy,
            satisfaction=satisfaction,
            note="" if happy else "居民反映问题没有解决，要求重新处理",
        )
