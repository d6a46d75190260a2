"""A small 双报到 world on top of ``world``: a community account, a unit paired with the community,
in-service members with linked accounts, and the points rules."""

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from governance.models import User
from parties import units
from parties.models import CoUnit, Member, MemberReport, Pairing, PointsRule, ServiceActivity, ServiceKind

from ..conftest import World
from ..factories import UserFactory


@dataclass
class Units:
    world: World
    community_staff: User
    second_staff: User
    unit: CoUnit
    unit_account: User
    members: list[Member] = field(default_factory=list)

    def member(self, name: str, *, account: bool = True, reported: bool = True, unit: CoUnit | None = None) -> Member:
        user = UserFactory.create(username=f"m-{name}", role=User.Role.WORKER) if account else None
        member = Member.objects.create(
            name=name, organization=self.world.branch, in_service=True, workplace=(unit or self.unit).name,
            unit=unit or self.unit, account=user,
        )
        if reported:
            report = units.report_record(
                actor=self.community_staff, member=member, community=self.world.community,
                reported_on=dt.date(2026, 3, 1),
            )
            units.report_confirm(actor=self.community_staff, report_id=report.pk)
        self.members.append(member)
        return member

    def activity(self, title: str = "周末清理楼道", *, held_on: dt.date | None = None,
                 kind: str = ServiceKind.ACTIVITY) -> ServiceActivity:
        return units.activity_post(
            actor=self.community_staff, community=self.world.community, title=title,
            held_on=held_on or timezone.localdate(), kind=kind, place="3栋",
        )

    def served(self, member: Member, times: int, *, year: int = 2026) -> None:
        """``times`` confirmed services for ``member`` in ``year``."""
        assert member.account is not None
        for i in range(times):
            activity = self.activity(f"服务{i}", held_on=dt.date(year, 6, 1 + i))
            record = units.service_sign_up(actor=member.account, activity_id=activity.pk)
            units.service_confirm(actor=self.community_staff, activity_id=activity.pk, record_id=record.pk)


def make_units(world: World) -> Units:
    staff = UserFactory.create(username="community", role=User.Role.WORKER, scope_node=world.community)
    second = UserFactory.create(username="community2", role=User.Role.WORKER, scope_node=world.community)
    unit_account = UserFactory.create(username="unit", role=User.Role.WORKER)
    unit = CoUnit.objects.create(name="区教育局", party_organisation="区教育局机关党委", located_in=world.street)
    unit.accounts.add(unit_account)
    Pairing.objects.create(unit=unit, community=world.community, started_on=dt.date(2026, 1, 1))
    PointsRule.objects.create(kind=ServiceKind.ACTIVITY, points=5)
    PointsRule.objects.create(kind=ServiceKind.PATROL, points=8)
    PointsRule.objects.create(kind=ServiceKind.WISH, points=10)
    PointsRule.objects.create(kind=ServiceKind.DELIBERATION, points=6)
    return Units(world, staff, second, unit, unit_account)


__all__ = ["MemberReport", "Units", "make_units"]
