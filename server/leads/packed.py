"""What a predictive scoring run keeps on the profile itself instead of in nodes beside it:
the top factors as one number list and the recent score history as one string list.

Measured on 1M profiles (docs/scoring.md), a history node per changed profile was ~45 % of
the write-back's Neo4j CPU and the four factor lists ~15 %: one more list property on a node
the run writes anyway costs a few microseconds. The profile keeps the newest `KEEP` entries;
older ones move out to `_ScoreHistory` nodes in the same statement, so the history read back
is as long as it was with a node per entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from server.leads.records import HistoryEntry

KEEP = 20  # entries on the profile; a page of leads carries them (properties(p))
SEP = "|"  # never in a model id (hex) nor in the numbers
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def history_entry(model_id: str, at: datetime, version: int, score: int | None) -> str:
    """One history entry as text: `{model id}|{epoch millis}|{version}|{score or ''}`."""
    millis = (at - EPOCH) // timedelta(milliseconds=1)
    return SEP.join((model_id, str(millis), str(version), "" if score is None else str(score)))


def parse_entries(model_id: str, packed: list[str] | None) -> list[HistoryEntry]:
    """The entries of `model_id` among a profile's packed history, oldest first."""
    out = []
    for text in packed or ():
        owner, millis, version, score = text.split(SEP)
        if owner == model_id:
            at = EPOCH + timedelta(milliseconds=int(millis))
            out.append(HistoryEntry(at=at, version=int(version),
                                    score=int(score) if score else None, grade=None,
                                    sales_ready=False))  # fmt: skip
    return out


# the Cypher that moves entries beyond KEEP into nodes: the inverse of `history_entry`
SPILL = (
    "WITH row, split(e, '" + SEP + "') AS f "
    "CREATE (:_ScoreHistory {modelId: f[0], key: row.key, "
    " at: datetime({epochMillis: toInteger(f[1])}), version: toInteger(f[2]), "
    " score: toInteger(f[3]), grade: null, salesReady: false})"
)


@dataclass(frozen=True, slots=True)
class Factors:
    """The top factors of one prediction: positions in the version's feature list, score
    points, log-odds and the lead's values (NaN: missing), largest effect first."""

    features: list[int]
    points: list[float]
    log_odds: list[float]
    values: list[float]

    def packed(self) -> list[float]:
        """One list: the four parts one after the other (positions as exact floats)."""
        return [float(f) for f in self.features] + self.points + self.log_odds + self.values


def unpack_factors(packed: list[Any] | None) -> Factors | None:
    if packed is None:
        return None
    n = len(packed) // 4
    parts = [[float(x) for x in packed[i * n : (i + 1) * n]] for i in range(4)]
    return Factors([int(f) for f in parts[0]], parts[1], parts[2], parts[3])
