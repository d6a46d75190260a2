"""Only the workflow moves a petition on: its status cannot be assigned, and its current deadline follows it."""

import pytest

from petitions import services
from petitions.models import Petition, Status

from ..conftest import World


@pytest.mark.django_db
def test_assigning_the_status_is_refused_and_writes_nothing(world: World) -> None:
    petition = world.petition()
    with pytest.raises(AttributeError, match="workflow"):
        petition.status = Status.CLOSED
    assert Petition.objects.get(pk=petition.pk).status == Status.REGISTERED
    petition.status = Status.REGISTERED  # setting it to what it is (as full_clean does) is harmless


@pytest.mark.django_db
def test_a_loaded_petition_refreshes_to_the_status_the_workflow_wrote(world: World) -> None:
    petition = world.petition()
    services.petition_dispatch(actor=world.official, petition_id=petition.pk, department=world.housing)
    petition.refresh_from_db()
    assert petition.status == Status.DISPATCHED
    assert petition.current_due == petition.accept_due  # the deadline of the stage it is in
    petition.refresh_from_db(fields=["title"])
    assert petition.status == Status.DISPATCHED
