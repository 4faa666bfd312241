"""The confidence weights in use, per engine: stored, activated, restored.

The weights live in the database, so every worker on every machine uses the
same ones and a refit reaches them all at their next image. No active set means
the weights built into the code (``engines.confidence.BUILT_IN``).
"""

from __future__ import annotations

import logging

from django.db import transaction

from ..engines.confidence import BUILT_IN, Calibration
from ..models import ConfidenceWeights

logger = logging.getLogger(__name__)


def active_weights(engine_name: str) -> ConfidenceWeights | None:
    return ConfidenceWeights.objects.filter(engine_name=engine_name, active=True).first()


# Stored sets (id, created) already logged as not fitting this version's features.
_warned: set[tuple[int, object]] = set()


def calibration_of(weights: ConfidenceWeights | None) -> Calibration | None:
    """The plain-data form the engine takes; None for the built-in weights, or for a
    stored set fitted on other features than this code computes (say, before an
    upgrade changed them): those would weigh the features wrongly, so the built-in
    weights stand in until a refit (logged)."""
    if weights is None:
        return None
    try:
        return Calibration.of(weights.weights, weights.intercept)
    except (ValueError, TypeError, AttributeError) as exc:
        # Once per set and process: the worker asks before every note.
        if (weights.pk, weights.created_at) not in _warned:
            _warned.add((weights.pk, weights.created_at))
            logger.warning(
                "Stored confidence weights %s (%s) are not for this version's features, so the built-in ones "
                "are used until `manage.py refit_confidence` fits new ones: %s",
                weights.pk,
                weights.engine_name,
                exc,
            )
        return None


def active_calibration(engine_name: str) -> Calibration | None:
    """What the worker hands the engine before each image (None: built-in)."""
    return calibration_of(active_weights(engine_name))


def calibration_in_use(engine_name: str) -> Calibration:
    return active_calibration(engine_name) or BUILT_IN


def activate_new_weights(engine_name: str, calibration: Calibration, **figures) -> ConfidenceWeights:
    """Store ``calibration`` as the engine's active set; the one it replaces is kept
    (and named, so that ``restore_previous_weights`` can go back to it)."""
    with transaction.atomic():
        current = ConfidenceWeights.objects.select_for_update().filter(engine_name=engine_name, active=True).first()
        if current is not None:
            ConfidenceWeights.objects.filter(pk=current.pk).update(active=False)
        return ConfidenceWeights.objects.create(
            engine_name=engine_name,
            weights=dict(calibration.weights),
            intercept=calibration.bias,
            active=True,
            replaced=current,
            **figures,
        )


class NothingToRestore(Exception):
    pass


def restore_previous_weights(engine_name: str) -> ConfidenceWeights | None:
    """Go back to the set that was active before the active one (None: the built-in
    weights); the set left stays stored. Raises NothingToRestore when the built-in
    weights are already in use."""
    with transaction.atomic():
        current = ConfidenceWeights.objects.select_for_update().filter(engine_name=engine_name, active=True).first()
        if current is None:
            raise NothingToRestore(f"The {engine_name} engine already uses the built-in weights; nothing to restore.")
        ConfidenceWeights.objects.filter(pk=current.pk).update(active=False)
        previous = current.replaced
        if previous is not None:
            ConfidenceWeights.objects.filter(pk=previous.pk).update(active=True)
            previous.active = True
        return previous
