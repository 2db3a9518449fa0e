"""The templates a pass renders with: where each is looked up, loading them (every template
compiled up front, so that a bad one stops the pass before it writes), strict rendering, and
the hash of the templates in use.

A `Templates` is made once a pass and passed down: its hash is computed once, and each Jinja
environment it loads is loaded once. Between passes (a loop's, or many in one process) the loaded
environments are kept by the hash of the templates' bytes, their folders and their kind: compiling
them is nine tenths of a pass that has nothing new, and a template edited in between changes the
hash, so the next pass loads it anew.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import jinja2
import jinja2.meta

from feeds.config import Config, builtin_templates
from feeds.errors import ConfigError


def template_folders(config: Config) -> tuple[Path, ...]:
    """Where templates are looked up, the first folder holding a name wins: `[output] templates`
    (a user's own, which may replace a single file), then the templates shipped in the package."""
    builtin = builtin_templates()
    return (config.output.templates, builtin) if config.output.templates else (builtin,)


def template_file(config: Config, name: str) -> Path:
    """The file a template name (or the stylesheet) stands for: the user's, else the built-in one."""
    folders = template_folders(config)
    return next((f / name for f in folders if (f / name).is_file()), folders[-1] / name)


def templates_digest(folders: Sequence[Path]) -> str:
    """A hash of the templates in use (each name and the bytes of the file that wins for it,
    subfolders included): not of times and sizes, which an edit within the clock's tick, or a
    deploy that sets every file's time, keeps as they were."""
    chosen: dict[str, Path] = {}
    for folder in reversed(folders):
        if folder.is_dir():
            chosen |= {p.relative_to(folder).as_posix(): p for p in folder.rglob("*")
                       if p.is_file() and "__pycache__" not in p.parts}
    h = hashlib.sha256()
    for name, p in sorted(chosen.items()):
        h.update(name.encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def template_loader(config: Config) -> jinja2.BaseLoader:
    """A loader that takes each template from the first of `template_folders` holding it."""
    return jinja2.FileSystemLoader([str(f) for f in template_folders(config)])


class _Loaded:
    """Environments loaded whole (every template compiled), by (kind, folders, templates hash): the
    same key means the same template bytes and the same options, so the same compiled templates.
    The newest `size` are kept."""

    def __init__(self, size: int = 8):
        self.size = size
        self.envs: dict[tuple[object, ...], jinja2.Environment] = {}

    def get(self, key: tuple[object, ...]) -> jinja2.Environment | None:
        env = self.envs.pop(key, None)
        if env is not None:
            self.envs[key] = env  # now the newest
        return env

    def put(self, key: tuple[object, ...], env: jinja2.Environment) -> None:
        self.envs[key] = env
        while len(self.envs) > self.size:
            del self.envs[next(iter(self.envs))]


LOADED = _Loaded()


class Templates:
    """The templates of one pass: their hash (computed when first asked, then kept) and the
    environments loaded from them (each loaded once, by `kind`)."""

    def __init__(self, config: Config):
        self.config = config
        self.folders = template_folders(config)
        self._loaded: dict[tuple[object, ...], jinja2.Environment] = {}

    @functools.cached_property
    def hash(self) -> str:
        return templates_digest(self.folders)

    def file(self, name: str) -> Path:
        return template_file(self.config, name)

    def environment(self, kind: tuple[object, ...], names: Sequence[str], make: Callable[[], jinja2.Environment],
                    files: Sequence[str] = ()) -> jinja2.Environment:
        """An environment (from `make`) with the templates `names`, and every template they
        extend, include or import, loaded; or ConfigError, naming the template, the line and
        what is wrong, when one is missing or does not compile (or one of `files`, used as
        they are, is missing). Loaded once for this pass by `kind`."""
        if kind not in self._loaded:
            key = (kind, tuple(names), self.folders, self.hash)
            env = LOADED.get(key)
            if env is None:
                env = make()
                _load(env, names, self.config)
                LOADED.put(key, env)
            for name in files:
                if not self.file(name).is_file():
                    _template_error(self.config, f"{name} is missing")
            self._loaded[kind] = env
        return self._loaded[kind]


def _template_error(config: Config, problem: str) -> NoReturn:
    """ConfigError for a template: blamed on `[output] templates` when the user set it, else
    on the installation (the built-in templates are part of the package)."""
    if config.output.templates:
        raise ConfigError("output.templates", str(config.output.templates),
                          f"a folder of templates that render with what a pass gives them; {problem}", config.source)
    raise ConfigError("(built-in templates)", str(builtin_templates()),
                      f"the templates shipped with feeds, whole; {problem}: reinstall feeds", config.source)


def _load(env: jinja2.Environment, names: Sequence[str], config: Config) -> None:
    """Compile every template of `names` and those they name, into `env`'s cache."""
    assert env.loader is not None
    todo = [(name, "") for name in names]
    seen: set[str] = set()
    while todo:
        name, user = todo.pop(0)
        if name in seen:
            continue
        seen.add(name)
        file = template_file(config, name)
        try:
            env.get_template(name)
            text, filename, _ = env.loader.get_source(env, name)
            todo += [(n, name) for n in jinja2.meta.find_referenced_templates(env.parse(text, name, filename)) if n]
        except jinja2.TemplateNotFound:
            problem = f"{name} is missing" + (f" ({user} uses it)" if user else "")
        except jinja2.TemplateSyntaxError as exc:
            problem = f"{exc.filename or file}, line {exc.lineno}: {exc.message}"
        except UnicodeDecodeError as exc:
            problem = f"{file} is not UTF-8 text (byte {exc.start})"
        else:
            continue
        _template_error(config, problem)


def render_template(env: jinja2.Environment, name: str, config: Config, /, **context: object) -> str:
    """The template `name` rendered; or ConfigError naming the template, its line and what went
    wrong, when it fails as it renders (a name it uses that is not given: the environments
    are strict, so that a misspelt name is not quietly left empty)."""
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateError as exc:  # (TemplateNotFound and syntax errors: found when loaded)
        folders = template_folders(config)
        tb, line, filename = exc.__traceback__, None, None
        while tb is not None:  # the innermost frame of a template (jinja gives it the template's file and line)
            if any(Path(tb.tb_frame.f_code.co_filename).is_relative_to(f) for f in folders):
                filename, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
            tb = tb.tb_next
        where = f"{filename}, line {line}" if filename else str(template_file(config, name))
        _template_error(config, f"{where}: {exc}")
