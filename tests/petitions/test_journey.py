"""Whole journeys through the closed loop, read back as the timeline a user sees on the petition page."""


import pytest

from petitions import selectors, services
from petitions.models import Status

from ..conftest import World


def timeline(world: World, petition_id: int) -> list[tuple[str, str, str, str, str, str | None]]:
    """(action, who, from, to, note, department) for each step, as the official sees them."""
    petition = selectors.petition_detail_for(world.official, petition_id)
    return [
        (
            e.action,
            e.actor.username if e.actor else "",
            e.from_status,
            e.to_status,
            e.note,
            e.department.code if e.department else None,
        )
        for e in petition.events.all()
    ]


@pytest.mark.django_db
def test_misrouted_then_reopened_then_closed(world: World) -> None:
    petition = world.petition(
        title="屋顶漏水",
        description="3栋2单元602顶楼下雨漏水，已持续一周",
        reporter_name="李阿姨",
        reporter_phone="13912345678",
    )
    pk = petition.pk
    services.petition_dispatch(actor=world.official, petition_id=pk, department=world.police, note="请派出所处理")
    services.petition_return(actor=world.police_staff, petition_id=pk, reason="房屋维修不属于公安职责")
    services.petition_dispatch(actor=world.official, petition_id=pk, department=world.housing, note="转住建局")
    services.petition_accept(actor=world.dept, petition_id=pk, note="已签收")
    services.petition_resolve(actor=world.dept, petition_id=pk, result="已修补防水层")
    services.petition_follow_up(
        actor=world.worker, petition_id=pk, reached=True, solved=False, satisfaction="dissatisfied", note="仍然渗水"
    )

    reopened = selectors.petition_detail_for(world.dept, pk)
    assert reopened.status == Status.DISPATCHED
    assert reopened.department == world.housing  # the same department, not back to the street
    assert reopened.rehandle_count == 1 and not reopened.escalated

    services.petition_accept(actor=world.dept, petition_id=pk, note="重办签收")
    services.petition_resolve(actor=world.dept, petition_id=pk, result="更换整块防水卷材")
    services.petition_follow_up(
        actor=world.worker, petition_id=pk, reached=True, solved=True, satisfaction="very_satisfied", note="已不漏"
    )

    final = selectors.petition_detail_for(world.official, pk)
    assert final.status == Status.CLOSED
    assert final.closed_at is not None and final.current_due is None
    assert final.result == "更换整块防水卷材"
    assert final.rehandle_count == 1
    assert [(f.satisfaction, f.solved) for f in final.follow_ups.all()] == [
        ("dissatisfied", False),
        ("very_satisfied", True),
    ]
    assert timeline(world, pk) == [
        ("register", "worker", "", "registered", "", None),
        ("dispatch", "official", "registered", "dispatched", "请派出所处理", "police"),
        ("return", "police", "dispatched", "registered", "房屋维修不属于公安职责", "police"),
        ("dispatch", "official", "registered", "dispatched", "转住建局", "housing"),
        ("accept", "dept", "dispatched", "accepted", "已签收", "housing"),
        ("resolve", "dept", "accepted", "resolved", "已修补防水层", "housing"),
        ("reopen", "worker", "resolved", "dispatched", "仍然渗水", "housing"),
        ("accept", "dept", "dispatched", "accepted", "重办签收", "housing"),
        ("resolve", "dept", "accepted", "resolved", "更换整块防水卷材", "housing"),
        ("follow_up", "worker", "resolved", "closed", "已不漏", "housing"),
    ]
    events = list(final.events.all())
    assert [e.at for e in events] == sorted(e.at for e in events)


@pytest.mark.django_db
def test_police_no_longer_sees_the_petition_it_returned(world: World) -> None:
    petition = world.petition(stage="dispatched", department=world.police, title="噪音扰民", description="夜间施工")
    assert selectors.petition_detail_for(world.police_staff, petition.pk).status == Status.DISPATCHED
    services.petition_return(actor=world.police_staff, petition_id=petition.pk, reason="请城管处理")
    _, listed = selectors.petition_list_for(world.police_staff)
    assert list(listed) == []


@pytest.mark.django_db
def test_resolved_on_the_grid_then_followed_up(world: World) -> None:
    petition = world.petition(title="楼道灯坏", description="5栋3楼")
    services.petition_resolve(actor=world.worker, petition_id=petition.pk, result="网格员已更换灯泡")
    services.petition_follow_up(
        actor=world.worker, petition_id=petition.pk, reached=True, solved=True, satisfaction="basically_satisfied"
    )
    final = selectors.petition_detail_for(world.worker, petition.pk)
    assert final.status == Status.CLOSED
    assert final.resolved_on_grid and final.department is None
    assert [(e.action, e.from_status, e.to_status) for e in final.events.all()] == [
        ("register", "", "registered"),
        ("resolve_on_grid", "registered", "resolved"),
        ("follow_up", "resolved", "closed"),
    ]


@pytest.mark.django_db
def test_dissatisfied_with_a_grid_resolution_goes_back_to_the_grid_then_to_a_department(world: World) -> None:
    petition = world.petition(title="邻里纠纷", description="楼上漏水到楼下")
    pk = petition.pk
    services.petition_resolve(actor=world.worker, petition_id=pk, result="调解达成一致")
    services.petition_follow_up(
        actor=world.worker, petition_id=pk, reached=True, solved=False, satisfaction="dissatisfied"
    )
    back = selectors.petition_detail_for(world.official, pk)
    assert back.status == Status.REGISTERED and back.rehandle_count == 1
    # Back on the grid, the street can now send it to a department.
    services.petition_dispatch(actor=world.official, petition_id=pk, department=world.housing)
    services.petition_accept(actor=world.dept, petition_id=pk)
    services.petition_resolve(actor=world.dept, petition_id=pk, result="维修管道")
    after = selectors.petition_detail_for(world.official, pk)
    assert after.status == Status.RESOLVED and not after.resolved_on_grid
    assert [e.action for e in after.events.all()] == [
        "register", "resolve_on_grid", "reopen_on_grid", "dispatch", "accept", "resolve"
    ]
