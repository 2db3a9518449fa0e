"""feeds: turn dumps of a website's pages into Atom and RSS feeds, pages and a digest."""

__version__ = "0.1.0"
