"""The header facts a dictionary wrapper reads from, and records in, ``<key>_<postfix>``.

One rule for every wrapper of :mod:`niprep.core.transforms`: a wrapper acts as its array
transform called with what the meta dictionary holds. A fact the array transform cannot
do without (``Orient`` needs the ``affine``) must be there: its absence raises a
``KeyError`` naming the key and saying where the fact comes from. A fact with a default in
the array transform (``MaskToBoxes``'s ``voxel_volume``, ``source_axes``) takes that
default when absent. A wrapper that changes the array's shape records the new ``shape``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any


def meta_key(key: Hashable, postfix: str) -> str:
    """The key of the header facts of ``key``: ``<key>_<postfix>``."""
    return f"{key}_{postfix}"


def read_meta(
    data: Mapping[Hashable, Any],
    key: Hashable,
    postfix: str,
    transform: str,
    needed: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A copy of the header facts of ``key`` (empty when there are none).

    Args:
        data: the dictionary the wrapper was given.
        key: the key of the array.
        postfix: the wrapper's ``meta_key_postfix``.
        transform: the wrapper's name, for the message.
        needed: the facts the step cannot do without.

    Raises:
        KeyError: a fact in ``needed`` is absent.
    """
    where = meta_key(key, postfix)
    meta = dict(data.get(where, {}))
    missing = [fact for fact in needed if fact not in meta]
    if missing:
        raise KeyError(
            f"{transform} needs {', '.join(repr(fact) for fact in missing)} of {key!r} in "
            f"data[{where!r}]; load {key!r} with LoadNiftid (meta_key_postfix={postfix!r}) "
            "or put it there"
        )
    return meta
