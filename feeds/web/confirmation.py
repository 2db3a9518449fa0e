"""The confirmation mail of a subscription (double opt-in): its message, and handing it over as the
digest is, over SMTP (`[mail] host`) or as an .eml file in the outbox."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from feeds import addresses
from feeds.addresses import one_line
from feeds.config import Config
from feeds.digest.period import WORDS
from feeds.digest.render import mail_templates
from feeds.errors import FeedsError
from feeds.mail import refusals
from feeds.publish.templates import Templates, render_template
from feeds.transport import Ambiguous, Outbox, Reply, Smtp, Unanswered, Unavailable

log = logging.getLogger(__name__)

#: The outbox's folder for confirmation mails (the digest's are named after their period).
OUTBOX_FOLDER = "confirm"


#: The confirmation mail's templates: its subject (one line), its text and its HTML.
CONFIRM_TEMPLATES = ("confirm-subject.txt.j2", "confirm.txt.j2", "confirm.html.j2")


def check_templates(config: Config) -> None:
    """Load the confirmation's templates: ConfigError naming one that is missing or broken."""
    mail_templates(config, ("confirm",), CONFIRM_TEMPLATES)


def message(config: Config, to: Address, link: str, now: datetime, hours: int,
            templates: Templates | None = None) -> EmailMessage:
    """The mail that asks `to` to open `link` (valid `hours` hours), from CONFIRM_TEMPLATES (a user's
    `[output] templates` folder may replace them, to word it in the site's language)."""
    env = mail_templates(config, ("confirm",), CONFIRM_TEMPLATES, templates)
    context = {"site": config.site, "site_title": one_line(config.site.title), "address": to.addr_spec,
               "link": link, "hours": hours, "cadence": WORDS[config.digest.every]}
    subject = one_line(render_template(env, "confirm-subject.txt.j2", config, **context))
    msg = EmailMessage(policy=SMTP)
    msg["From"] = addresses.sender(config)
    msg["To"] = Address(one_line(to.display_name), addr_spec=to.addr_spec)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now.astimezone(config.site.tz))
    digest = hashlib.sha256(f"{to.addr_spec}\0{now.isoformat()}\0{link}".encode()).hexdigest()[:24]
    msg["Message-ID"] = f"<confirm.{digest}@{addresses.sender(config).domain}>"
    msg["Auto-Submitted"] = "auto-replied"  # (RFC 3834: an answer to the form; no vacation reply to it)
    msg["MIME-Version"] = "1.0"
    msg.set_content(render_template(env, "confirm.txt.j2", config, **context), cte="quoted-printable")
    msg.add_alternative(render_template(env, "confirm.html.j2", config, subject=subject, **context),
                        subtype="html", cte="quoted-printable")
    return msg


def send(config: Config, to: Address, msg: EmailMessage) -> bool:
    """Hand `msg` over, as the digest is: True when the server (or the outbox) took it. A failure is
    logged, not raised: the person who filled in the form sees the same answer either way."""
    if config.mail.host and (refused := refusals(config)):
        log.error("confirmation mail to %s not sent: %s", to.addr_spec, refused[0])
        return False
    sender = addresses.sender(config).addr_spec
    try:
        transport: Outbox | Smtp = Smtp(config) if config.mail.host else Outbox(config.outbox)
    except FeedsError as exc:  # the SMTP password's variable is not set
        log.error("confirmation mail to %s not sent: %s", to.addr_spec, exc)
        return False
    try:
        reply = transport.send(OUTBOX_FOLDER, sender, to.addr_spec, msg.as_bytes(), lambda: None)
    except (Reply, Unavailable, Unanswered, Ambiguous, FeedsError) as exc:
        log.warning("confirmation mail to %s not sent: %s", to.addr_spec, exc)
        return False
    finally:
        transport.close()
    log.info("confirmation mail to %s: %s", to.addr_spec, reply)
    return True
