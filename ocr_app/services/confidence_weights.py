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


class WeightsDoNotFit(Exception):
    """A stored set that this version's features cannot use."""


def _switch_to(engine_name: str, chosen) -> ConfidenceWeights | None:
    """Make ``chosen(current)`` the engine's active set (None: the built-in weights), in
    one transaction with the active set ``current`` (or None) locked; the set left
    stays stored. Each set keeps the set it replaced when it was fitted, so going back
    one step (``restore_previous_weights``) follows the order the sets were fitted in."""
    with transaction.atomic():
        current = ConfidenceWeights.objects.select_for_update().filter(engine_name=engine_name, active=True).first()
        target = chosen(current)
        if current is not None:
            ConfidenceWeights.objects.filter(pk=current.pk).update(active=False)
        if target is not None:
            ConfidenceWeights.objects.filter(pk=target.pk).update(active=True)
            target.active = True
        return target


def restore_previous_weights(engine_name: str) -> ConfidenceWeights | None:
    """Go back to the set that was active before the active one (None: the built-in
    weights); the set left stays stored. Raises NothingToRestore when the built-in
    weights are already in use."""

    def previous(current):
        if current is None:
            raise NothingToRestore(f"The {engine_name} engine already uses the built-in weights; nothing to restore.")
        return current.replaced

    return _switch_to(engine_name, previous)


def use_stored_weights(weights: ConfidenceWeights) -> ConfidenceWeights:
    """Make a stored set its engine's active one again (the admin's *Use these
    weights*), as a restore does: the set in use stays stored, and every worker takes
    the chosen one at its next image. Raises WeightsDoNotFit for a set that this
    version's features cannot use (a worker would fall back to the built-in weights)."""
    try:
        Calibration.of(weights.weights, weights.intercept)
    except (ValueError, TypeError, AttributeError) as exc:
        raise WeightsDoNotFit(f"The weights of set {weights.pk} do not fit this version's features: {exc}") from exc
    return _switch_to(weights.engine_name, lambda current: weights)
