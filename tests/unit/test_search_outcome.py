"""Which uploaded photo Search uses when several are uploaded."""

from __future__ import annotations

from core.search.outcome import upload_choices


def test_a_photo_added_later_becomes_the_query():
    options, newest = upload_choices(["a.jpg", "b.jpg"], {"a.jpg", "b.jpg"}, ["a.jpg"])
    assert options == ["a.jpg", "b.jpg"] and newest == "b.jpg"


def test_the_shoppers_choice_stays_when_nothing_new_arrives():
    assert upload_choices(["a.jpg", "b.jpg"], {"a.jpg", "b.jpg"}, ["a.jpg", "b.jpg"])[1] is None
    # several photos at once: the first readable one, as offered
    assert upload_choices(["a.jpg", "b.jpg"], {"a.jpg", "b.jpg"}, [])[1] is None


def test_a_refused_photo_is_offered_last_and_never_switched_to():
    options, newest = upload_choices(["a.jpg", "bad.jpg"], {"a.jpg"}, ["a.jpg"])
    assert options == ["a.jpg", "bad.jpg"] and newest is None
