"""Demo data for 双报到 and the points ledgers (issue 9), made through the real services.

In the demo worker's community: two co-building units paired with it (区教育局 at exactly 80 %
reported, 某科技公司 below it and flagged), their in-service members reporting (the account
``member`` among them), services confirmed and waiting for confirmation, points with a two-person
award and a reversal, a community account ``community`` and a unit account ``unit``; and the moral
points bank of one household with a redemption. Idempotent: nothing is added when a unit exists.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from governance.demo.accounts import DemoPassword
from governance.models import User
from grids.models import Household, MoralCategory
from grids.moral import moral_award, moral_redeem
from parties import points, units
from parties.models import CoUnit, Member, Pairing, PointsEntry, PointsRule, ServiceKind, UnitKind
from parties.wishes import community_of

RULES = {ServiceKind.ACTIVITY: 5, ServiceKind.PATROL: 8, ServiceKind.WISH: 10, ServiceKind.DELIBERATION: 6}
# (unit, kind, its Party organisation, members, of whom reported)
UNITS = [
    ("区教育局", UnitKind.ORGAN, "区教育局机关党委", ["周建华", "吴晓燕", "郑国强", "孙丽华", "钱志远"], 4),
    ("江城科技有限公司", UnitKind.ENTERPRISE, "江城科技有限公司党支部", ["冯海涛", "陈思远", "褚文博", "卫春燕"], 2),
]


def _account(username: str, password: DemoPassword, **fields: object) -> User:
    user, _created = User.objects.update_or_create(username=username, defaults=fields)
    password.give(user)
    return user


@transaction.atomic
def seed_units(password: DemoPassword) -> None:
    worker = User.objects.get(username="worker")
    official = User.objects.get(username="official")
    assert worker.scope_node is not None
    community = community_of(worker.scope_node)
    assert community is not None
    staff = _account("community", password, role=User.Role.WORKER, scope_node=community, first_name="社区党委")
    unit_account = _account("unit", password, role=User.Role.WORKER, first_name="共建单位")
    if CoUnit.objects.exists():
        return
    for service_kind, n in RULES.items():
        PointsRule.objects.get_or_create(kind=service_kind, defaults={"points": n})
    today = timezone.localdate()
    members: list[Member] = []
    for name, kind, organisation, names, reported in UNITS:
        unit = CoUnit.objects.create(
            name=name, kind=kind, party_organisation=organisation, located_in=community.parent or community
        )
        Pairing.objects.create(unit=unit, community=community, started_on=dt.date(today.year, 1, 1),
                               unit_reported_on=dt.date(today.year, 1, 15))
        for i, person in enumerate(names):
            member = Member.objects.filter(name=person, account__username="member").first() or Member.objects.create(
                name=person, organization=worker.scope_node, in_service=True, workplace=name
            )
            member.unit, member.in_service, member.workplace = unit, True, name
            member.save(update_fields=["unit", "in_service", "workplace"])
            if i < reported:
                report = units.report_record(actor=staff, member=member, community=community,
                                             reported_on=dt.date(today.year, 2, 1 + i))
                units.report_confirm(actor=staff, report_id=report.pk)
                members.append(member)
        if name == "区教育局":
            unit.accounts.add(unit_account)
    # Past services: the first members attended two, the next one, the others none (flagged).
    past = [
        units.activity_post(actor=staff, community=community, title=title, held_on=today - dt.timedelta(days=d),
                            kind=kind, place=place)
        for title, kind, place, d in (
            ("清理楼道小广告", ServiceKind.ACTIVITY, "3栋", 30),
            ("防汛夜间巡逻", ServiceKind.PATROL, "江堤", 20),
        )
    ]
    for i, member in enumerate(members):
        if member.account is None:
            member.account = _account(f"member{i}", password, role=User.Role.WORKER, first_name=member.name)
            member.save(update_fields=["account"])
        assert member.account is not None
        for activity in past[: 2 if i < 3 else 1 if i < 5 else 0]:
            record = units.service_sign_up(actor=member.account, activity_id=activity.pk)
            units.service_confirm(actor=staff, activity_id=activity.pk, record_id=record.pk)
    # A coming service: some signed up, waiting for the community to confirm attendance on the day.
    coming = units.activity_post(actor=staff, community=community, title="关爱空巢老人上门走访",
                                 held_on=today + dt.timedelta(days=3), place="社区党群服务中心")
    for member in members[:2]:
        assert member.account is not None
        units.service_sign_up(actor=member.account, activity_id=coming.pk)
    # A two-person award, and a mistaken entry reversed.
    award = points.points_propose(actor=official, member=members[0], community=community, points=20,
                                  reason="防汛抢险表现突出")
    points.points_approve(actor=staff, award_id=award.pk)
    # One proposed by the community, waiting for the street official's approval (their home page says so).
    points.points_propose(actor=staff, member=members[1], community=community, points=10, reason="协助调解邻里纠纷")
    mistaken = PointsEntry.objects.filter(member=members[3]).order_by("id").first()
    if mistaken is not None:
        points.points_reverse(actor=staff, entry_id=mistaken.pk, reason="重复登记")
    # 道德积分银行: one household of the worker's grid earns in the four categories and redeems once.
    home = Household.objects.filter(building__grid__branch=worker.scope_node).order_by("pk").first()
    if home is not None:
        for category, n, reason in (
            (MoralCategory.SELF, 10, "孝老爱亲"), (MoralCategory.FAMILY, 15, "最美家庭"),
            (MoralCategory.NEIGHBOURS, 10, "调解邻里纠纷"), (MoralCategory.CITY, 5, "垃圾分类示范"),
        ):
            moral_award(actor=worker, household=home, category=category, points=n, reason=reason)
        moral_redeem(actor=worker, household_id=home.pk, item="大米一袋", points=20)
