"""Sample lines kept under the default names, written again under another name escaping.

Only the metric names at the start of lines and the label names change (see
:mod:`exporter.formats`); label values are copied as they are. The pattern consumes each
label's whole quoted value (where a quote is always escaped), so nothing inside a value is
ever taken for a name.
"""

from __future__ import annotations

import re

from exporter.formats import Spelling

_NAMES = re.compile(
    rb'^([a-zA-Z_:][a-zA-Z0-9_:]*)|([{,])([a-zA-Z_][a-zA-Z0-9_]*)(="(?:[^"\\]|\\.)*")', re.M
)


def _maps(names: Spelling) -> tuple[dict[bytes, bytes], dict[bytes, bytes]]:
    samples = {k.encode(): v.encode() for k, v in names.samples.items()}
    labels = {k.encode(): v.encode() for k, v in names.labels.items()}
    return samples, labels


def respell(text: bytes, names: Spelling) -> bytes:
    """``text`` (sample lines under the default names) with the names of ``names``."""
    samples, labels = _maps(names)

    def one(match: re.Match[bytes]) -> bytes:
        sample = match[1]
        if sample is not None:
            return samples[sample]
        return match[2] + labels[match[3]] + match[4]

    return _NAMES.sub(one, text)
