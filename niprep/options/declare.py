"""How options are declared: an option, a group of options, and what one entry point takes.

Every option is declared once (:class:`Option`: name, default, check, help, and the other
option it depends on, if any) in a :class:`Group`. Each public function or ``niprep``
task declares the groups it takes (:class:`EntryPoint`); from that one declaration come
its keyword arguments, its ``--help`` keys, the bytes its fingerprint hashes, and the
errors for options it does not take or that do not apply with the other values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from niprep.options.checks import Check


@dataclass(frozen=True)
class Needs:
    """An option (or group) counts only when another option has some value.

    Args:
        key: the option it depends on.
        test: whether that option's value lets it count.
        wanted: how to ask for such a value, e.g. ``instances='components'``.
    """

    key: str
    test: Callable[[Any], bool]
    wanted: str


@dataclass(frozen=True)
class Option:
    """One option: its name, default, check, help text and dependency.

    Args:
        name: the keyword and ``niprep`` key.
        default: the value when it is not given.
        check: ``check(name, value)`` returns the value in normal form or raises
            ``ValueError``.
        help: one line for ``--help`` and the docs.
        needs: the value of another option without which this one does nothing.
    """

    name: str
    default: Any
    check: Check
    help: str
    needs: Needs | None = None


@dataclass(frozen=True)
class Group:
    """Options that go together (``annotation``, ``run``, ``preview`` ...).

    Args:
        name: the group's name.
        options: its options, in the order they are shown.
        shapes_output: whether the options change the bytes of a case's files (those
            are hashed by the fingerprint that ``resume`` compares).
    """

    name: str
    options: tuple[Option, ...]
    shapes_output: bool = True

    def check(self, **values: Any) -> dict[str, Any]:
        """``values`` of some of the group's options, checked and in normal form.

        Args:
            values: option names to values.
        """
        options = {option.name: option for option in self.options}
        return {name: options[name].check(name, value) for name, value in values.items()}

    def without(self, *names: str) -> Group:
        """The group less the options ``names`` (for an entry point that sets them itself)."""
        unknown = set(names) - {option.name for option in self.options}
        if unknown:
            raise KeyError(f"group {self.name!r} has no option {sorted(unknown)[0]!r}")
        kept = tuple(option for option in self.options if option.name not in names)
        return Group(self.name, kept, self.shapes_output)


@dataclass(frozen=True)
class EntryPoint:
    """What one public function or ``niprep`` task takes.

    Args:
        name: the Python name (``extract_annotations_dataset``).
        groups: the groups it takes.
        task: its ``niprep task=`` name, or ``None`` when it has no command.
        described: how the command line names it when it has no task.
        needs: groups that count only with another option's value (the annotation
            task's ``image`` group is the preview's, and counts only with
            ``preview_images``).
        changed_defaults: options whose default differs for this entry point (the export writes
            8-bit pictures unless told otherwise), by name.
    """

    name: str
    groups: tuple[Group, ...]
    task: str | None = None
    described: str = ""
    needs: Mapping[str, Needs] = field(default_factory=dict)
    changed_defaults: Mapping[str, Any] = field(default_factory=dict)

    @property
    def options(self) -> dict[str, Option]:
        """Every option it takes, by name, in declaration order, with its defaults."""
        return {
            option.name: replace(option, default=self.changed_defaults[option.name])
            if option.name in self.changed_defaults else option
            for group in self.groups
            for option in group.options
        }

    def where(self) -> str:
        """How the command line names this entry point."""
        return f"task={self.task}" if self.task else self.described or self.name

    def defaults(self) -> dict[str, Any]:
        """Every option it takes, at its default."""
        return {name: option.default for name, option in self.options.items()}

    def settings(self, values: Mapping[str, Any], command: bool = False) -> Settings:
        """Check ``values`` and return the full, validated settings of a call.

        Args:
            values: the options given (others take their defaults).
            command: word the errors for the ``niprep`` command instead of Python.

        Raises:
            ValueError: an option it does not take, a bad value, or a value that does
                nothing with the others (one line, naming the option).
        """
        taken = self.options
        for name in values:
            if name not in taken:
                raise ValueError(self.not_taken(name, command))
        checked = {
            name: option.check(name, values[name]) if name in values else option.default
            for name, option in taken.items()
        }
        for group in self.groups:
            group_needs = self.needs.get(group.name)
            for option in group.options:
                needs = option.needs if option.needs and option.needs.key in checked else None
                for rule in (group_needs, needs):
                    value = checked[option.name]
                    unset = value == taken[option.name].default
                    if rule is None or unset or rule.test(checked[rule.key]):
                        continue
                    raise ValueError(
                        f"{option.name}={value!r} applies only with {rule.wanted}; leave it "
                        f"out or add {rule.wanted}"
                    )
        return Settings(self.name, checked)

    def not_taken(self, name: str, command: bool) -> str:
        """The one-line refusal of option ``name``, saying which entry points take it."""
        owners = [entry for entry in ENTRY_POINTS.values() if name in entry.options]
        if command:
            if not owners:
                return f"unknown key {name!r}; `niprep {self.where()} --help` lists the keys"
            places = " or ".join(entry.where() for entry in
                                 [entry for entry in owners if entry.task] or owners)
            return f"{name} is a key of {places}, not of {self.where()}"
        if not owners:
            return (f"{self.name} takes no option {name!r}; its options are "
                    + ", ".join(repr(option) for option in self.options))
        places = ", ".join(entry.name for entry in owners)
        return f"{self.name} takes no option {name!r}; it is an option of {places}"

    def shaping_groups(self) -> tuple[Group, ...]:
        """The groups whose values change the bytes of a case's files."""
        return tuple(g for g in self.groups if g.shapes_output and g.name not in self.needs)


#: every entry point by name, filled by :func:`register`
ENTRY_POINTS: dict[str, EntryPoint] = {}


def register(*entries: EntryPoint) -> None:
    """Make entry points known, so a refused option can name those that take it."""
    for entry in entries:
        ENTRY_POINTS[entry.name] = entry


@dataclass(frozen=True)
class Settings:
    """The validated options of one call; each option is an attribute.

    Args:
        entry: the name of the entry point they were checked for.
        values: every option the entry point takes, checked.
    """

    entry: str
    values: Mapping[str, Any]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("entry", "values"):
            raise AttributeError(name)
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(f"{self.entry} takes no option {name!r}") from None

    def shaping(self) -> dict[str, Any]:
        """The values that change the bytes of a case's files (hashed for ``resume``)."""
        names: Iterable[str] = (
            option.name
            for group in ENTRY_POINTS[self.entry].shaping_groups()
            for option in group.options
        )
        return {name: self.values[name] for name in names}
