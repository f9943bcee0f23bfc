"""Where an address is and how long it takes to get from one to another.

A housekeeping company has no road router and needs none: the straight-line (great-circle)
distance × a detour factor ÷ an average speed is as good as a dispatcher's guess, and the same
numbers serve the planner, the checker and the workers' sheets. An address without
coordinates takes its community's (小区), else its district's, from ``[dispatch] places``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

LatLon = tuple[float, float]


class Place(Protocol):
    """What locating needs of an address (:class:`hk.domain.common.Address` has it all)."""

    community: str
    district: str
    lat: float | None
    lon: float | None


@dataclass(frozen=True, slots=True)
class Located:
    """Coordinates and where they came from: ``address``, ``community`` or ``district``."""

    point: LatLon
    source: str


def locate(place: Place, places: Mapping[str, tuple[float, float]]) -> Located | None:
    """The address's own coordinates, else its community's, else its district's; None if none."""
    if place.lat is not None and place.lon is not None:
        return Located((place.lat, place.lon), "address")
    for source, name in (("community", place.community), ("district", place.district)):
        if name and name in places:
            lat, lon = places[name]
            return Located((lat, lon), source)
    return None


def metres(a: LatLon, b: LatLon) -> float:
    """Great-circle distance in metres (haversine, mean Earth radius)."""
    alat, alon, blat, blon = map(math.radians, (*a, *b))
    h = (
        math.sin((blat - alat) / 2) ** 2
        + math.cos(alat) * math.cos(blat) * math.sin((blon - alon) / 2) ** 2
    )
    return 2 * 6_371_000.0 * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True, slots=True)
class Travel:
    """The settings' travel model: road metres = straight metres × detour, at a mean speed."""

    detour: float = 1.4
    speed_kmh: float = 15.0

    def road_metres(self, a: LatLon, b: LatLon) -> float:
        return metres(a, b) * self.detour

    def seconds(self, a: LatLon, b: LatLon) -> float:
        """Door-to-door travel time in seconds."""
        return self.road_metres(a, b) / (self.speed_kmh / 3.6)

    def matrices(self, points: list[LatLon]) -> tuple[list[list[float]], list[list[float]]]:
        """(seconds, road metres) between every pair of ``points``, for the routing model."""
        road = [[self.road_metres(a, b) for b in points] for a in points]
        per_second = self.speed_kmh / 3.6
        return [[d / per_second for d in row] for row in road], road
