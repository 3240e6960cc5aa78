"""The rule of seven (series option `rule_of_seven`): prefer the items whose key message the
audience has seen less, and leave out of each contact's email the key messages that contact
has seen seven times across three formats. Worked by hand on a small partner base."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import timedelta
from itertools import count
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from commhub.config import check_smtp_url
from commhub.delivery.outbox import OutboxBackend
from commhub.delivery.smtp import SmtpBackend
from commhub.render.tokens import message_tokens
from commhub.reports.exposures import reach_report
from commhub.reports.items import item_report
from commhub.scheduling.series import apply_series, get_series, read_series_file
from commhub.store import schema
from commhub.store.message_keys import variant_without
from commhub.store.models import (
    Contact,
    ContactStatus,
    ContentItem,
    EditionRender,
    EditionState,
    ExposureTally,
    KeyMessage,
    MessageStatus,
    Series,
)
from commhub.tracking.exposures import Seen, key_messages_of_message, record_seen
from commhub.web import create_app
from tests.builders import NOW, World
from tests.cli.test_cli import Commhub
from tests.scheduling.test_series_file import GOOD
from tests.smtp_sink import SmtpSink

DEALS = "Deal registration pays"
SECURITY = "Security comes first"
TITLES = {"deal-reg": "Deal registration guide", "security": "Security checklist"}
WEBINAR = "Partner webinar"  # an item with no key message


def tally(world: World, address: str, key_message: str, /, **formats: int) -> None:
    """What the contact has seen of the key message so far, by format: as many exposures,
    recorded as tracking records them (each from a feed item of its own)."""
    with world.session() as session:
        contact_id = session.scalar(select(Contact.id).where(Contact.email == address))
        key_id = session.scalar(select(KeyMessage.id).where(KeyMessage.text == key_message))
        assert contact_id is not None
        assert key_id is not None
        sources = count(1)
        seen = [
            Seen(contact_id, key_id, fmt, "feed_item", next(sources), NOW - timedelta(days=1))
            for fmt, times in formats.items()
            for _ in range(times)
        ]
        record_seen(session, seen, NOW)


def sales_newsletter(world: World, rule_of_seven: bool) -> None:
    """Three sales items (two key messages and one without) for four sellers:
    ana has seen the deals message 7 times in 3 formats (saturated); ben 6 times in 3
    formats; cy 7 times but in only 2 formats; dee never."""
    world.series(audiences=["sales"], rule_of_seven=rule_of_seven)
    world.item("deal-reg", ["sales"], title=TITLES["deal-reg"], key_message=DEALS, priority=2)
    world.item("security", ["sales"], title=TITLES["security"], key_message=SECURITY, priority=1)
    world.item("webinar", ["sales"], title=WEBINAR)
    for name in ("ana", "ben", "cy", "dee"):
        world.contact(f"{name}@p.example", ["sales"], first_name=name.title())
    tally(world, "ana@p.example", DEALS, email=2, video=2, social=3)
    tally(world, "ben@p.example", DEALS, email=3, video=2, rss=1)  # 6, in 3 formats
    tally(world, "cy@p.example", DEALS, email=4, video=3)  # 7, in 2 formats


def send_over_smtp(world: World, sink: SmtpSink, edition_id: int) -> dict[str, str]:
    """Send the edition to the sink; each address's plain-text part."""
    report = world.send(edition_id, SmtpBackend(check_smtp_url(sink.url), timeout=5))
    assert report.state is EditionState.SENT
    texts = {}
    for address in sink.counts():
        [received] = sink.received_by(address)
        body = received.message.get_body(("plain",))
        assert body is not None
        texts[address] = str(body.get_content())
    return texts


def titles_in(text: str) -> list[str]:
    return [title for title in (*TITLES.values(), WEBINAR) if title in text]


def client(world: World) -> FlaskClient:
    return create_app(runtime=dataclasses.replace(world.runtime, clock=world.clock)).test_client()


def test_without_the_option_everyone_gets_everything(world: World, smtp_sink: SmtpSink) -> None:
    sales_newsletter(world, rule_of_seven=False)

    preparation = world.prepare()
    texts = send_over_smtp(world, smtp_sink, preparation.edition.id)

    everything = [TITLES["deal-reg"], TITLES["security"], WEBINAR]
    assert {address: titles_in(text) for address, text in texts.items()} == {
        f"{name}@p.example": everything for name in ("ana", "ben", "cy", "dee")
    }
    assert {m.variant for m in world.messages(preparation.edition.id).values()} == {""}
    assert (preparation.seen_enough, preparation.left_out) == (Counter(), Counter())


def test_a_contact_who_saw_a_key_message_seven_times_in_three_formats_gets_the_email_without_it(
    world: World, smtp_sink: SmtpSink
) -> None:
    sales_newsletter(world, rule_of_seven=True)

    preparation = world.prepare()
    edition_id = preparation.edition.id
    texts = send_over_smtp(world, smtp_sink, edition_id)

    everything = [TITLES["deal-reg"], TITLES["security"], WEBINAR]
    assert {address: titles_in(text) for address, text in texts.items()} == {
        "ana@p.example": [TITLES["security"], WEBINAR],
        # Six exposures, or seven in two formats, are not seven across three.
        "ben@p.example": everything,
        "cy@p.example": everything,
        "dee@p.example": everything,
    }
    assert "Hi Ana," in texts["ana@p.example"], "still personalised"
    assert DEALS not in texts["ana@p.example"]
    messages = world.messages(edition_id)
    with world.session() as session:
        deal_id = session.scalar(select(ContentItem.id).where(ContentItem.slug == "deal-reg"))
        keys = {k.text: k.id for k in session.scalars(select(KeyMessage))}
        renders = {
            (r.role_set, r.variant): r.link_ids
            for r in session.scalars(
                select(EditionRender).where(EditionRender.edition_id == edition_id)
            )
        }
        ana = messages["ana@p.example"]
        carried = key_messages_of_message(session, edition_id, ana.role_set, ana.variant)
        full = key_messages_of_message(session, edition_id, "sales")
    assert ana.variant == f"without:{deal_id}" == variant_without([deal_id])
    assert {m.variant for e, m in messages.items() if e != "ana@p.example"} == {""}
    # Links: 1 deal-reg, 2 security, 3 webinar; ana's message holds only her two.
    assert renders == {("sales", ""): [1, 2, 3], ("sales", f"without:{deal_id}"): [2, 3]}
    assert carried == [keys[SECURITY]]
    assert sorted(full) == sorted([keys[DEALS], keys[SECURITY]])
    assert preparation.left_out == Counter({"sales": 1})
    assert preparation.seen_enough == Counter()
    assert preparation.edition.notes["left_out"] == {"sales": 1}

    # Her web version and her links are those of her own email.
    tokens = message_tokens(world.runtime.settings.secret_keys)
    web = client(world)
    ana_token, ben_token = tokens.sign(ana.id), tokens.sign(messages["ben@p.example"].id)
    ana_page = web.get(f"/w/{ana_token}").get_data(as_text=True)
    assert TITLES["security"] in ana_page
    assert TITLES["deal-reg"] not in ana_page
    assert TITLES["deal-reg"] in web.get(f"/w/{ben_token}").get_data(as_text=True)
    assert web.get(f"/t/c/{ana_token}/1").status_code == 404
    assert web.get(f"/t/c/{ben_token}/1").status_code == 302
    assert web.get(f"/t/c/{ana_token}/2").status_code == 302

    # The item report counts the deal item delivered to the three who got it, not to ana.
    with world.session() as session:
        delivered = {(r.item, r.audience): r.delivered for r in item_report(session)}
    assert delivered == {
        ("deal-reg", "sales"): 3,
        ("security", "sales"): 4,
        ("webinar", "sales"): 4,
    }
    # Ana still counts among those the deals message was meant for, and as one who has seen
    # it seven times across three formats; Ben's click above was his seventh.
    with world.session() as session:
        [deals] = [r for r in reach_report(session) if r.key_message == DEALS]
    assert (deals.targeted, deals.seven_across_three, deals.share) == (4, 2, 0.5)


def test_each_variant_is_compiled_once_and_its_messages_are_queued_together(
    world: World,
) -> None:
    compiled = world.count_compiles()
    sales_newsletter(world, rule_of_seven=True)
    for name in ("eve", "fay"):  # two more saturated like ana, added after ben, cy and dee
        world.contact(f"{name}@p.example", ["sales"])
        tally(world, f"{name}@p.example", DEALS, email=1, video=1, social=1, rss=4)

    preparation = world.prepare()

    assert len(compiled) == 2, "the role set and its one variant, never once per contact"
    assert preparation.left_out == Counter({"sales": 3})
    assert preparation.role_sets == Counter({"sales": 6})
    messages = sorted(world.messages(preparation.edition.id).values(), key=lambda m: m.id)
    variants = [m.variant for m in messages]
    assert variants == sorted(variants), "each variant's messages together"
    assert variants.count("") == 3


def test_a_contact_who_saw_everything_enough_gets_no_email_and_is_counted(world: World) -> None:
    world.series(audiences=["sales", "technical"], rule_of_seven=True)
    world.item("deal-reg", ["sales"], key_message=DEALS)
    world.item("security", ["sales", "technical"], key_message=SECURITY)
    world.contact("ana@p.example", ["sales"])
    world.contact("ben@p.example", ["sales"])
    world.contact("tom@p.example", ["technical"])
    for key in (DEALS, SECURITY):
        tally(world, "ana@p.example", key, email=1, video=1, social=1, rss=4)
    tally(world, "tom@p.example", SECURITY, email=5, social=1, rss=1)

    preparation = world.prepare()

    edition = preparation.edition
    assert set(world.messages(edition.id)) == {"ben@p.example"}
    assert preparation.seen_enough == Counter({"sales": 1, "technical": 1})
    assert edition.notes["seen_enough"] == {"sales": 1, "technical": 1}
    assert edition.notes["nothing_new"] == {}
    assert edition.recipient_count == 1
    assert edition.state is EditionState.SENDING

    settings = world.runtime.settings
    shown = Commhub(settings.data_dir)(
        "editions", "show", str(edition.id),
        COMMHUB_DATABASE_URL=settings.database_url, COMMHUB_SECRET_KEY=settings.secret_key,
    )  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert "seen enough (rule of seven): 1 contacts got no email" in shown.stdout
    assert "nothing new" not in shown.stdout


def test_an_edition_everyone_has_seen_enough_of_is_empty_and_says_why(world: World) -> None:
    world.series(audiences=["sales"], rule_of_seven=True)
    world.item("deal-reg", ["sales"], key_message=DEALS)
    world.contact("ana@p.example", ["sales"])
    tally(world, "ana@p.example", DEALS, email=3, video=2, rss=2)

    preparation = world.prepare()

    assert preparation.edition.state is EditionState.EMPTY
    assert preparation.edition.state_reason == (
        "everyone had seen its key messages seven times across three formats"
    )
    assert world.messages(preparation.edition.id) == {}


def test_a_suppressed_contact_is_skipped_as_before_whatever_they_have_seen(world: World) -> None:
    world.series(audiences=["sales"], rule_of_seven=True)
    world.item("deal-reg", ["sales"], key_message=DEALS)
    world.item("webinar", ["sales"])
    world.contact("gone@p.example", ["sales"], status=ContactStatus.UNSUBSCRIBED)
    world.contact("ben@p.example", ["sales"])
    tally(world, "gone@p.example", DEALS, email=3, video=2, rss=2)

    preparation = world.prepare()

    gone = world.messages(preparation.edition.id)["gone@p.example"]
    assert (gone.status, gone.variant) == (MessageStatus.SKIPPED, "")
    assert preparation.left_out == Counter()


@pytest.mark.parametrize(
    ("rule_of_seven", "picked"),
    [
        # Off: by priority, then newest: the stale item for both audiences.
        (False, {"sales": ["stale"], "technical": ["stale"]}),
        # On: a seller saw the stale item's key message 7 times (one format is enough for
        # preferring): sales gets the fresh one; no engineer did, so technical keeps the newest.
        (True, {"sales": ["fresh"], "technical": ["stale"]}),
    ],
)
def test_with_max_items_the_item_fewer_contacts_have_seen_makes_the_cut(
    world: World, rule_of_seven: bool, picked: dict[str, list[str]]
) -> None:
    world.series(audiences=["sales", "technical"], max_items=1, rule_of_seven=rule_of_seven)
    world.item("fresh", ["sales", "technical"], key_message="Fresh", published=NOW.replace(day=2))
    world.item("stale", ["sales", "technical"], key_message="Stale", published=NOW.replace(day=20))
    world.contact("seller@p.example", ["sales"])
    world.contact("engineer@p.example", ["technical"])
    tally(world, "seller@p.example", "Stale", email=7)
    # An unsubscribed seller who saw the fresh one as often does not count.
    world.contact("gone@p.example", ["sales"], status=ContactStatus.UNSUBSCRIBED)
    tally(world, "gone@p.example", "Fresh", email=4, video=4)

    assert world.prepare().edition.notes["items"] == picked


def test_priority_still_comes_first(world: World) -> None:
    world.series(audiences=["sales"], max_items=1, rule_of_seven=True)
    world.item("seen-but-urgent", ["sales"], key_message="Seen", priority=5)
    world.item("fresh", ["sales"], key_message="Fresh")
    world.contact("seller@p.example", ["sales"])
    tally(world, "seller@p.example", "Seen", email=3, video=2, social=2)

    preparation = world.prepare()

    assert preparation.edition.notes["items"] == {"sales": ["seen-but-urgent"]}
    # ... and then it is left out of the one seller's email: nothing left for them.
    assert preparation.seen_enough == Counter({"sales": 1})


def test_series_apply_stores_the_option_and_a_change_updates_the_series(world: World) -> None:
    path = world.runtime.settings.data_dir / "series.yml"
    for text, expected, change in (
        (GOOD + "    rule_of_seven: true\n", True, "created"),
        (GOOD + "    rule_of_seven: false\n", False, "updated"),
        (GOOD, False, "unchanged"),
    ):
        path.write_text(text)
        with world.session() as session:
            definitions = read_series_file(
                path, {"sales", "technical"}, world.renderer.has_template
            )
            report = apply_series(session, definitions)
            assert getattr(report, change) == ["news"]
            assert get_series(session, "news").rule_of_seven is expected
    with world.session() as session:
        assert session.scalar(select(Series.rule_of_seven)) is False


def test_a_variant_names_the_items_left_out_in_order_or_digests_a_list_too_long() -> None:
    assert variant_without([15, 12, 15]) == "without:12,15" == variant_without([12, 15])
    assert variant_without([]) == ""
    many = range(100_000, 100_040)
    key = variant_without(many)
    assert key.startswith("without:40 items #")
    assert len(key) <= 200
    assert key == variant_without(reversed(many)) != variant_without(range(100_000, 100_041))


def test_going_back_to_0005_waits_for_variants_to_be_sent_and_keeps_a_render_per_role_set(
    world: World, tmp_path: Path
) -> None:
    sales_newsletter(world, rule_of_seven=True)
    # Everyone has now seen the deals message enough.
    with world.session() as session:
        session.execute(update(ExposureTally).values(email=5, video=1, rss=1))
    tally(world, "dee@p.example", DEALS, email=5, video=1, rss=1)
    edition_id = world.prepare().edition.id
    engine = world.runtime.engine

    with pytest.raises(RuntimeError, match="4 messages of the rule of seven are still to be sent"):
        schema.downgrade(engine, "0005")
    assert schema.current_revision(engine) == schema.head_revision()

    world.send(edition_id, OutboxBackend(tmp_path / "outbox"))
    schema.downgrade(engine, "0005")
    with engine.connect() as connection:
        renders = connection.exec_driver_sql("SELECT role_set FROM edition_renders").all()
    assert renders == [("sales",)]  # the variant everyone got stands in for the full render
    schema.upgrade(engine)
    token = message_tokens(world.runtime.settings.secret_keys).sign(
        world.messages(edition_id)["ana@p.example"].id
    )
    page = client(world).get(f"/w/{token}")
    assert page.status_code == 200
    assert TITLES["security"] in page.get_data(as_text=True)
