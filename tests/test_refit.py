"""Refitting the confidence weights from reviewed lines: lines keep their features,
``manage.py refit_confidence`` fits, compares on held-out lines, refuses what does
worse, keeps and restores earlier weights, and every worker uses the stored ones."""

from __future__ import annotations

import os
import random

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ocr_app.engines.confidence import BUILT_IN, FEATURES, Calibration
from ocr_app.models import ConfidenceWeights, Line, Note
from ocr_app.services.confidence_weights import activate_new_weights
from ocr_app.services.logistic import roc_auc
from ocr_app.services.owner_edits import correct_own_line
from ocr_app.services.refit import reviewed_examples, split_held_out
from ocr_app.services.uploads import create_note
from tests.conftest import image_upload, run_worker_until_idle, wait_for
from tests.factories import make_note
from tests.fake_engines import CalibrationReportingEngine

ENGINE = "rapidocr"


def neutral_features(rng: random.Random) -> dict:
    """Features that say nothing about whether a line is right."""
    return {name: round(rng.random(), 3) for name in FEATURES}


def reviewed_note(owner, labels, *, flagged, features=None, seed=1) -> list[int]:
    """A note whose lines the owner reviewed: ``labels[i]`` True keeps line i as read,
    False corrects it. Lines under the threshold when ``flagged``; features from
    ``features(i, right)`` (default: noise). Returns the line ids."""
    rng = random.Random(seed)
    texts = [f"line number {i}" for i in range(len(labels))]
    note = make_note(owner, texts, confidences=[50.0 if flagged else 95.0] * len(texts), engine=ENGINE)
    lines = list(Line.objects.filter(note=note).order_by("order"))
    for i, line in enumerate(lines):
        line.features = features(i, labels[i]) if features else neutral_features(rng)
    Line.objects.bulk_update(lines, ["features"])
    for line, right in zip(lines, labels):
        correct_own_line(line_id=line.pk, owner=owner, text=line.text if right else f"fixed {line.text}")
    return [line.pk for line in lines]


def unreviewed_note(owner, count, *, flagged, seed=2, names=FEATURES) -> None:
    rng = random.Random(seed)
    note = make_note(owner, [f"other {i}" for i in range(count)], confidences=[50.0 if flagged else 95.0] * count)
    lines = list(Line.objects.filter(note=note))
    for line in lines:
        line.features = {name: round(rng.random(), 3) for name in names}
    Line.objects.bulk_update(lines, ["features"])


def separable(i: int, right: bool) -> dict:
    """``glued`` tells right from wrong, the other way round from the built-in weights
    (which take a glued word for a wrong line); the rest is noise."""
    rng = random.Random(i * 7 + right)
    return {**neutral_features(rng), "glued": 1.0 if right else 0.0}


# The features of an earlier version (before 2026-12): kept by the lines read then.
OLD_FEATURES = ("engine", "weakest_word", "alternatives", "known_words", "plain_words", "short")


def separable_lines(owner) -> None:
    """240 reviewed lines (200 from the queue, 40 confident ones the owner checked)
    and 400 confident lines nobody reviewed."""
    reviewed_note(owner, [i % 2 == 0 for i in range(200)], flagged=True, features=separable)
    reviewed_note(owner, [i % 4 != 0 for i in range(40)], flagged=False, features=separable)
    unreviewed_note(owner, 400, flagged=False)
    # Lines read before lines kept features count nowhere.
    old = make_note(owner, [f"old {i}" for i in range(30)], review=range(15))
    for line in Line.objects.filter(note=old)[:10]:
        correct_own_line(line_id=line.pk, owner=owner, text=f"fixed {line.text}")
    # Nor do lines that keep the features of an earlier version, reviewed or not,
    # under the threshold or above it.
    for flagged in (True, False):
        earlier = reviewed_note(owner, [i % 2 == 0 for i in range(30)], flagged=flagged, seed=4)
        Line.objects.filter(pk__in=earlier).update(features={name: 0.5 for name in OLD_FEATURES})
        unreviewed_note(owner, 20, flagged=flagged, seed=5, names=OLD_FEATURES)


def refit(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("refit_confidence", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_refit_refuses_with_fewer_reviewed_lines_than_the_minimum(user):
    reviewed_note(user, [i % 2 == 0 for i in range(150)], flagged=True, features=separable)
    with pytest.raises(CommandError, match="Only 150 reviewed lines .* at least 200 are needed"):
        refit()
    assert not ConfidenceWeights.objects.exists()
    assert "AUC" in refit("--min-lines", "100", "--dry-run")
    assert not ConfidenceWeights.objects.exists()  # a dry run stores nothing


@pytest.mark.django_db
def test_reviewed_lines_are_weighted_by_the_inverse_of_their_chance_of_review(user):
    separable_lines(user)
    examples, groups = reviewed_examples(ENGINE, 75.0)
    assert groups == {"flagged": (200, 200), "confident": (40, 440)}
    assert {e.weight for e in examples if e.flagged} == {1.0}
    assert {e.weight for e in examples if not e.flagged} == {11.0}  # one in 11 confident lines was reviewed
    assert sum(e.right for e in examples) == 100 + 30  # accepted as read; corrected lines are wrong


@pytest.mark.django_db
def test_refit_learns_a_feature_that_tells_right_from_wrong_and_every_worker_gets_it(user):
    separable_lines(user)
    output = refit()
    stored = ConfidenceWeights.objects.get()
    assert stored.active and stored.engine_name == ENGINE and stored.replaced is None
    assert (stored.lines_fitted, stored.lines_held_out) == (168, 72)
    assert stored.auc_before < 0.5 < 0.99 <= stored.auc_after  # the built-in weights read `glued` the other way
    assert stored.weights["glued"] > 2
    assert f"AUC on the held-out lines: {stored.auc_before:.3f} before, {stored.auc_after:.3f} after." in output
    assert "200 of 200 lines under the threshold, 40 of 440 at or above it" in output

    # The stored weights are what the worker hands the engine now.
    from ocr_app.services.confidence_weights import active_calibration

    assert active_calibration(ENGINE) == Calibration.of(stored.weights, stored.intercept)


@pytest.mark.django_db
def test_refit_refuses_weights_that_do_worse_on_the_held_out_lines(user):
    # The fitted lines say `glued` marks right lines and a high engine score wrong
    # ones; the held-out lines say the opposite of the latter (as the weights in use
    # do) and `glued` means nothing there. New weights that learnt the fitted lines
    # do worse on the held-out ones: refused.
    reviewed_note(user, [i % 2 == 0 for i in range(200)], flagged=True)
    reviewed_note(user, [i % 3 != 0 for i in range(60)], flagged=False, seed=3)
    examples, _ = reviewed_examples(ENGINE, 75.0)
    fitted, held = split_held_out(examples, 0.3)
    rng = random.Random(5)
    for example in fitted:
        features = {**neutral_features(rng), "engine": 0.1 if example.right else 0.9, "glued": float(example.right)}
        Line.objects.filter(pk=example.line_id).update(features=features)
    for example in held:
        features = {name: 0.5 for name in FEATURES}
        features["engine"] = 0.9 if example.right else 0.1
        Line.objects.filter(pk=example.line_id).update(features=features)

    with pytest.raises(CommandError, match=r"The new weights do worse on the 78 held-out lines \(AUC 0\.\d+ against 1\.000"):
        refit()
    assert not ConfidenceWeights.objects.exists()


@pytest.mark.django_db
def test_earlier_weights_are_kept_and_restored(user):
    separable_lines(user)
    refit()
    first = ConfidenceWeights.objects.get()
    refit()  # the same lines: as good as the weights in use, so taken
    second = ConfidenceWeights.objects.get(active=True)
    assert second.pk != first.pk and second.replaced == first
    assert second.auc_before == pytest.approx(second.auc_after)

    assert "set " + str(first.pk) in refit("--restore")
    assert ConfidenceWeights.objects.get(active=True) == first
    assert "built-in weights again" in refit("--restore")
    assert not ConfidenceWeights.objects.filter(active=True).exists()
    assert ConfidenceWeights.objects.count() == 2  # nothing stored is lost
    with pytest.raises(CommandError, match="already uses the built-in weights"):
        refit("--restore")


@pytest.mark.django_db
def test_stored_weights_for_other_features_give_way_to_the_built_in_ones(caplog):
    from ocr_app.services.confidence_weights import active_calibration, calibration_in_use

    stored = ConfidenceWeights.objects.create(
        engine_name=ENGINE, weights={name: 1.0 for name in OLD_FEATURES}, intercept=-2.0,
        auc_before=0.8, auc_after=0.9, lines_fitted=300, lines_held_out=100, active=True,
    )
    with caplog.at_level("WARNING", logger="ocr_app.services.confidence_weights"):
        assert active_calibration(ENGINE) is None  # the worker hands the engine none: built-in
    assert calibration_in_use(ENGINE) == BUILT_IN
    [record] = caplog.records
    assert record.levelname == "WARNING"
    assert f"Stored confidence weights {stored.pk} (rapidocr) are not for this version's features" in record.getMessage()
    assert "lack the features engine_nines" in record.getMessage()

    # A set with every current feature and some more was fitted on another set too.
    stored.weights = {**{name: 1.0 for name in FEATURES}, "short": 0.5}
    stored.save()
    assert active_calibration(ENGINE) is None
    stored.weights = {name: 1.0 for name in FEATURES}
    stored.save()
    assert active_calibration(ENGINE) == Calibration.of(stored.weights, -2.0)


def test_weighted_auc_counts_ties_half_and_weights_lines():
    assert roc_auc([0.1, 0.9], [False, True]) == 1.0
    assert roc_auc([0.5, 0.5], [False, True]) == 0.5
    # Two wrong lines, one scoring above the right line: weighted 3 to 1.
    assert roc_auc([0.2, 0.8, 0.5], [False, False, True], [3, 1, 1]) == pytest.approx(0.75)


# --- through the real worker ------------------------------------------------------------


@pytest.fixture
def reporting_engine(settings):
    from ocr_app.pipeline.engine_selection import get_engine

    name = CalibrationReportingEngine.name
    settings.INKDEX = {
        **settings.INKDEX,
        "OCR_ENGINES": {**settings.INKDEX["OCR_ENGINES"], name: "tests.fake_engines.CalibrationReportingEngine"},
        "OCR_ENGINE": name,
    }
    yield name
    get_engine(name, isolated=True).stop()


def recognised_line(user) -> Line:
    note = create_note(owner=user, uploaded_file=image_upload(content=None))
    run_worker_until_idle()
    assert Note.objects.get(pk=note.pk).status == "done"
    return Line.objects.get(note=note)


@pytest.mark.django_db(transaction=True)
def test_the_worker_stores_each_lines_features_and_hands_the_engine_the_stored_weights(user, reporting_engine):
    features = dict(CalibrationReportingEngine.FEATURES)
    line = recognised_line(user)
    assert line.features == features
    assert line.text.startswith("weights built-in pid ")
    assert int(line.text.rsplit(" ", 1)[1]) != os.getpid()  # read in the engine's own process
    assert line.confidence == BUILT_IN.confidence(features)

    refitted = Calibration.of({name: 1.0 for name in FEATURES}, -1.5)
    activate_new_weights(reporting_engine, refitted, auc_before=0.8, auc_after=0.9, lines_fitted=1, lines_held_out=1)
    line = recognised_line(user)
    assert line.text.startswith("weights bias -1.5 pid ")
    assert line.confidence == refitted.confidence(features) != BUILT_IN.confidence(features)

    call_command("refit_confidence", "--restore", "--engine", reporting_engine, stdout=open(os.devnull, "w"))
    assert recognised_line(user).text.startswith("weights built-in pid ")

    # Weights stored for the features of an earlier version: the engine gets the built-in ones.
    ConfidenceWeights.objects.create(
        engine_name=reporting_engine, weights={name: 1.0 for name in OLD_FEATURES}, intercept=-1.5,
        auc_before=0.8, auc_after=0.9, lines_fitted=1, lines_held_out=1, active=True,
    )
    line = recognised_line(user)
    assert line.text.startswith("weights built-in pid ")
    assert line.confidence == BUILT_IN.confidence(features)


@pytest.mark.django_db(transaction=True)
def test_a_running_worker_takes_new_weights_at_its_next_note(user, settings, reporting_engine, worker_process, monkeypatch):
    monkeypatch.setenv("INKDEX_EXTRA_ENGINES", f"{reporting_engine}=tests.fake_engines.CalibrationReportingEngine")
    monkeypatch.setenv("INKDEX_OCR_ENGINE", reporting_engine)
    worker = worker_process()

    def read(note):
        wait_for(lambda: Note.objects.get(pk=note.pk).status == "done", message=f"note {note.pk} ({worker.log()})")
        return Line.objects.get(note=note).text

    assert read(create_note(owner=user, uploaded_file=image_upload(content=None))).startswith("weights built-in")
    activate_new_weights(
        reporting_engine, Calibration.of({name: 0.5 for name in FEATURES}, -2.25),
        auc_before=0.8, auc_after=0.9, lines_fitted=1, lines_held_out=1,
    )
    assert read(create_note(owner=user, uploaded_file=image_upload(content=None))).startswith("weights bias -2.25")


# --- the admin ----------------------------------------------------------------------------


def stored_sets(count: int) -> list[ConfidenceWeights]:
    """``count`` sets fitted one after the other (the last one in use), each a little more doubtful."""
    return [
        activate_new_weights(
            ENGINE, Calibration.of(dict(BUILT_IN.weights), BUILT_IN.bias - i), auc_before=0.80 + i / 100,
            auc_after=0.85 + i / 100, lines_fitted=140 + i, lines_held_out=60 + i,
        )
        for i in range(1, count + 1)
    ]


def weights_staff(django_user_model, *codenames):
    from django.contrib.auth.models import Permission

    person = django_user_model.objects.create_user("stan", "stan@example.com", "stan-password-1", is_staff=True)
    person.user_permissions.add(*Permission.objects.filter(content_type__app_label="ocr_app", codename__in=codenames))
    return person


@pytest.mark.django_db
def test_the_admin_lists_the_weights_and_uses_an_earlier_set_again(client, django_user_model):
    from django.urls import reverse

    from ocr_app.services.confidence_weights import calibration_in_use

    changelist = reverse("admin:ocr_app_confidenceweights_changelist")
    client.force_login(weights_staff(django_user_model, "view_confidenceweights", "change_confidenceweights"))
    assert "No weights fitted yet: the built-in weights are in use." in client.get(changelist).content.decode()
    first, second, third = stored_sets(3)
    page = client.get(changelist).content.decode()
    assert f"In use: rapidocr: set {third.pk} of {third.created_at:%Y-%m-%d %H:%M}" in page
    # When fitted, on how many lines, AUC before and after.
    assert all(figure in page for figure in ("141 lines (61)", "0.810", "0.860", "143 lines (63)", "0.830", "0.880"))
    assert "use_confidence_weights" in page and "delete_selected" not in page

    response = client.post(changelist, {"action": "use_confidence_weights", "_selected_action": [first.pk]}, follow=True)
    assert f"uses the weights of {first.created_at:%Y-%m-%d %H:%M} (set {first.pk}) again" in response.content.decode()
    assert list(ConfidenceWeights.objects.filter(active=True)) == [first]
    assert calibration_in_use(ENGINE).bias == BUILT_IN.bias - 1  # what every worker gets from its next note
    assert ConfidenceWeights.objects.count() == 3
    # Going back one step still follows the order the sets were fitted in: the set before the first.
    assert "built-in weights again" in refit("--restore")

    # One set at a time; the one in use is said to be.
    client.post(changelist, {"action": "use_confidence_weights", "_selected_action": [second.pk, third.pk]})
    assert not ConfidenceWeights.objects.filter(active=True).exists()
    client.post(changelist, {"action": "use_confidence_weights", "_selected_action": [second.pk]})
    response = client.post(changelist, {"action": "use_confidence_weights", "_selected_action": [second.pk]}, follow=True)
    assert f"Set {second.pk} is in use already." in response.content.decode()
    assert list(ConfidenceWeights.objects.filter(active=True)) == [second]
    # A set this version's features cannot use is refused, and the one in use stays.
    ConfidenceWeights.objects.filter(pk=first.pk).update(weights={"engine": 1.0})
    response = client.post(changelist, {"action": "use_confidence_weights", "_selected_action": [first.pk]}, follow=True)
    assert "do not fit this version&#x27;s features" in response.content.decode()
    assert list(ConfidenceWeights.objects.filter(active=True)) == [second]
    # Read-only: nothing is changed by hand.
    view = client.get(reverse("admin:ocr_app_confidenceweights_change", args=[second.pk])).content.decode()
    assert 'name="_save"' not in view and 'name="intercept"' not in view


@pytest.mark.django_db
def test_the_weights_admin_refuses_who_may_not_use_them(client, django_user_model, user):
    from django.contrib.auth.models import Permission
    from django.urls import reverse

    first, second = stored_sets(2)
    changelist = reverse("admin:ocr_app_confidenceweights_changelist")
    use_first = {"action": "use_confidence_weights", "_selected_action": [first.pk]}
    # Not staff, whatever the permissions: sent to the admin's sign-in.
    user.user_permissions.add(*Permission.objects.filter(codename__endswith="_confidenceweights"))
    client.force_login(user)
    response = client.get(changelist)
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    client.post(changelist, use_first)
    # Staff without permissions: 403. Staff who may only look: the list, but no action.
    client.force_login(weights_staff(django_user_model))
    assert client.get(changelist).status_code == 403
    assert client.post(changelist, use_first).status_code == 403
    viewer = django_user_model.objects.create_user("vic", "vic@example.com", "vic-password-1", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_confidenceweights"))
    client.force_login(viewer)
    page = client.get(changelist).content.decode()
    assert f"set {second.pk}" in page and "use_confidence_weights" not in page
    client.post(changelist, use_first)
    assert list(ConfidenceWeights.objects.filter(active=True)) == [second]
