"""Generate a year of petitions, with their timelines and follow-ups, fast (PostgreSQL COPY).

    DATABASE_URL=postgres://… .venv/bin/python -m bench.generate_petitions --petitions 1000000

Works on the database DATABASE_URL names (the list benchmark calls ``generate`` on its own
database); refuses SQLite. Needs a district to spread over (``seed_demo``, small or large): every
grid, category and department gets petitions.

Each petition is simulated through the loop rather than given a status at random: it is registered
at a moment of the last year (working hours more likely), then dispatched, accepted, resolved and
followed up after delays drawn around its category's deadlines; its status is the last step that
has happened by now. So the mix is what a running district has: almost everything older than a
month is closed, recent ones are spread over the open statuses, a few are late at every stage
(overdue), some were cancelled, a quarter were resolved on the grid, a few were returned and
re-dispatched, some residents did not answer the first call back, and dissatisfied ones reopened
some (重办). Deadlines use calendar days in place
of working days (the list and dashboard read them, they do not recompute them).
"""

import argparse
import datetime as dt
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

YEAR = dt.timedelta(days=365)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
BATCH = 50_000

TITLES = {
    "info-update": ["新生儿户籍信息登记", "租户信息变更", "独居老人信息核实"],
    "survey": ["小区加装电梯意见收集", "菜市场改造意见", "停车收费意见"],
    "policy-consult": ["医保报销政策咨询", "高龄补贴申领咨询", "公租房申请咨询"],
    "elderly-visit": ["独居老人上门探访", "高龄老人身体不适", "老人长期无人联系"],
    "errand": ["代办居住证", "代办残疾证年审", "代缴水电费"],
    "roof-leak": ["顶楼漏水", "外墙渗水", "楼道天花板掉落"],
    "fire-lane": ["消防通道被占", "楼道堆放杂物", "电动车楼道充电"],
    "gas-hazard": ["燃气管道老化", "闻到燃气味", "餐馆违规使用液化气"],
    "food-safety": ["小吃店卫生差", "超市售卖过期食品", "无证摊贩"],
    "neighbour-dispute": ["邻里噪音纠纷", "楼上漏水纠纷", "公共区域占用纠纷"],
    "noise": ["夜间施工噪音", "广场舞噪音", "商铺音响扰民"],
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国红梅玉海燕文博"
SATISFACTION = [
    ("very_satisfied", 45),
    ("satisfied", 33),
    ("basically_satisfied", 13),
    ("dissatisfied", 7),
    ("very_dissatisfied", 2),
]
SATISFIED = {"very_satisfied", "satisfied", "basically_satisfied"}

PETITION_COLUMNS = (
    "id", "grid_id", "category_id", "priority", "title", "description", "household_id",
    "reporter_name", "reporter_phone", "status", "department_id", "registered_by_id", "registered_at",
    "dispatched_at", "accepted_at", "resolved_at", "closed_at", "accept_due", "resolve_due", "follow_up_due",
    "current_due", "resolved_on_grid", "result", "rehandle_count", "escalated",
    # Columns added since, NOT NULL without a database default: the model's defaults.
    "due_provisional", "extension_count", "paused_total", "channel", "place", "coordinate_system",
)
# ``due``: the deadline of the stage the step ends, as the workflow records it (the one in force before).
EVENT_COLUMNS = (
    "petition_id", "action", "from_status", "to_status", "actor_id", "at", "note", "department_id", "due",
)
FOLLOW_UP_COLUMNS = ("petition_id", "reached", "solved", "satisfaction", "note", "by_id", "at")


@dataclass
class District:
    """What petitions are spread over, loaded once: ids only."""

    grids: list[tuple[int, int, int]]  # grid id, worker id, official id
    households: dict[int, list[int]]
    categories: list[dict[str, Any]]
    department_staff: dict[int, int]
    departments: list[int]


@dataclass
class Rows:
    petitions: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    follow_ups: list[tuple[Any, ...]] = field(default_factory=list)


def load_district() -> District:
    """Grids with a worker and a street official each, categories, and a staff account per department.

    Creates the missing accounts (a street official per street or town, a member of staff per
    department) so every step of every timeline has a plausible actor.
    """
    from governance.models import Department, User
    from grids.models import Grid, GridAssignment, Household
    from parties.models import Organization
    from petitions.models import Category

    roots = {o.tree_id: o for o in Organization.objects.filter(parent=None)}
    officials = {}
    for tree_id, root in roots.items():
        official = User.objects.filter(role=User.Role.OFFICIAL, scope_node=root).order_by("id").first()
        if official is None:
            official = User(username=f"bench-official-{root.code}", role=User.Role.OFFICIAL, scope_node=root)
            official.set_unusable_password()
            official.save()
        officials[tree_id] = official.pk
    workers: dict[int, int] = {}
    for grid_id, user_id in GridAssignment.objects.order_by("-id").values_list("grid_id", "user_id"):
        workers[grid_id] = user_id
    fallback_worker = User.objects.filter(role=User.Role.WORKER).order_by("id").values_list("id", flat=True).first()
    if fallback_worker is None:
        sys.exit("No grid workers: seed a district first (manage.py seed_demo --size large).")
    grids = [
        (gid, workers.get(gid, fallback_worker), officials[tree_id])
        for gid, tree_id in Grid.objects.order_by("id").values_list("id", "branch__tree_id")
    ]
    if not grids:
        sys.exit("No grids: seed a district first (manage.py seed_demo --size large).")
    staff = {}
    for dept in Department.objects.filter(is_active=True):
        user = User.objects.filter(role=User.Role.DEPARTMENT, department=dept).order_by("id").first()
        if user is None:
            user = User(username=f"bench-dept-{dept.code}", role=User.Role.DEPARTMENT, department=dept)
            user.set_unusable_password()
            user.save()
        staff[dept.pk] = user.pk
    households: dict[int, list[int]] = {}
    for hid, gid in Household.objects.values_list("id", "building__grid_id").iterator(chunk_size=20_000):
        households.setdefault(gid, []).append(hid)
    categories = [
        dict(row)
        for row in Category.objects.filter(is_active=True).values(
            "id", "code", "name", "default_department_id", "accept_hours", "resolve_working_days",
            "follow_up_working_days", "urgent_accept_hours", "urgent_resolve_working_days",
        )
    ]
    return District(grids, households, categories, staff, list(staff))


class Simulator:
    """Draws one petition's life through the loop, up to ``now``."""

    def __init__(self, district: District, now: dt.datetime, rng: random.Random) -> None:
        self.d = district
        self.now = now
        self.rng = rng
        self.satisfaction = [s for s, w in SATISFACTION for _ in range(w)]
        self.tz = dt.timezone(dt.timedelta(hours=8))

    def registered_at(self) -> dt.datetime:
        rng = self.rng
        day = self.now - YEAR + dt.timedelta(days=rng.random() * 365)
        local = day.astimezone(self.tz)
        # Most requests come in during the day.
        hour = rng.choice((8, 9, 9, 10, 10, 10, 11, 11, 14, 14, 15, 15, 16, 16, 17, 19, 21))
        local = local.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60), microsecond=0)
        return min(local.astimezone(dt.UTC), self.now - dt.timedelta(minutes=1))

    def petition(self, pid: int, out: Rows) -> None:
        rng = self.rng
        grid_id, worker, official = rng.choice(self.d.grids)
        cat = rng.choice(self.d.categories)
        urgent = rng.random() < 0.06
        accept_h = cat["urgent_accept_hours"] if urgent else cat["accept_hours"]
        resolve_d = cat["urgent_resolve_working_days"] if urgent else cat["resolve_working_days"]
        at = self.registered_at()
        resolve_due = at + DAY * resolve_d * 7 / 5
        p: dict[str, Any] = {
            "status": "registered", "department_id": None, "dispatched_at": None, "accepted_at": None,
            "resolved_at": None, "closed_at": None, "accept_due": None, "follow_up_due": None,
            "resolved_on_grid": False, "result": "", "rehandle_count": 0, "escalated": False,
            "resolve_due": resolve_due, "current_due": resolve_due,
        }
        events = out.events

        def event(action: str, frm: str, to: str, actor: int, when: dt.datetime, note: str = "") -> None:
            events.append((pid, action, frm, to, actor, when, note, p["department_id"], p["current_due"]))
            p["status"] = to

        event("register", "", "registered", worker, at)
        # A few stall at some stage for a long time: the overdue backlog the street chases.
        stall = rng.random() < 0.03
        t = at
        if rng.random() < 0.03:
            t += dt.timedelta(hours=rng.expovariate(1 / 6))
            if t < self.now:
                event("cancel", "registered", "cancelled", official, t, "重复登记")
                p["current_due"] = None
            return self._finish(pid, grid_id, cat, urgent, at, worker, p, out)
        on_grid = rng.random() < 0.25
        department: int = cat["default_department_id"] or rng.choice(self.d.departments)
        rounds = 0
        while True:
            if on_grid:
                t += dt.timedelta(hours=rng.uniform(0.3, 30))
                if t > self.now or (stall and rng.random() < 0.5):
                    break
                p["resolved_on_grid"] = True
                self._resolve(p, event, worker, t, cat)
            else:
                if rounds == 0:
                    t += dt.timedelta(hours=rng.expovariate(1 / 3))
                    if t > self.now:
                        break
                    if rng.random() < 0.04:
                        # Sent to the wrong department first, returned with a reason, re-dispatched.
                        wrong = rng.choice(self.d.departments)
                        p["department_id"] = wrong
                        event("dispatch", "registered", "dispatched", official, t)
                        p.update(dispatched_at=t, accept_due=t + HOUR * accept_h, current_due=t + HOUR * accept_h)
                        t += dt.timedelta(hours=rng.uniform(0.5, 8))
                        if t > self.now:
                            break
                        returner = self.d.department_staff[wrong]
                        event("return", "dispatched", "registered", returner, t, "不属于本部门职责")
                        p.update(department_id=None, dispatched_at=None, accept_due=None, current_due=resolve_due)
                        t += dt.timedelta(hours=rng.uniform(0.5, 6))
                        if t > self.now:
                            break
                    p["department_id"] = department
                    event("dispatch", "registered", "dispatched", official, t)
                    p.update(dispatched_at=t, accept_due=t + HOUR * accept_h, current_due=t + HOUR * accept_h)
                late = rng.random() < 0.08
                t += HOUR * accept_h * (rng.uniform(1.1, 4) if late else rng.uniform(0.05, 0.9))
                if t > self.now or (stall and rng.random() < 0.4):
                    break
                event("accept", "dispatched", "accepted", self.d.department_staff[department], t)
                p.update(accepted_at=t, current_due=p["resolve_due"])
                late = rng.random() < 0.1
                t += DAY * resolve_d * 7 / 5 * (rng.uniform(1.05, 2) if late else rng.uniform(0.05, 0.95))
                if t > self.now or stall:
                    break
                self._resolve(p, event, self.d.department_staff[department], t, cat)
            t += dt.timedelta(hours=rng.uniform(2, 40))
            if t > self.now:
                break
            if rng.random() < 0.06:
                # The resident did not answer: the call is recorded, the petition stays resolved.
                out.follow_ups.append((pid, False, None, "", "电话未接通", worker, t))
                event("follow_up_unreached", "resolved", "resolved", worker, t, "电话未接通")
                t += dt.timedelta(hours=rng.uniform(2, 24))
                if t > self.now:
                    break
            satisfaction = rng.choice(self.satisfaction)
            solved = satisfaction in SATISFIED or rng.random() < 0.2
            out.follow_ups.append((pid, True, solved, satisfaction, "", worker, t))
            if satisfaction in SATISFIED or rounds >= 2:
                event("follow_up", "resolved", "closed", worker, t)
                p.update(closed_at=t, current_due=None)
                break
            rounds += 1
            p["rehandle_count"] = rounds
            p["resolve_due"] = t + DAY * resolve_d * 7 / 5
            p.update(resolved_at=None, follow_up_due=None, accepted_at=None)
            if on_grid:
                event("reopen_on_grid", "resolved", "registered", worker, t, "居民不满意")
                p["current_due"] = p["resolve_due"]
            else:
                event("reopen", "resolved", "dispatched", worker, t, "居民不满意")
                p.update(dispatched_at=t, accept_due=t + HOUR * accept_h, current_due=t + HOUR * accept_h)
        return self._finish(pid, grid_id, cat, urgent, at, worker, p, out)

    def _resolve(self, p: dict[str, Any], event: Any, actor: int, t: dt.datetime, cat: dict[str, Any]) -> None:
        action = "resolve_on_grid" if p["status"] == "registered" else "resolve"
        result = "已现场处理" if action == "resolve_on_grid" else "已处理完毕"
        event(action, p["status"], "resolved", actor, t, result)
        due = t + DAY * cat["follow_up_working_days"] * 7 / 5
        p.update(resolved_at=t, result=result, follow_up_due=due, current_due=due)

    def _finish(
        self, pid: int, grid_id: int, cat: dict[str, Any], urgent: bool, at: dt.datetime, worker: int,
        p: dict[str, Any], out: Rows,
    ) -> None:
        rng = self.rng
        households = self.d.households.get(grid_id)
        household = rng.choice(households) if households and rng.random() < 0.3 else None
        title = rng.choice(TITLES.get(cat["code"], [cat["name"]]))
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
        phone = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}" if rng.random() < 0.85 else ""
        out.petitions.append((
            pid, grid_id, cat["id"], "urgent" if urgent else "normal", title,
            f"{title}，居民反映情况属实，请协调处理。", household, name, phone, p["status"], p["department_id"], worker,
            at, p["dispatched_at"], p["accepted_at"], p["resolved_at"], p["closed_at"], p["accept_due"],
            p["resolve_due"], p["follow_up_due"], p["current_due"], p["resolved_on_grid"], p["result"],
            p["rehandle_count"], p["rehandle_count"] >= 3,
            False, 0, dt.timedelta(0), "visit", "", "",
        ))


def _copy(cursor: Any, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _batches(total: int, size: int) -> Iterator[int]:
    while total > 0:
        yield min(size, total)
        total -= size


def generate(n: int, *, seed: int = 20241125, log: Any = print) -> dict[str, int]:
    """Add ``n`` petitions (with events and follow-ups) to the current database; returns row counts."""
    from django.db import connection, transaction
    from django.utils import timezone

    if connection.vendor != "postgresql":
        sys.exit("bench.generate_petitions writes with COPY: it needs PostgreSQL (DATABASE_URL=postgres://…)")
    district = load_district()
    rng = random.Random(seed)
    sim = Simulator(district, timezone.now(), rng)
    counts = {"petitions": 0, "events": 0, "follow_ups": 0}
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM petitions_petition")
        next_id = cursor.fetchone()[0] + 1
    for size in _batches(n, BATCH):
        rows = Rows()
        for pid in range(next_id, next_id + size):
            sim.petition(pid, rows)
        next_id += size
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg's own cursor, for COPY
            _copy(raw, "petitions_petition", PETITION_COLUMNS, rows.petitions)
            _copy(raw, "petitions_petitionevent", EVENT_COLUMNS, rows.events)
            _copy(raw, "petitions_followup", FOLLOW_UP_COLUMNS, rows.follow_ups)
        counts["petitions"] += len(rows.petitions)
        counts["events"] += len(rows.events)
        counts["follow_ups"] += len(rows.follow_ups)
        elapsed = time.perf_counter() - start
        log(f"  {counts['petitions']:>9,} petitions, {counts['events']:>10,} events  {elapsed:6.1f} s")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('petitions_petition', 'id'), "
            "(SELECT COALESCE(MAX(id), 1) FROM petitions_petition))"
        )
    return counts


def status_mix() -> dict[str, int]:
    from django.db.models import Count

    from petitions.models import Petition

    return dict(Petition.objects.order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--petitions", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20241125)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL=postgres://…: petitions are written with COPY (SQLite is refused).")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    import django

    django.setup()
    counts = generate(args.petitions, seed=args.seed)
    print(counts, status_mix())


if __name__ == "__main__":
    main()
