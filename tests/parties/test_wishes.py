"""Micro-wishes (微心愿): 群众点单 → 社区派单 → 党员接单 → 完成 → 评价, every step allowed and refused."""

import datetime as dt
import threading
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from governance.exceptions import TransitionNotAllowed
from governance.models import User
from parties import wishes
from parties.models import Kind, Member, Wish, WishEvent, WishStatus

from ..conftest import World
from ..factories import UserFactory, node


def member_account(world: World, username: str, organization: Any = None) -> User:
    """A Party member of the worker's community (or of ``organization``), with a linked account."""
    user = UserFactory.create(username=username, role=User.Role.WORKER)
    Member.objects.create(name=f"党员{username}", organization=organization or world.branch, account=user)
    return user


@pytest.fixture
def member(world: World) -> User:
    return member_account(world, "member")


def recorded(world: World, **fields: Any) -> Wish:
    data = {"actor": world.worker, "place": world.branch, "title": "帮独居老人换灯泡", "resident_name": "王阿姨"}
    return wishes.wish_record(**{**data, **fields})


def published(world: World) -> Wish:
    return wishes.wish_publish(actor=world.official, wish_id=recorded(world).pk)


def counts() -> tuple[int, int]:
    return Wish.objects.count(), WishEvent.objects.count()


@pytest.mark.django_db
class TestTheWay:
    def test_from_the_residents_wish_to_the_thanks(self, world: World, member: User) -> None:
        wish = recorded(world)
        assert wish.status == WishStatus.SUBMITTED
        wishes.wish_publish(actor=world.worker, wish_id=wish.pk)
        wishes.wish_claim(actor=member, wish_id=wish.pk)
        wishes.wish_fulfil(actor=member, wish_id=wish.pk, fulfilment="已上门更换")
        wish = wishes.wish_evaluate(actor=world.worker, wish_id=wish.pk, rating="very_satisfied", note="感谢信")
        assert (wish.status, wish.claimed_by, wish.fulfilment, wish.rating) == (
            WishStatus.EVALUATED, Member.objects.get(account=member), "已上门更换", "very_satisfied",
        )
        steps = list(wish.events.values_list("action", "from_status", "to_status", "actor__username"))
        assert steps == [
            ("record", "", "submitted", "worker"),
            ("publish", "submitted", "published", "worker"),
            ("claim", "published", "claimed", "member"),
            ("fulfil", "claimed", "fulfilled", "member"),
            ("evaluate", "fulfilled", "evaluated", "worker"),
        ]

    def test_a_wish_can_be_withdrawn_before_it_is_claimed_not_after(self, world: World, member: User) -> None:
        wish = published(world)
        wishes.wish_withdraw(actor=world.official, wish_id=wish.pk, reason="居民已自行解决")
        assert Wish.objects.get(pk=wish.pk).status == WishStatus.WITHDRAWN
        claimed = published(world)
        wishes.wish_claim(actor=member, wish_id=claimed.pk)
        with pytest.raises(TransitionNotAllowed):
            wishes.wish_withdraw(actor=world.official, wish_id=claimed.pk, reason="x")


@pytest.mark.django_db
class TestRefused:
    def test_steps_out_of_order_are_409_and_change_nothing(self, world: World, member: User) -> None:
        wish = published(world)
        before = counts()
        with pytest.raises(TransitionNotAllowed):
            wishes.wish_publish(actor=world.worker, wish_id=wish.pk)
        with pytest.raises(TransitionNotAllowed):
            wishes.wish_evaluate(actor=world.worker, wish_id=wish.pk, rating="satisfied")
        assert counts() == before and Wish.objects.get(pk=wish.pk).status == WishStatus.PUBLISHED

    def test_only_a_member_claims_and_only_the_claimant_fulfils(self, world: World, member: User) -> None:
        wish = published(world)
        with pytest.raises(PermissionDenied):
            wishes.wish_claim(actor=world.worker, wish_id=wish.pk)  # staff, not a Party member
        with pytest.raises(PermissionDenied):
            wishes.wish_claim(actor=world.admin, wish_id=wish.pk)  # leadership takes the staff's steps only
        wishes.wish_claim(actor=member, wish_id=wish.pk)
        other = member_account(world, "member2")
        with pytest.raises(TransitionNotAllowed):
            wishes.wish_claim(actor=other, wish_id=wish.pk)  # claimed already: one member
        with pytest.raises(PermissionDenied):
            wishes.wish_fulfil(actor=other, wish_id=wish.pk, fulfilment="我来")
        assert Wish.objects.get(pk=wish.pk).claimed_by == Member.objects.get(account=member)

    def test_a_member_of_another_community_does_not_see_it(self, world: World) -> None:
        wish = published(world)
        elsewhere = node(Kind.GRID_BRANCH, node(Kind.COMMUNITY, world.street))
        stranger = member_account(world, "stranger", organization=elsewhere)
        with pytest.raises(Http404):
            wishes.wish_claim(actor=stranger, wish_id=wish.pk)
        assert wishes.board_for(stranger)[1].count() == 0

    def test_a_member_does_not_see_a_wish_before_it_is_published(self, world: World, member: User) -> None:
        wish = recorded(world)
        with pytest.raises(Http404):
            wishes.wish_for(member, wish.pk)
        assert wishes.board_for(member)[1].count() == 0

    def test_staff_outside_the_place_and_department_staff_do_not_see_it(self, world: World) -> None:
        wish = recorded(world)
        for user in (world.foreign_worker, world.dept):
            with pytest.raises(Http404):
                wishes.wish_publish(actor=user, wish_id=wish.pk)
            assert not wishes.wishes_for_staff(user).exists()
        assert wishes.wishes_for_staff(world.official).get() == wish  # the street above sees it

    @pytest.mark.parametrize(
        ("fields", "field"),
        [({"title": "  "}, "title"), ("foreign", "place"), ("community_of_dept", "place")],
    )
    def test_bad_input_names_the_field_and_writes_nothing(self, world: World, fields: Any, field: str) -> None:
        kwargs: dict[str, Any] = {}
        if fields == "foreign":
            kwargs = {"place": world.foreign_grid.branch}
        elif fields == "community_of_dept":
            kwargs = {"actor": world.dept}
        else:
            kwargs = fields
        with pytest.raises(ValidationError) as err:
            recorded(world, **kwargs)
        assert field in err.value.message_dict
        assert counts() == (0, 0)

    def test_a_rating_off_the_five_level_scale_is_refused(self, world: World, member: User) -> None:
        wish = published(world)
        wishes.wish_claim(actor=member, wish_id=wish.pk)
        wishes.wish_fulfil(actor=member, wish_id=wish.pk, fulfilment="done")
        with pytest.raises(ValidationError) as err:
            wishes.wish_evaluate(actor=world.worker, wish_id=wish.pk, rating="great")
        assert "rating" in err.value.message_dict


@pytest.mark.django_db
def test_a_wish_unclaimed_too_long_is_flagged_to_the_community(
    world: World, member: User, client: Client, settings: Any
) -> None:
    settings.WISH_UNCLAIMED_DAYS = 7
    fresh, old = published(world), published(world)
    Wish.objects.filter(pk=old.pk).update(published_at=timezone.now() - dt.timedelta(days=8))
    client.force_login(world.official)
    html = client.get(reverse("parties:wishes")).content.decode()
    assert f'<tr data-wish="{old.pk}"' in html and f'<tr data-wish="{fresh.pk}"' in html
    row = html.split(f'<tr data-wish="{old.pk}"')[1].split("</tr>")[0]
    assert 'data-stale="true"' in row
    assert 'data-stale="true"' not in html.split(f'<tr data-wish="{fresh.pk}"')[1].split("</tr>")[0]
    home = client.get(reverse("home")).content.decode()
    assert 'data-count="stale"' in home and "1 条微心愿发布后长时间无人认领" in home


@pytest.mark.django_db
def test_a_member_claims_from_the_board_and_finds_it_under_their_wishes(
    world: World, member: User, client: Client
) -> None:
    wish = published(world)
    client.force_login(member)
    board = client.get(reverse("parties:wishes")).content.decode()
    assert f'data-wish="{wish.pk}"' in board.split('id="board"')[1]
    assert "王**" in board and "王阿姨" not in board  # the resident, masked on the board
    home = client.get(reverse("home")).content.decode()
    assert 'data-count="waiting"' in home
    response = client.post(reverse("parties:wish-claim", args=[wish.pk]))
    assert response.status_code == 302 and response["Location"] == wish.get_absolute_url()
    board = client.get(reverse("parties:wishes")).content.decode()
    assert 'id="board-empty"' in board
    assert f'<li data-wish="{wish.pk}" data-status="claimed">' in board
    # Claiming again: the wish moved on; the page says so and nothing changes.
    again = client.post(reverse("parties:wish-claim", args=[wish.pk]), follow=True)
    assert "不能" in again.content.decode()
    assert WishEvent.objects.filter(wish=wish, action="claim").count() == 1


@pytest.mark.django_db
def test_the_fulfil_form_names_the_missing_field(world: World, member: User, client: Client) -> None:
    wish = published(world)
    wishes.wish_claim(actor=member, wish_id=wish.pk)
    client.force_login(member)
    response = client.post(reverse("parties:wish-fulfil", args=[wish.pk]), {"fulfilment": " "})
    assert response.status_code == 400
    assert 'data-field="fulfilment"' in response.content.decode()
    assert Wish.objects.get(pk=wish.pk).status == WishStatus.CLAIMED


@pytest.mark.django_db
def test_the_lists_run_a_constant_number_of_queries(
    world: World, member: User, client: Client, django_assert_max_num_queries: Any
) -> None:
    for _ in range(3):
        published(world)
    client.force_login(world.official)
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("parties:wishes"))
    for _ in range(20):
        published(world)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("parties:wishes"))
    client.force_login(member)
    with django_assert_max_num_queries(12):
        client.get(reverse("parties:wishes"))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_members_claiming_at_once_give_one_claim(world: World, needs_postgres: None) -> None:
    wish = published(world)
    members = [member_account(world, f"racer{i}") for i in range(4)]
    outcomes: list[str] = []
    barrier = threading.Barrier(len(members))

    def claim(user: User) -> None:
        barrier.wait()
        try:
            wishes.wish_claim(actor=user, wish_id=wish.pk)
            outcomes.append("claimed")
        except TransitionNotAllowed:
            outcomes.append("409")
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(m,)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["409", "409", "409", "claimed"]
    assert WishEvent.objects.filter(wish=wish, action="claim").count() == 1
