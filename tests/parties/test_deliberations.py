"""Deliberation (五议): 居民提议 → 两委审议 → 民主商议 → 协同决议 → 公示 → 实施 → 大众评议.

Every step from every status (the whole transition table), the notice, the tally, scope by role,
the residents' evaluation share, constant queries, and two people taking one step at once.
"""

import datetime as dt
import threading
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from governance.exceptions import TransitionNotAllowed
from governance.models import PersonalDataAccess, User
from parties import deliberations
from parties.models import (
    Deliberation,
    DeliberationEvaluation,
    DeliberationEvent,
    DeliberationSource,
    DeliberationStatus,
    Kind,
    Member,
)
from petitions.models import PetitionProposal
from petitions.proposals import petition_propose

from ..conftest import World
from ..factories import UserFactory, node

S = DeliberationStatus
TODAY = timezone.localdate()
PROPOSER = "王建国"


@pytest.fixture
def committee(world: World) -> User:
    """A worker of the community's two committees (their scope: the community)."""
    return UserFactory.create(username="committee", role=User.Role.WORKER, scope_node=world.community)


def proposed(world: World, actor: User, **fields: Any) -> Deliberation:
    data = {
        "actor": actor, "community": world.community, "title": "小区增设电动车充电桩",
        "description": "居民反映电动车在楼道充电有火灾隐患。", "proposer_name": PROPOSER,
    }
    return deliberations.deliberation_propose(**{**data, **fields})


ARGS: dict[str, dict[str, Any]] = {
    "accept": {"opinion": "两委会议同意提交居民议事会商议"},
    "reject": {"reason": "不属于社区议事范围"},
    "discuss": {
        "meeting_on": TODAY, "meeting_place": "社区议事厅", "attendees": 20,
        "minutes": "居民代表、物业、驻区单位发言，多数赞成在东门空地建充电棚。", "units": "区供电公司、物业公司",
    },
    "decide": {
        "resolution": "在东门空地建设充电棚一处，费用由物业专项维修资金列支。", "votes_for": 15,
        "votes_against": 3, "votes_abstain": 2, "responsible": "社区居委会、物业公司",
        "deadline": TODAY + dt.timedelta(days=30),
    },
    "publish": {},
    "carry_out": {"carried_out_note": "充电棚已建成投用。"},
    "evaluate": {"satisfaction": "very_satisfied", "resident_name": "李大爷", "comment": "方便多了"},
}
# The way through, and the step that leads into each status.
PATH = [("accept", S.ACCEPTED), ("discuss", S.DISCUSSED), ("decide", S.DECIDED), ("publish", S.NOTICED),
        ("carry_out", S.CARRIED_OUT), ("evaluate", S.EVALUATED)]


def act(action: str, actor: User, deliberation: Deliberation, **extra: Any) -> Deliberation:
    service = getattr(deliberations, f"deliberation_{action}")
    return service(actor=actor, deliberation_id=deliberation.pk, **{**ARGS[action], **extra})


def end_notice(deliberation: Deliberation) -> None:
    """The public notice posted days ago has run its course."""
    past = timezone.now() - dt.timedelta(days=1)
    Deliberation.objects.filter(pk=deliberation.pk).update(
        notice_starts_at=past - dt.timedelta(days=5), notice_ends_at=past
    )


def at(world: World, actor: User, status: str) -> Deliberation:
    """A matter walked to ``status`` through the services."""
    deliberation = proposed(world, actor)
    if status == S.REJECTED:
        return act("reject", actor, deliberation)
    for action, reached in PATH:
        if deliberation.status == status:
            break
        if action == "carry_out":
            end_notice(deliberation)
        deliberation = act(action, actor, deliberation)
        assert deliberation.status == reached
    assert deliberation.status == status
    return deliberation


def counts() -> tuple[int, int, int]:
    return Deliberation.objects.count(), DeliberationEvent.objects.count(), DeliberationEvaluation.objects.count()


@pytest.mark.django_db
def test_from_the_residents_proposal_to_their_evaluation(world: World, committee: User) -> None:
    deliberation = at(world, committee, S.EVALUATED)
    steps = list(deliberation.events.values_list("action", "from_status", "to_status", "actor__username"))
    assert steps == [
        ("propose", "", "proposed", "committee"),
        ("accept", "proposed", "accepted", "committee"),
        ("discuss", "accepted", "discussed", "committee"),
        ("decide", "discussed", "decided", "committee"),
        ("publish", "decided", "noticed", "committee"),
        ("carry_out", "noticed", "carried_out", "committee"),
        ("evaluate", "carried_out", "evaluated", "committee"),
    ]
    times = list(deliberation.events.values_list("at", flat=True))
    assert times == sorted(times)
    deliberation.refresh_from_db()
    assert (deliberation.votes_for, deliberation.attendees, deliberation.resolution) == (
        15, 20, ARGS["decide"]["resolution"]
    )
    assert deliberation.notice_ends_at - deliberation.notice_starts_at == dt.timedelta(days=5)  # type: ignore[operator]


@pytest.mark.django_db
@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(deliberations.TRANSITIONS))
def test_every_step_from_every_status(world: World, committee: User, status: str, action: str) -> None:
    """The whole table: allowed from its sources (to its target), 409 from every other status, nothing written."""
    deliberation = at(world, committee, status)
    end_notice(deliberation)  # the notice is not what this test is about (see the next one)
    transition = deliberations.TRANSITIONS[action]
    if status in transition.sources:
        after = act(action, committee, deliberation)
        assert after.status == transition.target
        assert deliberation.events.order_by("-at", "-id").values_list("action", flat=True).first() == action
    else:
        before = counts()
        with pytest.raises(TransitionNotAllowed):
            act(action, committee, deliberation)
        assert counts() == before
        assert Deliberation.objects.get(pk=deliberation.pk).status == status


@pytest.mark.django_db
def test_the_resolution_is_carried_out_only_after_its_public_notice(
    world: World, committee: User, settings: Any
) -> None:
    settings.DELIBERATION_NOTICE_DAYS = 7
    deliberation = at(world, committee, S.NOTICED)
    assert deliberation.notice_ends_at - deliberation.notice_starts_at == dt.timedelta(days=7)  # type: ignore[operator]
    with pytest.raises(TransitionNotAllowed) as refused:
        act("carry_out", committee, deliberation)
    assert "公示" in str(refused.value)
    assert Deliberation.objects.get(pk=deliberation.pk).status == S.NOTICED
    end_notice(deliberation)
    assert act("carry_out", committee, deliberation).status == S.CARRIED_OUT


@pytest.mark.django_db
def test_the_public_notice_shows_the_resolution_and_no_personal_data_and_ends(
    world: World, committee: User, client: Client
) -> None:
    member = Member.objects.create(name="赵党员", organization=world.branch)
    deliberation = at(world, committee, S.DECIDED)
    Deliberation.objects.get(pk=deliberation.pk).members.add(member)
    url = reverse("deliberations:notice", args=[deliberation.pk])
    assert client.get(url).status_code == 404  # decided, not yet on notice
    act("publish", committee, deliberation)
    response = client.get(url)  # nobody signed in
    html = response.content.decode()
    assert response.status_code == 200
    assert ARGS["decide"]["resolution"] in html and "15" in html
    for personal in (PROPOSER, "王*", "赵党员", "李大爷", ARGS["discuss"]["minutes"], "committee"):
        assert personal not in html
    end_notice(deliberation)
    assert client.get(url).status_code == 404  # the notice period has ended


@pytest.mark.django_db
def test_a_tally_with_more_votes_than_attendees_is_refused_naming_the_field(
    world: World, committee: User, client: Client
) -> None:
    deliberation = at(world, committee, S.DISCUSSED)
    before = counts()
    with pytest.raises(ValidationError) as err:
        act("decide", committee, deliberation, votes_for=15, votes_against=5, votes_abstain=1)
    assert "votes_for" in err.value.message_dict
    client.force_login(committee)
    form = {**ARGS["decide"], "votes_for": 18, "votes_against": 2, "votes_abstain": 1}
    response = client.post(reverse("deliberations:decide", args=[deliberation.pk]), form)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-field="votes_for"' in html and "21 票" in html and "20 人" in html
    negative = client.post(reverse("deliberations:decide", args=[deliberation.pk]), {**form, "votes_against": -1})
    assert negative.status_code == 400 and 'data-field="votes_against"' in negative.content.decode()
    assert counts() == before and Deliberation.objects.get(pk=deliberation.pk).status == S.DISCUSSED
    # Exactly as many votes as attendees is a full tally.
    assert act("decide", committee, deliberation, votes_for=18, votes_against=2, votes_abstain=0).status == S.DECIDED


@pytest.mark.django_db
def test_the_meeting_form_names_missing_fields_and_members_of_another_community(
    world: World, committee: User, client: Client
) -> None:
    deliberation = at(world, committee, S.ACCEPTED)
    elsewhere = Member.objects.create(name="外社区党员", organization=world.foreign_grid.branch)
    with pytest.raises(ValidationError) as err:
        act("discuss", committee, deliberation, members=[elsewhere])
    assert "members" in err.value.message_dict
    client.force_login(committee)
    response = client.post(reverse("deliberations:discuss", args=[deliberation.pk]), {"meeting_place": " "})
    html = response.content.decode()
    assert response.status_code == 400
    for field in ("meeting_on", "meeting_place", "attendees", "minutes"):
        assert f'data-field="{field}"' in html
    assert Deliberation.objects.get(pk=deliberation.pk).status == S.ACCEPTED
    ours = Member.objects.create(name="本社区党员", organization=world.branch)
    form = {**ARGS["discuss"], "meeting_on": TODAY.isoformat(), "members": [ours.pk]}
    assert client.post(reverse("deliberations:discuss", args=[deliberation.pk]), form).status_code == 302
    assert list(Deliberation.objects.get(pk=deliberation.pk).members.all()) == [ours]


@pytest.mark.django_db
def test_who_sees_and_acts(world: World, committee: User, client: Client) -> None:
    """The community and the street above see and act; a grid worker below, another street and departments do not."""
    deliberation = proposed(world, committee)
    assert deliberations.deliberations_for(world.official).get() == deliberation
    assert act("accept", world.official, deliberation).status == S.ACCEPTED
    for outsider in (world.foreign_worker, world.worker, world.dept):
        assert not deliberations.deliberations_for(outsider).exists()
        with pytest.raises(Http404):
            act("discuss", outsider, deliberation)
        client.force_login(outsider)
        assert client.get(reverse("deliberations:detail", args=[deliberation.pk])).status_code == 404
        listing = client.get(reverse("deliberations:list")).content.decode()
        assert f'data-deliberation="{deliberation.pk}"' not in listing
        assert client.get(f"/api/v1/deliberations/{deliberation.pk}/").status_code == 404
    with pytest.raises(ValidationError) as err:
        proposed(world, world.foreign_worker)
    assert "community" in err.value.message_dict
    for insider in (committee, world.official, world.admin):
        client.force_login(insider)
        assert client.get(reverse("deliberations:detail", args=[deliberation.pk])).status_code == 200


@pytest.mark.django_db
def test_the_proposer_is_masked_in_lists_and_whole_on_the_page_logged(
    world: World, committee: User, client: Client
) -> None:
    deliberation = proposed(world, committee)
    client.force_login(committee)
    listing = client.get(reverse("deliberations:list")).content.decode()
    assert "王**" in listing and PROPOSER not in listing
    api = client.get("/api/v1/deliberations/").json()
    assert api["results"][0]["proposer"] == "王**"
    page = client.get(reverse("deliberations:detail", args=[deliberation.pk])).content.decode()
    assert PROPOSER in page
    assert PersonalDataAccess.objects.filter(object_id=deliberation.pk, fields="proposer_name").count() == 1


@pytest.mark.django_db
def test_the_share_of_satisfied_residents(world: World, committee: User, client: Client) -> None:
    deliberation = at(world, committee, S.CARRIED_OUT)
    for level in ("very_satisfied", "basically_satisfied", "dissatisfied"):
        act("evaluate", committee, deliberation, satisfaction=level)
    share = deliberations.satisfaction_share(deliberation)
    assert (share.satisfied, share.total, share.percent) == (2, 3, 66.7)
    with pytest.raises(ValidationError) as err:
        act("evaluate", committee, deliberation, satisfaction="great")
    assert "satisfaction" in err.value.message_dict
    client.force_login(committee)
    html = client.get(reverse("deliberations:detail", args=[deliberation.pk])).content.decode()
    assert 'data-satisfied="2" data-total="3"' in html and "66.7" in html
    assert "李**" in html and "李大爷" not in html
    body = client.get(f"/api/v1/deliberations/{deliberation.pk}/").json()
    assert body["evaluation"] == {"satisfied": 2, "total": 3, "percent": 66.7}
    assert [e["action"] for e in body["events"]][-3:] == ["evaluate"] * 3


@pytest.mark.django_db
def test_a_step_page_by_page_and_a_step_not_allowed_now(world: World, committee: User, client: Client) -> None:
    client.force_login(committee)
    response = client.post(
        reverse("deliberations:propose"),
        {"community": world.community.pk, "title": "加装电梯", "proposer_name": "张三"},
    )
    deliberation = Deliberation.objects.get(title="加装电梯")
    assert response.status_code == 302 and response["Location"] == deliberation.get_absolute_url()
    page = client.get(deliberation.get_absolute_url()).content.decode()
    assert 'name="accept"' in page and 'name="reject"' in page and 'name="decide"' not in page
    assert client.post(reverse("deliberations:reject", args=[deliberation.pk]), {"reason": " "}).status_code == 400
    assert client.post(reverse("deliberations:accept", args=[deliberation.pk]), {}).status_code == 302
    again = client.post(reverse("deliberations:accept", args=[deliberation.pk]), {}, follow=True)
    assert "不能" in again.content.decode()
    assert DeliberationEvent.objects.filter(deliberation=deliberation, action="accept").count() == 1
    bad = client.post(reverse("deliberations:propose"), {"community": world.community.pk, "title": " "})
    assert bad.status_code == 400 and 'data-field="title"' in bad.content.decode()


@pytest.mark.django_db
def test_the_home_page_says_what_waits_for_the_community(world: World, committee: User, client: Client) -> None:
    at(world, committee, S.PROPOSED)
    at(world, committee, S.PROPOSED)
    at(world, committee, S.NOTICED)  # the notice still runs: nothing to do yet
    ended = at(world, committee, S.NOTICED)
    end_notice(ended)
    client.force_login(committee)
    html = client.get(reverse("home")).content.decode()
    assert 'data-count="accept"' in html and "2 个议题待两委审议" in html
    assert 'data-count="carry_out"' in html and 'data-count="publish"' not in html
    client.force_login(world.foreign_worker)
    assert 'id="deliberations-panel"' not in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_a_recurring_petition_becomes_a_proposal_linked_to_it(world: World, committee: User, client: Client) -> None:
    petition = world.petition("resolved", reporter_name="刘女士")
    link = petition_propose(actor=world.official, petition_id=petition.pk, title="楼道灯反复损坏")
    deliberation = link.deliberation
    assert (deliberation.community, deliberation.source, deliberation.proposer_name) == (
        world.community, DeliberationSource.PETITION, "刘女士",
    )
    with pytest.raises(ValidationError):
        petition_propose(actor=world.official, petition_id=petition.pk, title="again")
    with pytest.raises(Http404):
        petition_propose(actor=world.foreign_worker, petition_id=petition.pk, title="x")
    with pytest.raises(ValidationError) as err:  # a grid worker sees the petition but not the community
        petition_propose(actor=world.worker, petition_id=world.petition().pk, title="x")
    assert "community" in err.value.message_dict
    assert PetitionProposal.objects.count() == 1 and Deliberation.objects.count() == 1
    client.force_login(committee)
    page = client.get(deliberation.get_absolute_url()).content.decode()
    assert f'href="{petition.get_absolute_url()}"' in page.split('id="sources"')[1]


@pytest.mark.django_db
def test_the_lists_run_a_constant_number_of_queries(
    world: World, committee: User, client: Client, django_assert_max_num_queries: Any
) -> None:
    for status in (S.PROPOSED, S.DECIDED, S.EVALUATED):
        at(world, committee, status)
    client.force_login(world.official)
    pages = (reverse("deliberations:list"), "/api/v1/deliberations/", reverse("home"))
    captured = {}
    for url in pages:
        with django_assert_max_num_queries(40) as few:
            assert client.get(url).status_code == 200
        captured[url] = len(few.captured_queries)
    for _ in range(15):
        at(world, committee, S.ACCEPTED)
    for url in pages:
        with django_assert_max_num_queries(captured[url]):
            client.get(url)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_taking_one_step_at_once_give_one_step(world: World, needs_postgres: None) -> None:
    committee = UserFactory.create(username="committee", role=User.Role.WORKER, scope_node=world.community)
    deliberation = proposed(world, committee)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def accept(user: User) -> None:
        barrier.wait()
        try:
            act("accept", user, deliberation)
            outcomes.append("accepted")
        except TransitionNotAllowed:
            outcomes.append("409")
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(u,)) for u in (committee, world.official)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["409", "accepted"]
    assert DeliberationEvent.objects.filter(deliberation=deliberation, action="accept").count() == 1


@pytest.mark.django_db
def test_a_village_deliberates_the_same_way(world: World) -> None:
    village = node(Kind.VILLAGE, node(Kind.TOWN))
    head = UserFactory.create(username="village", role=User.Role.WORKER, scope_node=village)
    deliberation = proposed(world, head, community=village)
    assert act("accept", head, deliberation).status == S.ACCEPTED
    with pytest.raises(ValidationError) as err:  # a grid branch is not a community
        proposed(world, head, community=world.branch)
    assert "community" in err.value.message_dict


@pytest.mark.django_db
def test_the_petition_page_turns_it_into_a_proposal(world: World, client: Client) -> None:
    petition = world.petition("closed")
    client.force_login(world.official)
    page = client.get(petition.get_absolute_url()).content.decode()
    assert 'name="propose"' in page
    response = client.post(reverse("petitions:propose", args=[petition.pk]), {"title": "楼道灯反复损坏"})
    deliberation = Deliberation.objects.get()
    assert response.status_code == 302 and response["Location"] == deliberation.get_absolute_url()
    page = client.get(petition.get_absolute_url()).content.decode()
    assert 'id="proposal"' in page and deliberation.get_absolute_url() in page and 'name="propose"' not in page
    again = client.post(reverse("petitions:propose", args=[petition.pk]), {"title": "再来"}, follow=True)
    assert "已转为议题" in again.content.decode() and Deliberation.objects.count() == 1
    client.force_login(world.dept)
    assert 'name="propose"' not in client.get(petition.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_the_admin_is_scoped_read_only_and_masks_the_proposer(world: World, committee: User, client: Client) -> None:
    from django.contrib.auth.models import Permission

    here = at(world, committee, S.DECIDED)
    far_head = UserFactory.create(username="far", role=User.Role.WORKER, scope_node=world.foreign_grid.branch.parent)
    far = proposed(world, far_head, community=world.foreign_grid.branch.parent, title="江边议题")
    official = world.official
    official.is_staff = True
    official.save()
    official.user_permissions.set(Permission.objects.filter(content_type__app_label="parties"))
    client.force_login(official)
    listing = client.get(reverse("admin:parties_deliberation_changelist")).content.decode()
    assert here.title in listing and far.title not in listing
    assert "王**" in listing and PROPOSER not in listing
    assert client.get(reverse("admin:parties_deliberation_change", args=[far.pk])).status_code in (302, 404)
    page = client.get(reverse("admin:parties_deliberation_change", args=[here.pk])).content.decode()
    assert PROPOSER not in page
    assert "已协同决议" in page and 'name="events-0-note"' not in page  # the timeline, read-only
    assert client.get(reverse("admin:parties_deliberation_add")).status_code == 403
