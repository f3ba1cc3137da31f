"""Model artifacts: skops files (no pickle: loading runs no code) with metadata, cached.

The file holds {"estimator": fitted pipeline, "metadata": JSON text}. Loading trusts only the
types our pipeline is made of; anything else in a file is refused as INVALID_ARTIFACT.
"""

from __future__ import annotations

import json
import threading
import zipfile
from pathlib import Path
from typing import Any

import skops.io as sio

from scoring.errors import ScoringError, ScoringErrorCode
from scoring.metrics import HoldoutMetrics, ReliabilityBin
from scoring.model import MODEL_FORMAT, ModelMetadata, TrainedModel, TrainingConfig

TRUSTED_TYPES = (
    "numpy.dtype",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.model_selection._split.StratifiedKFold",
)


def save_model(model: TrainedModel, path: str | Path) -> Path:
    """Write the model and its metadata; returns the path. Raises OSError on write failure."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    metadata = json.dumps(model.metadata.to_dict(), sort_keys=True)
    temporary = target.with_suffix(target.suffix + ".tmp")
    sio.dump({"estimator": model.estimator, "metadata": metadata}, temporary)
    temporary.replace(target)  # readers never see a half-written file
    return target


def model_to_bytes(model: TrainedModel) -> bytes:
    """The same content as a model file, as bytes (stored in the database by the server)."""
    metadata = json.dumps(model.metadata.to_dict(), sort_keys=True)
    return bytes(sio.dumps({"estimator": model.estimator, "metadata": metadata}))


def model_from_bytes(data: bytes, where: str = "artifact") -> TrainedModel:
    """Read `model_to_bytes` output, trusting only the pipeline's own types.

    Raises ScoringError(INVALID_ARTIFACT) as load_model does.
    """
    try:
        untrusted = set(sio.get_untrusted_types(data=data)) - set(TRUSTED_TYPES)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ScoringError.one(ScoringErrorCode.INVALID_ARTIFACT, str(exc), where) from exc
    if untrusted:
        found = ", ".join(sorted(untrusted)[:5])
        raise ScoringError.one(ScoringErrorCode.INVALID_ARTIFACT, "untrusted types", found)
    try:
        content = sio.loads(data, trusted=list(TRUSTED_TYPES))
        metadata = _metadata_from_dict(json.loads(content["metadata"]))
    except (KeyError, TypeError, ValueError, zipfile.BadZipFile) as exc:
        raise ScoringError.one(ScoringErrorCode.INVALID_ARTIFACT, str(exc), where) from exc
    return TrainedModel(content["estimator"], metadata)


def load_model(path: str | Path) -> TrainedModel:
    """Read a model file, trusting only the pipeline's own types.

    Raises ScoringError(INVALID_ARTIFACT) for an unreadable file, unexpected types, or
    metadata of another format; OSError if the file cannot be opened.
    """
    source = Path(path)
    try:
        untrusted = set(sio.get_untrusted_types(file=source)) - set(TRUSTED_TYPES)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ScoringError.one(ScoringErrorCode.INVALID_ARTIFACT, str(exc), str(source)) from exc
    if untrusted:
        where = ", ".join(sorted(untrusted)[:5])
        raise ScoringError.one(ScoringErrorCode.INVALID_ARTIFACT, "untrusted types", where)
    try:
        content = sio.load(source, trusted=list(TRUSTED_TYPES))
        metadata = _metadata_from_dict(json.loads(content["metadata"]))
    except (KeyError, TypeError, ValueError, zipfile.BadZipFile) as exc:
        raise ScoringError.one(ScoringErrorCode.INVALID_ARTIFACT, str(exc), str(source)) from exc
    return TrainedModel(content["estimator"], metadata)


def _metadata_from_dict(data: dict[str, Any]) -> ModelMetadata:
    if data.get("format") != MODEL_FORMAT:
        raise ValueError(f"model format {data.get('format')}, this code reads {MODEL_FORMAT}")
    metrics = dict(data["metrics"])
    metrics["reliability"] = tuple(ReliabilityBin(**b) for b in metrics["reliability"])
    return ModelMetadata(**{
        **data,
        "feature_names": tuple(data["feature_names"]),
        "config": TrainingConfig(**data["config"]),
        "metrics": HoldoutMetrics(**metrics),
    })  # fmt: skip


class ModelCache:
    """Models loaded once per process, keyed by path and file identity (size, mtime), so a
    replaced file is read again and an unchanged one never is."""

    def __init__(self) -> None:
        self._models: dict[tuple[str, int, int], TrainedModel] = {}
        self._lock = threading.Lock()
        self.loads = 0

    def get(self, path: str | Path) -> TrainedModel:
        """The model at `path`. Raises what load_model raises."""
        resolved = Path(path).resolve()
        stat = resolved.stat()
        key = (str(resolved), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            if key not in self._models:
                self._models = {k: m for k, m in self._models.items() if k[0] != key[0]}
                self._models[key] = load_model(resolved)
                self.loads += 1
            return self._models[key]


MODELS = ModelCache()
"""The process-wide cache the server and workers share."""
