"""A social series in the browser: its edition's posts (states, where each is live, why one
failed or is in doubt), settling a post in doubt or failed, the preview of the posts its
next edition would make, its accounts, and its edit page (edited in its series file)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import yaml
from flask.testing import FlaskClient
from sqlalchemy import select

from commhub.delivery import PostOutcome, PostRequest, PostResult
from commhub.editions import list_posts
from commhub.editions.posts import preview_link
from commhub.render import measure
from commhub.store import (
    AuditEntry,
    Edition,
    EditionState,
    Network,
    PostState,
    Series,
    SocialPost,
    UserRole,
)
from tests.builders import World
from tests.web.staff import csrf_token, staff_session

ACCOUNTS: list[dict[str, Any]] = [
    {"network": "mastodon", "name": "vendor-dev", "audiences": ["technical"]},
    {"network": "linkedin", "name": "vendor-company", "audiences": "all"},
]
LIVE = "https://mastodon.example/@v/1"
LONG_SUMMARY = "Deal registration now pays more for every partner tier. " * 8  # > 280 characters


@dataclass
class ScriptedPoster:
    """A network's answers, scripted per (account, item): the edge of the network, faked."""

    network: Network
    answers: dict[tuple[str, str], PostResult]
    settles_by_idempotency: bool = False
    asked: list[PostRequest] = field(default_factory=list)

    def post(self, request: PostRequest) -> PostResult:
        self.asked.append(request)
        default = PostResult(PostOutcome.POSTED, remote_id=f"r{request.post_id}", url=LIVE)
        return self.answers.get((request.account, request.item), default)

    def close(self) -> None:
        pass


def library(world: World) -> None:
    now = world.clock.now()
    world.item(
        "api-v3",
        ["technical"],
        title="API v3 is <here>",
        hashtags=["api"],
        url="https://vendor.example/api-v3",
        published=now - timedelta(days=1),
    )
    world.item(
        "deal-reg",
        ["sales"],
        title="Deal registration pays more",
        summary=LONG_SUMMARY,
        url="https://vendor.example/deal-reg",
        published=now - timedelta(days=2),
    )


def posted_edition(world: World, answers: dict[tuple[str, str], PostResult]) -> int:
    """A social edition prepared and posted: vendor-dev posts api-v3, vendor-company posts
    api-v3 and deal-reg; each answered as scripted (posted by default)."""
    library(world)
    world.social_series(accounts=ACCOUNTS)
    edition_id = world.prepare("social").edition.id
    world.post(edition_id, lambda network, _account: ScriptedPoster(network, answers))
    return edition_id


IN_TROUBLE = {
    ("vendor-company", "api-v3"): PostResult(PostOutcome.FAILED, "422: <commentary> is invalid"),
    ("vendor-company", "deal-reg"): PostResult(PostOutcome.UNKNOWN, "the request timed out"),
}


def post_of(world: World, edition_id: int, account: str, item: str) -> SocialPost:
    with world.session() as session:
        [row] = [
            r
            for r in list_posts(session, edition_id=edition_id)
            if (r.account, r.item) == (account, item)
        ]
        post = session.get(SocialPost, row.id)
        assert post is not None
        session.expunge(post)
        return post


def edition_state(world: World, edition_id: int) -> EditionState:
    with world.session() as session:
        edition = session.get(Edition, edition_id)
        assert edition is not None
        return edition.state


def row_of(page: str, post_id: int) -> str:
    found = re.search(rf'<tr id="post-{post_id}">.*?</tr>', page, re.S)
    assert found, f"no row for post {post_id}"
    return found.group(0)


def settle(client: FlaskClient, edition_id: int, post_id: int, **form: str) -> tuple[int, str]:
    """Press a settle button; the status and the page it leads to (or the answer)."""
    token = csrf_token(client, "/account")
    path = f"/editions/{edition_id}/posts/{post_id}/settle"
    answer = client.post(path, data={"csrf_token": token, **form})
    if answer.status_code != 303:
        return answer.status_code, answer.get_data(as_text=True)
    assert answer.headers["Location"] == f"/editions/{edition_id}#post-{post_id}"
    return 303, client.get(answer.headers["Location"]).get_data(as_text=True)


# -- the edition's page ------------------------------------------------------------------


def test_a_social_editions_page_lists_its_posts_with_states_links_and_reasons(
    world: World,
) -> None:
    edition_id = posted_edition(world, IN_TROUBLE)
    posted = post_of(world, edition_id, "vendor-dev", "api-v3")
    failed = post_of(world, edition_id, "vendor-company", "api-v3")
    unknown = post_of(world, edition_id, "vendor-company", "deal-reg")
    viewer, _ = staff_session(world, UserRole.VIEWER)
    page = viewer.get(f"/editions/{edition_id}").get_data(as_text=True)

    assert '<h2 id="posts">Posts</h2>' in page
    assert (
        '<caption id="posts-caption">The edition\'s 3 posts, account by account</caption>' in page
    )
    assert '<th scope="col">Live at</th>' in page
    for state in ("posted", "failed", "unknown"):
        assert f"<b>1</b> {state}" in page
    assert re.search(r"<dt>Recipients</dt><dd>3 posts <span class=\"muted\">· on 2 accounts", page)
    # No message sections that would only ever be empty for posts.
    assert "No messages yet." not in page
    assert "By role set" not in page
    assert "in the outbox" not in page

    live = row_of(page, posted.id)
    assert f'<a href="{LIVE}" rel="noopener noreferrer">{LIVE}</a>' in live
    assert re.search(r'<span class="badge[^"]*">posted</span>', live)
    assert f'<th scope="row">vendor-dev <span class="muted">(mastodon)<br>post #{posted.id}' in live
    assert '<a href="/content/api-v3">api-v3</a>' in live
    assert '<span class="muted">for technical</span>' in live
    # The text as posted, escaped, line breaks kept: short, so shown whole.
    assert '<div class="post-text">API v3 is &lt;here&gt;\n\n' in live
    assert "<details" not in live

    refused = row_of(page, failed.id)
    assert '<span class="badge bad">failed</span>' in refused
    assert "422: &lt;commentary&gt; is invalid" in refused
    doubt = row_of(page, unknown.id)
    assert '<span class="badge bad">unknown</span>' in doubt
    assert "in doubt: the request timed out" in doubt
    assert '<td class="num">1</td>' in doubt  # one attempt
    assert "<details" in doubt  # a long post folds away
    assert html.escape(LONG_SUMMARY.strip()) in doubt
    # A viewer reads; settling is an editor's.
    assert "/settle" not in page
    assert "An editor checks the account and settles each." in page


def test_an_editor_gets_the_settle_buttons_for_posts_in_doubt_or_failed_only(
    world: World,
) -> None:
    edition_id = posted_edition(world, IN_TROUBLE)
    editor, _ = staff_session(world)
    page = editor.get(f"/editions/{edition_id}").get_data(as_text=True)
    posted = post_of(world, edition_id, "vendor-dev", "api-v3")
    assert "/settle" not in row_of(page, posted.id)
    for item in ("api-v3", "deal-reg"):
        post = post_of(world, edition_id, "vendor-company", item)
        assert "/settle" not in row_of(page, post.id)  # the table is for reading
        found = re.search(rf'<li class="panel" id="settle-{post.id}">.*?</li>', page, re.S)
        assert found, page
        row = found.group(0)
        assert row.count(f'action="/editions/{edition_id}/posts/{post.id}/settle"') == 2
        assert 'name="outcome" value="posted"' in row
        assert 'name="outcome" value="again"' in row
        assert f'<input id="live-url-{post.id}" name="url" type="url"' in row
        assert f'aria-label="It is live: post {post.id} ({item} on vendor-company)"' in row
    assert "Waiting for a person: 2" in page
    assert "422: &lt;commentary&gt; is invalid" in page
    # The alerts' "resend the messages in doubt" and "release" would do nothing for posts of
    # an edition that is sent: not offered.
    assert "a post to vendor-company failed" in page
    assert "resend-unknown" not in page
    assert f'action="/editions/{edition_id}/release"' not in page


def test_a_post_url_that_is_not_a_web_address_is_shown_but_never_linked(world: World) -> None:
    edition_id = posted_edition(world, {})
    post = post_of(world, edition_id, "vendor-dev", "api-v3")
    with world.session() as session:
        stored = session.get(SocialPost, post.id)
        assert stored is not None
        stored.url = "javascript:alert(1)"
    viewer, _ = staff_session(world, UserRole.VIEWER)
    row = row_of(viewer.get(f"/editions/{edition_id}").get_data(as_text=True), post.id)
    assert "javascript:alert(1)" in row
    assert 'href="javascript' not in row


def test_an_edition_with_nothing_to_post_says_so(world: World) -> None:
    world.social_series(accounts=ACCOUNTS)
    edition = world.prepare("social").edition
    assert edition.state is EditionState.EMPTY
    viewer, _ = staff_session(world, UserRole.VIEWER)
    page = viewer.get(f"/editions/{edition.id}").get_data(as_text=True)
    assert "No posts yet." in page
    assert "nothing new to post for any of its accounts" in page
    assert "<dt>Recipients</dt><dd>0 posts</dd>" in page
    assert "No messages yet." not in page


# -- settling a post ---------------------------------------------------------------------


def test_a_post_in_doubt_is_marked_live_where_it_is_and_logged(world: World) -> None:
    edition_id = posted_edition(world, IN_TROUBLE)
    post = post_of(world, edition_id, "vendor-company", "deal-reg")
    editor, email = staff_session(world)
    where = "https://www.linkedin.com/feed/update/urn:li:share:7"
    status, page = settle(editor, edition_id, post.id, outcome="posted", url=f"  {where} ")
    assert status == 303
    assert f"Post {post.id} marked as live at {where}." in page
    settled = post_of(world, edition_id, "vendor-company", "deal-reg")
    assert settled.state is PostState.POSTED
    assert settled.url == where
    assert settled.reason == f"marked posted by {email}"
    assert f'<a href="{where}" rel="noopener noreferrer">' in row_of(page, post.id)
    assert edition_state(world, edition_id) is EditionState.SENT  # nothing left to post
    with world.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "post")).one()
        assert (entry.actor, entry.action, entry.object_id) == (email, "edited", str(post.id))
        assert f"marked posted at {where}" in entry.summary


def test_a_post_marked_live_without_an_address_keeps_none(world: World) -> None:
    edition_id = posted_edition(world, IN_TROUBLE)
    post = post_of(world, edition_id, "vendor-company", "api-v3")
    editor, _ = staff_session(world)
    status, page = settle(editor, edition_id, post.id, outcome="posted", url="")
    assert status == 303
    assert f"Post {post.id} marked as live." in page
    settled = post_of(world, edition_id, "vendor-company", "api-v3")
    assert (settled.state, settled.url) == (PostState.POSTED, None)


def test_post_it_again_sends_the_edition_back_and_the_next_sweep_posts_it(world: World) -> None:
    edition_id = posted_edition(world, IN_TROUBLE)
    assert edition_state(world, edition_id) is EditionState.SENT
    post = post_of(world, edition_id, "vendor-company", "api-v3")
    editor, email = staff_session(world)
    status, page = settle(editor, edition_id, post.id, outcome="again")
    assert status == 303
    assert (
        f"Post {post.id} is to be posted again: the scheduler takes it up within a minute." in page
    )
    again = post_of(world, edition_id, "vendor-company", "api-v3")
    assert again.state is PostState.PLANNED
    assert again.reason == f"to be posted again, said {email}"
    assert edition_state(world, edition_id) is EditionState.SENDING
    assert re.search(r'<span class="badge[^"]*">planned</span>', row_of(page, post.id))
    report = world.post(edition_id, lambda network, _account: ScriptedPoster(network, {}))
    assert report.state is EditionState.SENT
    assert post_of(world, edition_id, "vendor-company", "api-v3").state is PostState.POSTED


def test_a_bad_address_or_outcome_or_a_settled_post_changes_nothing(world: World) -> None:
    edition_id = posted_edition(world, IN_TROUBLE)
    unknown = post_of(world, edition_id, "vendor-company", "deal-reg")
    posted = post_of(world, edition_id, "vendor-dev", "api-v3")
    editor, _ = staff_session(world)
    for url in ("javascript:alert(1)", "ftp://files.example/x", "not a url", "https://"):
        status, page = settle(editor, edition_id, unknown.id, outcome="posted", url=url)
        assert status == 303
        assert "Nothing changed: where post" in page
        assert "must be an address starting with https:// or http://" in page
    status, page = settle(editor, edition_id, unknown.id, outcome="maybe")
    assert "Nothing changed: say whether the post is live or is to be posted again." in page
    assert post_of(world, edition_id, "vendor-company", "deal-reg").state is PostState.UNKNOWN
    status, page = settle(editor, edition_id, posted.id, outcome="again")
    assert status == 303
    assert f"Nothing changed: post {posted.id} is posted: only unknown or failed posts." in page
    assert post_of(world, edition_id, "vendor-dev", "api-v3").state is PostState.POSTED
    with world.session() as session:
        assert session.scalar(select(AuditEntry).where(AuditEntry.object_type == "post")) is None


def test_settling_is_for_editors_with_the_token_and_on_the_posts_own_edition(
    world: World,
) -> None:
    edition_id = posted_edition(world, IN_TROUBLE)
    post = post_of(world, edition_id, "vendor-company", "deal-reg")
    path = f"/editions/{edition_id}/posts/{post.id}/settle"
    viewer, _ = staff_session(world, UserRole.VIEWER)
    token = csrf_token(viewer, "/account")
    assert viewer.post(path, data={"csrf_token": token, "outcome": "again"}).status_code == 403
    editor, _ = staff_session(world)
    assert editor.post(path, data={"outcome": "again"}).status_code == 400  # no CSRF token
    with world.session() as session:
        series = session.scalar(select(Series).where(Series.slug == "social"))
        other = Edition(series=series, planned_at=world.clock.now() + timedelta(days=30))
        session.add(other)
        session.flush()
        other_id = other.id
    token = csrf_token(editor, "/account")
    wrong = f"/editions/{other_id}/posts/{post.id}/settle"
    assert editor.post(wrong, data={"csrf_token": token, "outcome": "again"}).status_code == 404
    missing = f"/editions/{edition_id}/posts/999999/settle"
    assert editor.post(missing, data={"csrf_token": token, "outcome": "again"}).status_code == 404
    assert post_of(world, edition_id, "vendor-company", "deal-reg").state is PostState.UNKNOWN


# -- the series' preview -----------------------------------------------------------------


def test_the_preview_shows_each_accounts_posts_word_for_word_with_their_lengths(
    world: World,
) -> None:
    library(world)
    # Its title and hashtags together are longer than Mastodon takes: some tags are dropped.
    world.item(
        "keynote",
        ["technical"],
        title="Keynote " + "very " * 55 + "long",
        hashtags=[f"topic{n:02}longer" for n in range(20)],
        published=world.clock.now() - timedelta(days=3),
    )
    world.social_series(accounts=ACCOUNTS)
    viewer, _ = staff_session(world, UserRole.VIEWER)
    page = viewer.get("/series/social/preview").get_data(as_text=True)
    assert "<iframe" not in page
    assert "Send a test" not in page
    headings = re.findall(r'<h2 id="account-\d+">(.*?)</h2>', page)
    assert headings == [
        'vendor-dev <span class="muted">on mastodon</span>',
        'vendor-company <span class="muted">on linkedin</span>',
    ]
    dev, company = re.split(r'<section aria-labelledby="account-\d+">', page)[1:]
    assert dev.count('<article class="panel post-card">') == 2  # api-v3, keynote
    assert company.count('<article class="panel post-card">') == 3  # and deal-reg
    link = preview_link(world.runtime.settings)  # as long as a real short link
    text = f"API v3 is <here>\n\n{link}\n\n#api"
    assert f'<div class="post-text">{html.escape(text, quote=False)}</div>' in dev
    assert f"{measure(text, 'mastodon')} of 500 characters</p>" in dev
    assert '<a href="/content/api-v3">API v3 is &lt;here&gt;</a>' in dev
    assert "For technical" in dev
    assert "of 500 characters · shortened to fit" in dev  # the keynote's
    assert "For sales" in company
    assert html.escape(LONG_SUMMARY.strip(), quote=False) in company  # whole, in a card
    assert "of 3,000 characters" in company


def test_a_held_social_edition_is_previewed_with_approve_and_reject(world: World) -> None:
    library(world)
    world.social_series(accounts=ACCOUNTS, requires_approval=True)
    edition = world.prepare("social").edition
    assert edition.state is EditionState.HELD
    editor, _ = staff_session(world)
    page = editor.get("/series/social/preview").get_data(as_text=True)
    assert f"This is held edition #{edition.id}, awaiting approval" in page
    assert f'action="/editions/{edition.id}/approve"' in page
    assert f'action="/editions/{edition.id}/reject"' in page
    assert "the scheduler posts it within a minute" in page
    assert page.count('<article class="panel post-card">') == 3
    viewer, _ = staff_session(world, UserRole.VIEWER)
    read_only = viewer.get("/series/social/preview").get_data(as_text=True)
    assert f"This is held edition #{edition.id}" in read_only
    assert "/approve" not in read_only


def test_with_nothing_new_the_preview_says_so(world: World) -> None:
    world.social_series(accounts=ACCOUNTS)
    page = staff_session(world)[0].get("/series/social/preview").get_data(as_text=True)
    assert "Nothing new to post:" in page
    assert "vendor-dev: technical; vendor-company: every audience" in page
    assert "post-card" not in page


def test_no_test_email_is_sent_for_a_social_series(world: World) -> None:
    library(world)
    world.social_series(accounts=ACCOUNTS)
    editor, _ = staff_session(world)
    token = csrf_token(editor, "/account")
    answer = editor.post("/series/social/test", data={"csrf_token": token, "to": "me@v.example"})
    assert answer.status_code == 303
    page = editor.get(answer.headers["Location"]).get_data(as_text=True)
    assert "No test sent: social posts to its accounts; it sends no email." in page
    assert not (world.runtime.settings.data_dir / "outbox").exists()


# -- the series' page and its edit page --------------------------------------------------


def test_the_series_page_lists_its_accounts_and_no_sender(world: World) -> None:
    world.social_series(accounts=ACCOUNTS)
    page = staff_session(world, UserRole.VIEWER)[0].get("/series/social").get_data(as_text=True)
    accounts = re.search(r"<dt>Accounts</dt><dd>(.*?)</dd>", page, re.S)
    assert accounts, page
    said = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", accounts.group(1)))
    assert "vendor-dev on mastodon · for technical" in said
    assert "vendor-company on linkedin · for every audience" in said
    for fact in ("Subject", "From", "Reply-to", "Partner filter", "Local time"):
        assert f"<dt>{fact}</dt>" not in page
    assert "templates/social/&lt;network&gt;.txt" in page


def test_a_social_series_is_edited_in_its_file_not_in_the_form(world: World) -> None:
    world.social_series(accounts=ACCOUNTS)
    editor, _ = staff_session(world)
    page = editor.get("/series/social/edit").get_data(as_text=True)
    assert "A social series is edited in its series file" in page
    assert "(accounts and their credentials are settings, not form fields)" in page
    assert 'href="/series/social/edit?format=yaml"' in page
    assert 'id="series-form"' not in page
    token = csrf_token(editor, "/account")
    refused = editor.post("/series/social/edit", data={"csrf_token": token, "name": "Renamed"})
    assert refused.status_code == 409
    assert "Nothing was saved" in refused.get_data(as_text=True)
    with world.session() as session:
        series = session.scalar(select(Series).where(Series.slug == "social"))
        assert series is not None
        assert series.name == "Partner Social"
    exported = yaml.safe_load(editor.get("/series/social/edit?format=yaml").get_data(as_text=True))
    assert [a["name"] for a in exported["series"][0]["accounts"]] == [
        "vendor-dev",
        "vendor-company",
    ]


def test_the_new_series_form_neither_offers_nor_takes_the_social_channel(world: World) -> None:
    editor, _ = staff_session(world)
    assert 'value="social"' not in editor.get("/series/new").get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(editor, "/account"),
        "name": "Partner Social",
        "slug": "social",
        "channel": "social",
        "all_audiences": "y",
        "cadence": "weekly on monday at 09:00",
        "timezone": "Europe/London",
        "shift": "none",
        "grace": "6h",
        "action": "save",
    }
    answer = editor.post("/series/new", data=form)
    assert answer.status_code == 400
    found = re.search(
        r'<span class="error field" id="channel-error">(.*?)</span>',
        answer.get_data(as_text=True),
        re.S,
    )
    assert found
    assert html.unescape(found.group(1)).startswith(
        "a social series is edited in its series file (accounts and their credentials are "
        "settings, not form fields)"
    )
    with world.session() as session:
        assert session.scalar(select(Series).where(Series.slug == "social")) is None


# -- the editions list and the dashboard ---------------------------------------------------


def test_a_social_edition_is_listed_by_its_posts_and_planned_ones_reach_no_one(
    world: World,
) -> None:
    edition_id = posted_edition(world, IN_TROUBLE)
    viewer, _ = staff_session(world, UserRole.VIEWER)
    for path in ("/editions", "/"):
        page = viewer.get(path).get_data(as_text=True)
        row = re.search(rf'<tr><td><a href="/editions/{edition_id}">.*?</tr>', page, re.S)
        assert row, path
        cells = [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row[0], re.S)
        ]
        # posts, posted, failed, unknown, opens (none for posts), clicks
        assert cells[4:10] == ["3 posts", "1", "1", "1", "—", "0"], path
    with world.session() as session:  # the series' next edition, planned
        series = session.scalar(select(Series).where(Series.slug == "social"))
        session.add(Edition(series=series, planned_at=world.clock.now() + timedelta(days=3)))
    home = viewer.get("/").get_data(as_text=True)
    # It will post to the series' accounts: no one is counted as its recipient.
    assert '<td class="num"><span class="muted">posts, to its accounts</span></td>' in home
