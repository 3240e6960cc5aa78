"""How long composing and posting social posts takes.

Composition: --posts items composed for each network, three ways, in one run:
- baseline: the template rendered once and measured (a post that fits as it is);
- fits: `SocialComposer.compose` on the same items (the same render, plus its checks);
- cut: items whose title is as long as a title may be (300 characters) in mixed scripts and
  emoji, composed for a limit of 120 (a webhook's, say), so that every post is shortened to
  fit (the binary search over word and grapheme cuts).
Medians over --rounds, in microseconds per post, and each as a ratio of the baseline.

Posting: a social edition of --items items for three accounts (mastodon, linkedin, webhook)
prepared and posted exactly once through the outbox, on a fresh SQLite database (or
--database-url), against a baseline of the same posts written by the outbox poster alone
(no database): posts per second, medians over --rounds.

    .venv/bin/python benchmarks/social.py [--posts 2000] [--items 200] [--rounds 5]
        [--database-url postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from send import settings_for  # benchmarks/, beside this script
from sqlalchemy import select
from throwaway_db import Database, migrated_runtime

from commhub.delivery import PostPolicy, PostRequest, PostSender
from commhub.delivery.post_outbox import OutboxPoster
from commhub.editions import prepare_edition, start_edition
from commhub.render import Renderer, SocialComposer, SocialItem, measure
from commhub.resources import templates_dir
from commhub.scheduling import local_waves
from commhub.store import (
    Audience,
    Channel,
    ContentItem,
    ContentKind,
    ContentSource,
    Network,
    Series,
    session_scope,
)

LINK = "https://partners.vendor.example/s/MTIz.abcdefghijklmnopqrstuvwxyz0"
CUT_LIMIT = 120
WORDS = ["partner", "Schnittstelle", "интеграция", "πρόγραμμα", "導入ガイド", "🚀", "👩‍💻", "🇬🇧"]


def _items(count: int, long: bool, rng: random.Random) -> list[SocialItem]:
    items = []
    for n in range(count):
        if long:
            words = [rng.choice(WORDS) for _ in range(60)]
            title = " ".join(words)[:300]
        else:
            title = f"Deal registration now pays 5% more, item {n}"
        items.append(SocialItem(title=title, summary="What it means for you.",
                                hashtags=("partners", "deal reg", f"tag{n % 7}")))  # fmt: skip
    return items


def _timed(run: Callable[[], None], rounds: int, count: int) -> float:
    """The median over rounds of microseconds per item."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1e6 / count)
    return statistics.median(samples)


def composition(posts: int, rounds: int) -> None:
    rng = random.Random(7)
    composer = SocialComposer(templates_dir())
    short, long = _items(posts, False, rng), _items(max(posts // 10, 1), True, rng)
    print(f"composition, {posts} posts per network ({len(long)} for the cut case):")
    for network in ("mastodon", "linkedin", "webhook"):
        template = composer._template(network)  # the baseline renders the same template

        def baseline(network: str = network, template: object = template) -> None:
            for item in short:
                text = template.render(  # type: ignore[attr-defined]
                    text=item.title, link=LINK, hashtags=list(item.hashtags),
                    item={"title": item.title, "summary": item.summary, "kind": item.kind,
                          "speaker": None, "duration_minutes": None},
                    series={"name": "Partner Social"}, account={"name": "a", "network": network},
                )  # fmt: skip
                measure(text, network)

        def fits(network: str = network) -> None:
            for item in short:
                composer.compose(network, item, LINK, series_name="Partner Social",
                                 account_name="a")  # fmt: skip

        def cut(network: str = network) -> None:
            for item in long:
                post = composer.compose(network, item, LINK, series_name="Partner Social",
                                        account_name="a", limit=CUT_LIMIT)  # fmt: skip
                assert post.shortened
                assert post.length <= CUT_LIMIT

        base = _timed(baseline, rounds, len(short))
        whole = _timed(fits, rounds, len(short))
        shortened = _timed(cut, rounds, len(long))
        print(
            f"  {network:<9} baseline {base:8.1f} µs/post   fits {whole:8.1f} µs "
            f"({whole / base:4.2f}x)   cut {shortened:9.1f} µs ({shortened / base:5.1f}x)"
        )


def posting(items: int, rounds: int, database_url: str | None) -> None:
    print(f"posting a social edition of {items} items to 3 accounts (outbox), {rounds} rounds:")
    rates, baseline_rates = [], []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as scratch:
            url, remove = Database(database_url, Path(scratch)).fresh()
            runtime = migrated_runtime(settings_for(url, Path(scratch)))
            try:
                edition_id, posts = _edition(runtime.sessions, runtime.settings, items)
                folder = Path(scratch) / "social"
                started = time.perf_counter()
                sender = PostSender(
                    runtime.sessions,
                    lambda network, _account, folder=folder: OutboxPoster(folder, network),
                    runtime.clock,
                    PostPolicy(),
                )
                report = sender.send(edition_id)
                rates.append(posts / (time.perf_counter() - started))
                assert sum(report.counts.values()) == posts
                baseline_rates.append(_outbox_alone(Path(scratch) / "alone", posts))
            finally:
                runtime.close()
                remove()
    rate, base = statistics.median(rates), statistics.median(baseline_rates)
    print(f"  baseline (outbox files alone) {base:8.0f} posts/s")
    print(f"  posted exactly once           {rate:8.0f} posts/s ({rate / base:.2f}x)")


def _outbox_alone(folder: Path, posts: int) -> float:
    poster = OutboxPoster(folder, Network.MASTODON)
    started = time.perf_counter()
    for n in range(posts):
        poster.post(PostRequest(n + 1, 1, "social", Network.MASTODON, "a", f"post {n} {LINK}",
                                LINK, f"item-{n}", f"Item {n}", uuid.uuid4().hex))  # fmt: skip
    return posts / (time.perf_counter() - started)


def _edition(sessions, settings, items: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    with session_scope(sessions) as session:
        audiences = list(session.scalars(select(Audience)))
        for n in range(items):
            session.add(ContentItem(
                slug=f"item-{n}", title=f"Partner news number {n}", summary="Why it matters.",
                kind=ContentKind.ARTICLE, source=ContentSource.UI,
                url=f"https://vendor.example/{n}", publish_at=now - timedelta(minutes=n + 1),
                hashtags=["partners"], audiences=[audiences[n % len(audiences)]],
            ))  # fmt: skip
        series = Series(
            slug="social", name="Partner Social", channel=Channel.SOCIAL, all_audiences=True,
            cadence="weekly on wednesday at 11:00", timezone="Europe/London", subject="",
            from_address="", partner_filter={}, accounts=[
                {"network": "mastodon", "name": "dev", "audiences": "all"},
                {"network": "linkedin", "name": "co", "audiences": "all"},
                {"network": "webhook", "name": "hook", "audiences": "all"},
            ],
        )  # fmt: skip
        session.add(series)
        session.flush()
        edition = start_edition(session, series, now)
        renderer = Renderer(templates_dir())
        preparation = prepare_edition(session, edition, now, renderer, settings, local_waves)
        return edition.id, sum(preparation.posts.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    composition(args.posts, args.rounds)
    posting(args.items, args.rounds, args.database_url)


if __name__ == "__main__":
    main()
