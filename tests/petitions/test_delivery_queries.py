"""A delivery's cost does not grow with its recipients, and a retry still sends nothing twice."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.models import User
from petitions import reminders
from petitions.models import Notification, Reminder

from ..conftest import World
from ..factories import UserFactory, make_overdue
from ..support.webhook import FakeWebhook

pytestmark = pytest.mark.django_db


def _deliver_one(world: World, robot: FakeWebhook) -> int:
    """Deliver a fresh overdue reminder of housing's; the number of queries it took."""
    petition = world.petition(stage="dispatched")
    late = timezone.now() - dt.timedelta(hours=2)
    make_overdue(petition, late, accept_due=late)
    (reminder_id,) = reminders.record_overdue_reminders()
    with CaptureQueriesContext(connection) as ctx:
        assert reminders.deliver(reminder_id) is True
    assert Notification.objects.filter(reminder_id=reminder_id).count() == User.objects.filter(
        department=world.housing, is_active=True
    ).count()
    return sum(1 for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"])


def test_one_delivery_takes_the_same_queries_for_one_recipient_or_eight(world: World) -> None:
    world.dept.email = "dept@example.org"
    world.dept.save()
    with FakeWebhook() as robot:
        world.housing.webhook_url = robot.url
        world.housing.save()
        one = _deliver_one(world, robot)
        for i in range(7):
            UserFactory.create(username=f"housing{i}", role=User.Role.DEPARTMENT, department=world.housing,
                               email=f"housing{i}@example.org")
        eight = _deliver_one(world, robot)
    assert len(robot.bodies) == 2
    # Claim, read, candidates, who covers it, notifications, their record, email record, final state.
    assert one == eight <= 8
    assert Reminder.objects.filter(sent_at__isnull=True).count() == 0
