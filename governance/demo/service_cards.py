"""Demo: the service cards of the demo worker's street, work phones on them, and one public report.

Idempotent: work phones are set where blank, cards made where missing, and the resident's report
from the card made once (its private status link is printed, since only its hash is stored).
"""

from collections.abc import Callable

from django.db import transaction

from grids.models import Grid, GridAssignment
from parties.models import Organization
from petitions import cards, public
from petitions.models import Category, PublicReport


@transaction.atomic
def seed_service_cards(log: Callable[[str], object] = print) -> None:
    street = Organization.objects.get(code="s01")
    grids = list(Grid.objects.filter(branch__tree_id=street.tree_id).order_by("code"))
    blank = GridAssignment.objects.filter(grid__in=grids, work_phone="").order_by("id")
    for n, assignment in enumerate(blank):
        assignment.work_phone = f"027-8{(assignment.grid_id * 7 + n) % 1000:03d}{n % 10000:04d}"
        assignment.save(update_fields=["work_phone"])
    made = [cards.card_for(grid) for grid in grids]
    worker_grid = GridAssignment.objects.filter(user__username="worker").select_related("grid").first()
    if worker_grid is None or PublicReport.objects.exists():
        return
    card = next(c for c in made if c.grid_id == worker_grid.grid_id)
    category = Category.objects.filter(is_active=True, code="roof-leak").first() or Category.objects.first()
    petition, token = public.register_public(
        card=card,
        data={"category": category, "description": "6栋门口的路灯不亮，晚上回家看不清台阶。", "place": "6栋门口"},
    )
    log(f"service cards: {len(made)}; a resident's report {petition.number}, status page /s/{token}/")
