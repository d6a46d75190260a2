"""A recurring petition turned into a matter for deliberation (五议), and the link between them.

The chain (``parties``) may not know petitions, so the link is kept here (``PetitionProposal``):
this module creates the matter through the parties' service and records the link in the same
transaction, and tells the matter's page which petitions it came from (``register_source_links``).
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.access import Viewer, get_visible_or_404, restrict
from governance.models import User
from parties import deliberations
from parties.models import Deliberation, DeliberationSource
from parties.wishes import community_of

from .models import Petition, PetitionProposal, Status


def petition_propose(*, actor: User, petition_id: int, title: str, description: str = "") -> PetitionProposal:
    """Turn a petition into a proposal of its community's residents, linked to it (居民提议, from petitions).

    404 when the petition is not the actor's to see; the field named when it is cancelled, already
    linked, or its community not in the actor's area (a grid worker asks their community).
    """
    with transaction.atomic():
        petition = get_visible_or_404(
            actor, Petition.objects.select_for_update(of=("self",)).select_related("grid__branch"), pk=petition_id
        )
        if petition.status == Status.CANCELLED:
            raise ValidationError({"title": _("A cancelled petition is not proposed for deliberation.")})
        if PetitionProposal.objects.filter(petition=petition).exists():
            raise ValidationError({"title": _("This petition is already linked to a matter for deliberation.")})
        community = community_of(petition.grid.branch)
        if community is None:
            raise ValidationError({"title": _("The petition's grid is in no community.")})
        deliberation = deliberations.deliberation_propose(
            actor=actor,
            community=community,
            title=title,
            description=description or petition.description,
            proposer_name=petition.reporter_name,
            source=DeliberationSource.PETITION,
        )
        return PetitionProposal.objects.create(
            petition=petition, deliberation=deliberation, linked_by=actor, linked_at=timezone.now()
        )


@deliberations.register_source_links
def petitions_of(user: Viewer, deliberation: Deliberation) -> list[tuple[str, str]]:
    """The petitions a matter came from, those the user may see, for its page."""
    if deliberation.source != DeliberationSource.PETITION:
        return []
    petitions = restrict(user, Petition.objects.filter(proposal__deliberation=deliberation)).order_by("registered_at")
    return [(f"{p.number} {p.title}", p.get_absolute_url()) for p in petitions]


def proposal_of(petition: Petition) -> Any:
    """The link of a petition to its matter, or None."""
    return PetitionProposal.objects.filter(petition=petition).select_related("deliberation").first()
