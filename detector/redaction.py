"""Redaction markers: what released logs print in place of a withheld cell.

Flock prints other agencies' officer names, plates and case numbers as ``***`` since
December 2025; agencies black out cells with REDACTED, ``###``, block glyphs or XXXX, or
type the exemption over the value (``7923.600 GC``, ``Gov. Code § 7923.600(a)``). Such a
cell is no value: read as one, every withheld plate would be one plate looked up by
everyone, every withheld officer one officer. The canonical form (``validate``) and the
vendor adapters (``streams.vendor``) read them with this one test: a withheld officer is
none (an empty user id), a withheld plate ``WITHHELD``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# A withheld plate in the canonical form: a plate was looked up, which one is not known. The
# detector counts it a plate lookup (a burst of them is still fishing) but no plate: never one
# plate shared by every withheld row.
WITHHELD = "***"

# RE2 syntax, for Arrow's regex kernels. An exemption citation is known by its wording (code, §)
# or by a section number with a dot or a subsection, never by "GC" and digits alone: plates
# such as GC02837 read so.
_REDACTION = (
    "(?is)^(?:"
    r"\*(?:\s*\*)+"
    r"|#{2,}"
    "|[\u2588-\u258f\u2591-\u2593\u25a0]+"
    r"|x{3,}"
    r"|\[?\s*redacted\b.*"
    r"|(?:gov(?:ernment)?|civ(?:il)?|penal)\.?\s*code\s*§*\s*\d+(?:\.\d+)*(?:\([a-z0-9]+\))*"
    r"|gc\s*§\s*\d+(?:\.\d+)*(?:\([a-z0-9]+\))*"
    r"|gc\s*\d+(?:(?:\.\d+)+|\([a-z0-9]+\))(?:\([a-z0-9]+\))*"
    r"|\d+(?:\.\d+)+\s*gc"
    ")$"
)


def is_redacted(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """True where the cell is a redaction marker rather than a value.

    >>> is_redacted(pa.array(["***", "* * *", "[REDACTED]", "REDACTED, J", "7923.600 GC", "GC 6254(f)", "XXXX"])).tolist()
    [True, True, True, True, True, True, True]
    >>> is_redacted(pa.array(["7ABC123", "GC02837", "", "Gov. Code § 7923.600(a)"])).tolist()
    [False, False, False, True]
    """
    return pc.match_substring_regex(values, _REDACTION).to_numpy(zero_copy_only=False)
