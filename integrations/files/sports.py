"""Free-text sport labels from files and platforms mapped onto runstrength's Sport."""

from __future__ import annotations

import re

from integrations.types import Sport

# Strava's GPX export writes <type> as a bare number. Strava never published the list; these
# five codes are the ones independent projects agree on (1 Ride, 4 Hike, 9 Run, 10 Walk,
# 16 Swim). Other numbers are read as OTHER. Do not pass FIT's numeric sport enum here:
# FIT's 1 is running, Strava's 1 is a ride; FIT readers should pass the enum's name.
STRAVA_GPX_TYPE_CODES: dict[str, Sport] = {
    "1": Sport.RIDE,
    "4": Sport.HIKE,
    "9": Sport.RUN,
    "10": Sport.WALK,
    "16": Sport.SWIM,
}

# Labels as Strava (type/sport_type), intervals.icu, Garmin (typeKey), FIT (sport names), TCX
# (Sport attribute) and Apple Health (HKWorkoutActivityType...) write them, with case, spaces,
# underscores and hyphens removed. Bare FIT sub_sport words ("road", "track", "trail") are left
# out on purpose: they mean different things under different sports.
_LABELS: dict[Sport, tuple[str, ...]] = {
    Sport.RUN: (
        "run",
        "running",
        "roadrunning",
        "streetrunning",
        "trackrunning",
        "jogging",
        "ultrarun",
        "ultrarunning",
    ),
    Sport.TRAIL_RUN: ("trailrun", "trailrunning", "mountainrunning"),
    Sport.TREADMILL_RUN: (
        "treadmill",
        "treadmillrun",
        "treadmillrunning",
        "indoorrun",
        "indoorrunning",
        "virtualrun",
        "virtualrunning",
    ),
    Sport.WALK: (
        "walk",
        "walking",
        "casualwalking",
        "speedwalking",
        "fitnesswalking",
        "indoorwalking",
        "treadmillwalking",
        "nordicwalking",
    ),
    Sport.HIKE: ("hike", "hiking"),
    Sport.RIDE: (
        "ride",
        "bike",
        "biking",
        "cycling",
        "roadbiking",
        "roadcycling",
        "mountainbiking",
        "mountainbikeride",
        "gravelride",
        "gravelcycling",
        "gravelbiking",
        "cyclocross",
        "indoorcycling",
        "trackcycling",
        "virtualride",
        "ebikeride",
        "ebike",
        "ebiking",
        "ebikefitness",
        "ebikemountain",
        "emountainbikeride",
        "velomobile",
        "spin",
        "spinning",
    ),
    Sport.SWIM: (
        "swim",
        "swimming",
        "lapswimming",
        "poolswim",
        "poolswimming",
        "openwater",
        "openwaterswim",
        "openwaterswimming",
    ),
    Sport.UNKNOWN: ("unknown", "none"),
}

_BY_KEY: dict[str, Sport] = {key: sport for sport, keys in _LABELS.items() for key in keys}
_SEPARATORS = re.compile(r"[\s_\-./]+")
_APPLE_PREFIX = "hkworkoutactivitytype"


def normalise_label(label: str) -> str:
    """The lookup key of a label: lower case, without spaces, underscores, hyphens or dots."""
    key = _SEPARATORS.sub("", label.strip().lower())
    return key.removeprefix(_APPLE_PREFIX)


def sport_from_label(label: str | None) -> Sport:
    """Map a sport label from any source; unknown text is OTHER, no text is UNKNOWN.

    A bare number is read as a Strava GPX type code (see STRAVA_GPX_TYPE_CODES).
    """
    if label is None or not label.strip():
        return Sport.UNKNOWN
    key = normalise_label(label)
    if key.isdigit():
        return STRAVA_GPX_TYPE_CODES.get(str(int(key)), Sport.OTHER)
    return _BY_KEY.get(key, Sport.OTHER)
