"""Demo: where the first street's grids lie (GeoJSON boundaries) and how its petitions came in (issue 8)."""

from decimal import Decimal

from django.db import transaction

from grids.models import Grid
from parties.models import Organization
from petitions.models import Channel, CoordinateSystem, Petition

# The first street's grids as a row of squares 0.01° wide (about 750 m) near Fujin (富锦, seed 003).
WEST, SOUTH, SIDE = Decimal("132.030"), Decimal("47.250"), Decimal("0.010")
PLACES = ["3栋北门", "菜市场后巷", "小区东门", "8栋楼下", "巷口餐馆"]


@transaction.atomic
def seed_places() -> None:
    """Boundaries for the first street's grids; channels, places and points on its petitions (idempotent)."""
    street = Organization.objects.filter(code="s01").first()
    if street is None or Grid.objects.exclude(boundary=None).exists():
        return
    grids = list(Grid.objects.filter(branch__tree_id=street.tree_id).order_by("code"))
    centres: dict[int, tuple[Decimal, Decimal]] = {}
    for i, grid in enumerate(grids):
        west = WEST + SIDE * i
        corners = [(west, SOUTH), (west + SIDE, SOUTH), (west + SIDE, SOUTH + SIDE), (west, SOUTH + SIDE)]
        grid.boundary = {"type": "Polygon", "coordinates": [[[float(x), float(y)] for x, y in [*corners, corners[0]]]]}
        centres[grid.pk] = (SOUTH + SIDE / 2, west + SIDE / 2)
    Grid.objects.bulk_update(grids, ["boundary"])
    channels = Channel.values
    petitions = list(Petition.objects.filter(grid__in=grids).order_by("id"))
    for i, p in enumerate(petitions):
        p.channel = channels[i % len(channels)]
        p.place = PLACES[i % len(PLACES)]
        if i % 2 == 0:  # half carry the point a Chinese map app reported
            p.latitude, p.longitude = centres[p.grid_id]
            p.coordinate_system = CoordinateSystem.GCJ02
    Petition.objects.bulk_update(petitions, ["channel", "place", "latitude", "longitude", "coordinate_system"])
