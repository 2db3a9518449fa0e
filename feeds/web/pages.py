"""The endpoint's pages, rendered from templates/ as the site's pages are (`subscribe.html.j2` and
`list.html.j2`, both extending the site's `base.html.j2`; a user's `[output] templates` folder
replaces any of them), with the site's page environment."""

from __future__ import annotations

from feeds.config import Config
from feeds.digest.period import WORDS
from feeds.publish.pages import page_environment
from feeds.publish.templates import Templates, render_template

WEB_TEMPLATES = ("subscribe.html.j2", "list.html.j2")


class WebPages:
    """The pages of one request (or of the start-up check): the templates are looked up and loaded as a
    pass loads them (compiled once per set of template bytes), so an edited template is used at once."""

    def __init__(self, config: Config):
        self.config = config
        tz = config.site.tz
        self.env = Templates(config).environment(("web", tz), WEB_TEMPLATES, lambda: page_environment(config, tz))

    def render(self, template: str, **context: object) -> bytes:
        base = {"site": self.config.site, "config": self.config, "url": self.config.url,
                "feeds": (self.config.output.dir / "atom.xml").is_file(),
                "cadence": WORDS[self.config.digest.every]}
        return render_template(self.env, template, self.config, **{**base, **context}).encode("utf-8")

    def form(self, *, problem: str = "", address: str = "", name: str = "") -> bytes:
        """The form to subscribe, with what was typed and what is wrong with it (if anything)."""
        return self.render("subscribe.html.j2", problem=problem, address=address, name=name)

    def answer(self, title: str, paragraphs: list[str], *, button: dict[str, str] | None = None) -> bytes:
        """A short page: a heading, a few paragraphs (text: escaped) and, with `button`, a form of one
        button (`action`, `label`, and the hidden `token`)."""
        return self.render("list.html.j2", title=title, paragraphs=paragraphs, button=button)
