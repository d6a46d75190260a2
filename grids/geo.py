"""Grid boundaries as GeoJSON (a Polygon or MultiPolygon), and which grid holds a point.

Positions are GeoJSON's ``[longitude, latitude]``. A point is in a boundary by the even-odd rule over
all of its rings (a hole's ring flips it back out), in plain Python: a grid's boundary has a few
dozen corners and a street a few hundred grids, far below what would call for a spatial index.

GCJ-02 (Chinese maps), WGS-84 (GPS, browsers) and BD-09 (Baidu) are treated alike here: they differ
by a few hundred metres in cities, so near an edge the grid suggested may be the neighbour's. It is
a suggestion the worker confirms, never a rule; converting between the systems is for the map that
comes later.
"""

from collections.abc import Iterable
from itertools import pairwise
from typing import Any, SupportsFloat

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

Ring = list[tuple[float, float]]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _ring(raw: Any, where: str) -> Ring:
    if not isinstance(raw, list) or len(raw) < 4:
        raise ValidationError(_("%(where)s: a ring needs at least four positions, the last equal to the first.")
                              % {"where": where})
    ring: Ring = []
    for position in raw:
        if not (isinstance(position, list) and len(position) in (2, 3) and all(_number(v) for v in position)):
            raise ValidationError(_("%(where)s: each position is [longitude, latitude] in numbers.") % {"where": where})
        lng, lat = float(position[0]), float(position[1])
        if not (-180 <= lng <= 180 and -90 <= lat <= 90):
            raise ValidationError(
                _("%(where)s: [%(lng)s, %(lat)s] is not [longitude, latitude]: longitude within ±180, latitude "
                  "within ±90.") % {"where": where, "lng": position[0], "lat": position[1]}
            )
        ring.append((lng, lat))
    if ring[0] != ring[-1]:
        raise ValidationError(_("%(where)s: the ring is not closed (its last position must equal its first).")
                              % {"where": where})
    return ring


def _polygon(raw: Any, where: str) -> list[Ring]:
    if not isinstance(raw, list) or not raw:
        raise ValidationError(_("%(where)s: a polygon is a list of rings, the outline first.") % {"where": where})
    return [_ring(ring, _("%(where)s ring %(n)d") % {"where": where, "n": i + 1}) for i, ring in enumerate(raw)]


def boundary_rings(value: Any) -> list[Ring]:
    """Every ring of a GeoJSON Polygon or MultiPolygon; ``ValidationError`` saying what is wrong."""
    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValidationError(
            _('A boundary is a GeoJSON Polygon or MultiPolygon: {"type": "Polygon", "coordinates": [[[lng, lat], …]]}.')
        )
    coordinates = value.get("coordinates")
    if value["type"] == "Polygon":
        return _polygon(coordinates, _("the polygon"))
    if not isinstance(coordinates, list) or not coordinates:
        raise ValidationError(_("A MultiPolygon's coordinates are a list of polygons."))
    rings: list[Ring] = []
    for i, polygon in enumerate(coordinates):
        rings += _polygon(polygon, _("polygon %(n)d") % {"n": i + 1})
    return rings


def validate_boundary(value: Any) -> None:
    """The model field's validator: admin shows the message beside the boundary."""
    if value is not None:
        boundary_rings(value)


def _in_rings(rings: Iterable[Ring], lng: float, lat: float) -> bool:
    inside = False
    for ring in rings:
        for (x1, y1), (x2, y2) in pairwise(ring):
            if (y1 > lat) != (y2 > lat) and lng < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside


def contains(boundary: Any, latitude: SupportsFloat | None, longitude: SupportsFloat | None) -> bool:
    """Whether the point lies inside ``boundary`` (even-odd rule); False for no point or no or a broken boundary."""
    if latitude is None or longitude is None:
        return False
    try:
        rings = boundary_rings(boundary)
    except ValidationError:
        return False
    return _in_rings(rings, float(longitude), float(latitude))


def grids_containing(queryset: QuerySet[Any], latitude: float, longitude: float) -> QuerySet[Any]:
    """The grids of ``queryset`` whose boundary holds the point (GCJ-02 and WGS-84 alike, see above)."""
    boundaries = queryset.exclude(boundary=None).values_list("id", "boundary")
    return queryset.filter(id__in=[pk for pk, boundary in boundaries if contains(boundary, latitude, longitude)])
