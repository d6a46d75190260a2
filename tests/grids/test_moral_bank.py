"""道德积分银行: a household's balance is the sum of its ledger, and a redemption never overdraws it."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404

from governance.exceptions import TransitionNotAllowed
from governance.models import User
from grids.models import Household, MoralCategory, MoralEntry, MoralRedemption
from grids.moral import moral_award, moral_balance, moral_redeem, moral_reverse

from ..conftest import World
from ..factories import BuildingFactory, HouseholdFactory, ResidentFactory


def household(world: World) -> Household:
    return HouseholdFactory.create(building=BuildingFactory.create(grid=world.grid))


@pytest.mark.django_db
def test_earning_in_four_categories_and_spending(world: World) -> None:
    home = household(world)
    resident = ResidentFactory.create(household=home)
    for category, n in zip(MoralCategory.values, (5, 10, 15, 20), strict=True):
        moral_award(actor=world.worker, household=home, category=category, points=n, reason="好人好事",
                    resident=resident)
    redemption = moral_redeem(actor=world.worker, household_id=home.pk, item="大米一袋", points=30)
    assert redemption.entry.points == -30
    ledger = list(MoralEntry.objects.filter(household=home).values_list("points", flat=True))
    assert moral_balance(home) == sum(ledger) == 20


@pytest.mark.django_db
def test_a_redemption_beyond_the_balance_is_refused_naming_the_points(world: World) -> None:
    home = household(world)
    moral_award(actor=world.worker, household=home, category=MoralCategory.NEIGHBOURS, points=10, reason="调解邻里")
    with pytest.raises(ValidationError) as exc:
        moral_redeem(actor=world.worker, household_id=home.pk, item="食用油", points=11)
    assert "points" in exc.value.message_dict
    assert (MoralRedemption.objects.count(), moral_balance(home)) == (0, 10)
    moral_redeem(actor=world.worker, household_id=home.pk, item="食用油", points=10)
    assert moral_balance(home) == 0


@pytest.mark.django_db
def test_a_reversal_is_a_new_entry_once_and_never_below_zero(world: World) -> None:
    home = household(world)
    entry = moral_award(actor=world.worker, household=home, category=MoralCategory.CITY, points=8, reason="垃圾分类")
    reversal = moral_reverse(actor=world.worker, entry_id=entry.pk, reason="登记错误")
    assert (reversal.reverses_id, reversal.points, moral_balance(home)) == (entry.pk, -8, 0)
    with pytest.raises(TransitionNotAllowed):
        moral_reverse(actor=world.worker, entry_id=entry.pk, reason="again")
    spent = moral_award(actor=world.worker, household=home, category=MoralCategory.CITY, points=8, reason="志愿")
    moral_redeem(actor=world.worker, household_id=home.pk, item="洗衣液", points=8)
    with pytest.raises(ValidationError):
        moral_reverse(actor=world.worker, entry_id=spent.pk, reason="错了")
    assert moral_balance(home) == 0


@pytest.mark.django_db
def test_staff_of_another_street_cannot_touch_the_households_points(world: World) -> None:
    home = household(world)
    moral_award(actor=world.worker, household=home, category=MoralCategory.SELF, points=5, reason="孝老爱亲")
    with pytest.raises(Http404):
        moral_redeem(actor=world.foreign_worker, household_id=home.pk, item="大米", points=1)
    with pytest.raises(ValidationError) as exc:
        moral_award(actor=world.foreign_worker, household=home, category=MoralCategory.SELF, points=5, reason="x")
    assert "household" in exc.value.message_dict


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_redemptions_at_once_never_overdraw(world: World, needs_postgres: None) -> None:
    home = household(world)
    moral_award(actor=world.worker, household=home, category=MoralCategory.FAMILY, points=10, reason="最美家庭")
    outcomes: list[str] = []
    barrier = threading.Barrier(4)
    actor = User.objects.get(pk=world.worker.pk)

    def redeem() -> None:
        barrier.wait()
        try:
            moral_redeem(actor=actor, household_id=home.pk, item="大米", points=4)
            outcomes.append("redeemed")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["redeemed", "redeemed", "refused", "refused"]
    assert moral_balance(home) == 2
