"""The digest room: a digest per period (a day, an ISO week or a month: `[digest] every`).

    period.py   Period and Schedule: labels, bounds, due times; the only code that knows the cadence
    select.py   which posts a digest lists; composing the digest due (its posts, its ledger rows)
    render.py   the mail Jinja2 environment, css_inline and the MIME message
    archive.py  out/digests/ (pages, index, Atom feed) and out/preview/
    stage.py    the pass's digest stage and `digest --send` / `--period`: ready messages to `mail`
"""
