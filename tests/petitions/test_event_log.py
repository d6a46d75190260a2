"""The timeline is append-only: the database itself refuses to edit or delete an event."""

import pytest
from django.db import DatabaseError, transaction

from petitions import services
from petitions.models import PetitionEvent

from ..conftest import World


@pytest.mark.postgres
@pytest.mark.django_db
def test_events_cannot_be_edited_or_deleted(world: World, needs_postgres: None) -> None:
    petition = world.petition(title="路灯不亮", description="3栋门口")
    event = PetitionEvent.objects.get(petition=petition)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        PetitionEvent.objects.filter(pk=event.pk).update(note="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        PetitionEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.note == ""
    services.petition_dispatch(actor=world.official, petition_id=petition.pk, department=world.housing)
    assert PetitionEvent.objects.filter(petition=petition).count() == 2  # adding still works
