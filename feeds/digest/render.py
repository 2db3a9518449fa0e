"""A digest as an email: the mail Jinja2 environment, CSS inlining and the MIME message.

The only Jinja2 environment for mail, and the only module that imports css_inline.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import Address, BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import SMTP, Policy
from email.utils import format_datetime

import css_inline
import jinja2
from markupsafe import escape

from feeds import addresses
from feeds.addresses import one_line
from feeds.config import Config
from feeds.digest.period import Period
from feeds.digest.select import Selection
from feeds.models import DigestPost
from feeds.publish.templates import Templates, render_template, template_loader

#: The HTML part must stay under this after CSS is inlined (Gmail clips at about 102 KB).
MAX_HTML_BYTES = 90_000
MAIL_TEMPLATES = ("digest.html.j2", "digest.txt.j2")
#: The recipient a preview is addressed to.
PREVIEW_RECIPIENT = "reader@example.org"


@dataclasses.dataclass(frozen=True)
class Rendered:
    subject: str
    html: str  # CSS inlined
    text: str
    full: int  # posts shown with their summaries
    listed: int  # posts shown as links only (the rest were left to the web page)


def subject(config: Config, period: Period) -> str:
    """'<site> — week of 10–16 February 2025'; '<site> — 14 February 2025'; '<site> — February 2025'."""
    return one_line(f"{config.site.title} — {period.phrase}")


def heading(period: Period) -> str:
    """'Week of 10–16 February 2025'; '14 February 2025'; 'February 2025'."""
    return period.phrase[:1].upper() + period.phrase[1:]


def mail_environment(config: Config) -> jinja2.Environment:
    """The environment of mail templates (the digest's, the confirmation's): .html.j2 escaped, text
    kept as written, strict about names."""
    return jinja2.Environment(
        loader=template_loader(config),
        autoescape=jinja2.select_autoescape(("html", "html.j2"), default_for_string=False, default=False),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)


def mail_templates(config: Config, kind: tuple[object, ...], names: Sequence[str],
                   templates: Templates | None = None) -> jinja2.Environment:
    """A mail environment with the templates `names` loaded (see Templates.environment), by `kind`."""
    return (templates or Templates(config)).environment(kind, names, lambda: mail_environment(config))


class Renderer:
    """Renders digests from templates/digest.html.j2 and digest.txt.j2."""

    def __init__(self, config: Config, templates: Templates | None = None):
        """`templates`: the pass's (its mail environment is loaded once a pass); a new set when not given."""
        self.config = config
        self.tz = config.site.tz
        self.env = mail_templates(config, ("mail",), MAIL_TEMPLATES, templates)
        self.inliner = css_inline.CSSInliner(keep_style_tags=False, keep_at_rules=True,
                                             load_remote_stylesheets=False)

    def subject(self, period: Period) -> str:
        return subject(self.config, period)

    def _items(self, posts: Sequence[DigestPost]) -> list[dict[str, str]]:
        items = []
        for p in posts:
            local = p.published.astimezone(self.tz)
            items.append({"title": p.title, "summary": p.summary, "url": p.url or self.config.url(
                f"posts/{p.slug}.html"), "date": f"{local.day} {local:%B} {local.year}",
                "iso": local.isoformat(timespec="seconds")})
        return items

    def _context(self, sel: Selection, recipient: str | None, web: bool, secret: bytes) -> dict[str, object]:
        cfg = self.config
        mailto, https = addresses.unsubscribe_links(cfg, recipient or "", secret)
        label = sel.period.label
        return {
            "site": cfg.site, "period": label, "subject": self.subject(sel.period),
            "week": sel.period.describe(), "heading": heading(sel.period), "cadence": sel.period.words,
            "count": len(sel.posts), "web": web,
            "archive_url": cfg.url(f"digests/{label}.html"), "digests_url": cfg.url("digests/index.html"),
            "digests_feed": cfg.url("digests/atom.xml"), "home_url": cfg.url("index.html"),
            "feed_url": cfg.url("atom.xml"),
            "unsubscribe_url": https, "unsubscribe_mailto": mailto,
            "preheader": preheader(sel),
        }

    def render(self, sel: Selection, recipient: str | None = None, *, web: bool = False,
               secret: bytes = b"") -> Rendered:
        """The digest as HTML (CSS inlined, under MAX_HTML_BYTES) and as text.

        Up to `max_full` posts are shown with their summaries, the rest as a list of
        links. An email whose HTML is still too large shows fewer in full, then cuts the
        list and ends with a link to the web page, which has no size limit and lists them all.
        `secret` signs the recipient's unsubscribe link when [web] url is set.
        """
        items = self._items(sel.posts)
        context = self._context(sel, recipient, web, secret)
        full = min(self.config.digest.max_full, len(items))
        listed = len(items) - full
        while True:
            html = self._html(context, items, full, listed)
            if len(html.encode("utf-8")) <= MAX_HTML_BYTES or web or (full == 0 and listed == 0):
                break
            if full > 0:
                step = max(1, full // 4)
                full, listed = full - step, listed + step
            else:
                listed = max(0, listed - max(1, listed // 4))
        text = render_template(self.env, "digest.txt.j2", self.config, **context, full=items[:full],
                               more=items[full:full + listed], left=len(items) - full - listed)
        return Rendered(context["subject"], html, _tidy_text(text), full, listed)  # type: ignore[arg-type]

    def feed_content(self, sel: Selection) -> str:
        """A digest for a feed reader: its posts as a list of links."""
        items = "".join(f'<li><a href="{escape(i["url"])}">{escape(i["title"])}</a> · {escape(i["date"])}</li>'
                        for i in self._items(sel.posts))
        return f"<p>{len(sel.posts)} new post{'s' if len(sel.posts) != 1 else ''}:</p><ul>{items}</ul>"

    def _html(self, context: dict[str, object], items: list[dict[str, str]], full: int, listed: int) -> str:
        raw = render_template(self.env, "digest.html.j2", self.config, **context, full=items[:full],
                              more=items[full:full + listed], left=len(items) - full - listed)
        return self.inliner.inline(raw)


def preheader(sel: Selection, limit: int = 140) -> str:
    """The line a mail client shows after the subject: the count and the first titles."""
    count = len(sel.posts)
    text = f"{count} new post{'s' if count != 1 else ''}: " + " · ".join(p.title for p in sel.posts[:5])
    return text if len(text) <= limit else text[:limit - 1].rsplit(" ", 1)[0] + "…"


def _tidy_text(text: str) -> str:
    """No leading blank lines, at most one blank line in a row, one newline at the end."""
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


class _ListUnsubscribe(UnstructuredHeader, BaseHeader):
    """List-Unsubscribe (RFC 2369): <URL>s, folded between them only. `email` wraps a word longer than a
    line (a signed one-click link is) as RFC 2047 encoded words, which no mail client decodes here: the
    link would be lost. A value that fits one line is folded as before."""

    def fold(self, *, policy: Policy) -> str:
        if len(f"{self.name}: {self}") <= (policy.max_line_length or 78):
            return super().fold(policy=policy)
        return f"{self.name}: " + f",{policy.linesep} ".join(str(self).split(", ")) + policy.linesep


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("list-unsubscribe", _ListUnsubscribe)
#: SMTP's policy, with List-Unsubscribe never encoded.
MAIL_POLICY = SMTP.clone(header_factory=_HEADERS)


def build_message(config: Config, rendered: Rendered, recipient: Address, when: datetime,
                  msg_id: str, secret: bytes = b"") -> EmailMessage:
    """multipart/alternative: the text part first, then the HTML. Deterministic bytes. The
    List-Unsubscribe header names the same links as the footer (`secret`: see Renderer.render),
    with List-Unsubscribe-Post (RFC 8058) when one of them is https."""
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["From"] = addresses.sender(config)
    msg["To"] = Address(one_line(recipient.display_name), addr_spec=recipient.addr_spec)  # its name too, in one line
    msg["Subject"] = rendered.subject
    msg["Date"] = format_datetime(when.astimezone(config.site.tz))
    msg["Message-ID"] = msg_id
    msg["List-Id"] = f"{one_line(config.site.title)} digest <{addresses.list_id(config)}>"
    mailto, https = addresses.unsubscribe_links(config, recipient.addr_spec, secret)
    # The endpoint's link first (issue 17; a client takes the first it can use); the older
    # [digest] unsubscribe_url after the mailto, as digests always had it.
    links = (https, mailto) if config.web.url else (mailto, https)
    msg["List-Unsubscribe"] = ", ".join(f"<{u}>" for u in links if u)
    if https:
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["MIME-Version"] = "1.0"
    msg.set_content(rendered.text, cte="quoted-printable")
    msg.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    # A fixed boundary (from the content) instead of a random one: same input, same bytes.
    msg.set_boundary("=_" + hashlib.sha256(msg_id.encode() + rendered.html.encode()).hexdigest()[:32])
    return msg
