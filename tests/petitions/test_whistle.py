"""The worker's whistle (吹哨, 上报): the grid reports up what it cannot handle, with a note.

It goes to the street's dispatch queue with its own dispatch deadline on the working-day calendar,
the street dispatches it, and the grid can still resolve it on the spot. Pages, API and services.
"""

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from petitions import services
from petitions.deadlines import add_working_days
from petitions.models import Petition, PetitionEvent, Reminder, Status
from petitions.reminders import recipients, record_overdue_reminders
from petitions.workflow import TransitionNotAllowed

from ..conftest import World
from .test_workflow import snapshot

pytestmark = pytest.mark.django_db


def report(world: World, p: Petition, note: str = "涉及燃气管道，网格无法处理") -> Petition:
    return services.petition_report(actor=world.worker, petition_id=p.pk, note=note)


def test_the_worker_reports_up_with_a_note_and_the_street_gets_a_dispatch_deadline(world: World) -> None:
    world.category.dispatch_working_days = 2
    world.category.save()
    p = world.petition()
    before = timezone.now()
    report(world, p)
    p.refresh_from_db()
    assert p.status == Status.REPORTED
    assert p.dispatch_due is not None
    # Two working days on the calendar (holidays and 调休 honoured), the same time of day.
    assert add_working_days(before, 2) <= p.dispatch_due <= add_working_days(timezone.now(), 2)
    assert p.current_due == p.dispatch_due
    event = PetitionEvent.objects.filter(petition=p).latest("id")
    assert (event.action, event.actor, event.from_status, event.to_status, event.note) == (
        "report", world.worker, Status.REGISTERED, Status.REPORTED, "涉及燃气管道，网格无法处理"
    )


def test_the_street_dispatches_a_reported_petition(world: World) -> None:
    p = report(world, world.petition())
    services.petition_dispatch(actor=world.official, petition_id=p.pk, department=world.housing)
    p.refresh_from_db()
    assert p.status == Status.DISPATCHED
    assert p.current_due == p.accept_due


def test_the_grid_can_still_resolve_what_it_reported(world: World) -> None:
    p = report(world, world.petition())
    services.petition_resolve(actor=world.worker, petition_id=p.pk, result="联系燃气公司上门，已修复")
    p.refresh_from_db()
    assert p.status == Status.RESOLVED
    assert p.resolved_on_grid


def test_a_report_without_a_note_names_the_field_and_changes_nothing(world: World) -> None:
    p = world.petition()
    before = snapshot(p.pk)
    with pytest.raises(ValidationError) as exc:
        report(world, p, note="   ")
    assert "note" in exc.value.message_dict
    assert snapshot(p.pk) == before


def test_only_the_grid_reports_and_only_once(world: World) -> None:
    p = world.petition()
    with pytest.raises(PermissionDenied):
        services.petition_report(actor=world.official, petition_id=p.pk, note="街道自己上报")
    report(world, p)
    before = snapshot(p.pk)
    with pytest.raises(TransitionNotAllowed):
        report(world, p, note="再报一次")
    assert snapshot(p.pk) == before


def test_an_overdue_dispatch_reminds_the_street(world: World) -> None:
    p = report(world, world.petition())
    p.refresh_from_db()
    assert p.dispatch_due is not None
    created = record_overdue_reminders(now=p.dispatch_due + dt.timedelta(minutes=1))
    reminder = Reminder.objects.get(pk__in=created, petition=p)
    assert reminder.stage == Status.REPORTED
    assert set(recipients(reminder)) == {world.official}


def test_the_pages_report_up_and_the_street_finds_it_in_its_queue(world: World) -> None:
    p = world.petition(title="燃气管道漏气")
    worker = Client()
    worker.force_login(world.worker, backend="django.contrib.auth.backends.ModelBackend")
    page = worker.get(p.get_absolute_url()).content.decode()
    assert 'data-action="report"' in page
    empty = worker.post(reverse("petitions:report", args=[p.pk]), {"note": ""})
    assert empty.status_code == 400
    assert Petition.objects.get(pk=p.pk).status == Status.REGISTERED
    done = worker.post(reverse("petitions:report", args=[p.pk]), {"note": "网格无法处理"})
    assert done.status_code == 302
    assert Petition.objects.get(pk=p.pk).status == Status.REPORTED

    official = Client()
    official.force_login(world.official, backend="django.contrib.auth.backends.ModelBackend")
    home = official.get("/").content.decode()
    assert re.search(r'id="reported"[^>]*>[^<]*1', home), "the street's home page counts the reported petition"
    queue = official.get(reverse("petitions:list") + "?status=reported").content.decode()
    assert re.findall(r'<li data-number="([^"]+)"', queue) == [p.number]
    detail = official.get(p.get_absolute_url()).content.decode()
    assert 'id="dispatch-due"' in detail and 'data-action="dispatch"' in detail


def test_the_api_reports_up(world: World) -> None:
    p = world.petition()
    api = APIClient()
    api.force_authenticate(world.worker)
    refused = api.post(f"/api/v1/petitions/{p.pk}/report/", {"note": ""}, format="json")
    assert refused.status_code == 400 and "note" in refused.json()
    done = api.post(f"/api/v1/petitions/{p.pk}/report/", {"note": "网格无法处理"}, format="json")
    assert done.status_code == 200
    assert done.json()["status"] == "reported"
    again = api.post(f"/api/v1/petitions/{p.pk}/report/", {"note": "再报"}, format="json")
    assert again.status_code == 409
