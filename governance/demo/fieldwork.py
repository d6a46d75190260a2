"""Demo field work: key-population classes, a few patrols (one whose finding became a petition), and
household visits, some of them late, in the demo worker's grid. Made through the real services."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from governance.models import User
from grids import fieldwork
from grids.models import Grid, Household, HouseholdKeyPopulation, KeyPopulation, Patrol
from petitions.models import Category

KEY_POPULATIONS = [
    ("elderly-alone", "独居老人", 30),
    ("disabled", "残疾人", 60),
    ("left-behind-children", "留守儿童", 30),
    ("extreme-poverty", "特困人员", 30),
    ("community-correction", "社区矫正人员", 90),
]

PATROLS = [
    # days ago, route, findings, problem place
    (1, "3栋—5栋楼道、东门消防通道、垃圾分类点", "东门消防通道被三辆私家车占用，消防车无法通行。", "小区东门消防通道"),
    (3, "小区周边沿街商铺、燃气管线井盖", "", ""),
    (6, "小区内路灯、健身器材、地下车库", "", ""),
]


@transaction.atomic
def seed_fieldwork() -> None:
    """Idempotent: the classes are kept up to date; patrols and visits are made once."""
    from petitions import services

    for code, name, days in KEY_POPULATIONS:
        KeyPopulation.objects.update_or_create(code=code, defaults={"name": name, "visit_interval_days": days})
    if Patrol.objects.exists():
        return
    worker = User.objects.get(username="worker")
    grid = Grid.objects.filter(assignments__user=worker).order_by("code").first()
    if grid is None:
        return
    now = timezone.now()
    for days, route, findings, place in PATROLS:
        start = now - dt.timedelta(days=days, hours=2)
        patrol = fieldwork.patrol_record(
            actor=worker, grid=grid, started_at=start, ended_at=start + dt.timedelta(hours=1, minutes=30),
            route=route, findings=findings, problem_found=bool(findings), problem_place=place,
        )
        if patrol.problem_found:
            services.petition_register_from_patrol(
                actor=worker, patrol_id=patrol.pk, category=Category.objects.get(code="fire-lane"),
                title="消防通道被占", description=findings,
            )
    classes = {k.code: k for k in KeyPopulation.objects.all()}
    households = list(Household.objects.filter(building__grid=grid).order_by("building__code", "room")[:8])
    plan = ["elderly-alone", "disabled", "left-behind-children", "elderly-alone", "extreme-poverty",
            "elderly-alone", "disabled", "community-correction"]
    for i, (household, code) in enumerate(zip(households, plan, strict=False)):
        HouseholdKeyPopulation.objects.get_or_create(
            household=household, key_population=classes[code], defaults={"since": now - dt.timedelta(days=120)}
        )
        # Every other household was visited recently; the rest are late (or never visited).
        if i % 2 == 0:
            fieldwork.visit_record(
                actor=worker, household=household, visited_at=now - dt.timedelta(days=5 + i),
                key_population=classes[code], purpose="例行走访",
                learned="老人身体状况良好，子女每周来电；家中燃气灶已更换。",
                follow_up_needed=i == 2, follow_up="协助申请居家养老服务补贴" if i == 2 else "",
            )
        elif i == 3:
            fieldwork.visit_record(
                actor=worker, household=household, visited_at=now - dt.timedelta(days=45),
                key_population=classes[code], purpose="例行走访", learned="老人独居，腿脚不便，需要定期上门。",
            )
