"""Optional analyser: a local Hugging Face sequence-classification model (pip install
'cxbot[transformers]').

The model is read from a folder on disk with `local_files_only=True`: nothing is downloaded at
run time, and a hub name in model_path is refused rather than fetched. The score is the
expected polarity under the model's class probabilities: sum(p_i * polarity(label_i)), so a
3-class negative/neutral/positive model gives P(pos) - P(neg) and a 5-star model gives
(expected stars - 3) / 2. It is synchronous; the caller runs the enricher on a worker thread.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cxbot.errors import ConfigError

_STARS = re.compile(r"^\s*([1-5])\s*stars?\s*$")


def label_polarity(name: str, overrides: Mapping[str, float] | None = None) -> float:
    """-1..1 for one of the model's labels: from `overrides`, else from the label's name."""
    if overrides and name in overrides:
        return float(overrides[name])
    low = name.lower()
    stars = _STARS.match(low)
    if stars:
        return (int(stars.group(1)) - 3) / 2
    for part, value in (("neg", -1.0), ("neu", 0.0), ("pos", 1.0)):
        if part in low:
            return value
    raise ConfigError(
        f"enrich.model_labels: the model's label {name!r} does not say whether it is negative,"
        f" neutral or positive; map every label, e.g. model_labels = {{ {name} = -1.0 }}"
    )


class TransformersAnalyser:
    name = "transformers"

    def __init__(
        self,
        model_dir: Path,
        *,
        languages: Sequence[str] | None = None,
        labels: Mapping[str, float] | None = None,
        batch_size: int = 32,
        max_tokens: int = 256,
        threads: int | None = None,
    ) -> None:
        try:
            self._torch: Any = importlib.import_module("torch")
            transformers: Any = importlib.import_module("transformers")
        except ImportError as exc:
            raise ConfigError(
                "enrich.analyser = 'transformers' needs the optional extra:"
                f" pip install 'cxbot[transformers]' ({exc})"
            ) from None
        if not model_dir.is_dir() or not (model_dir / "config.json").is_file():
            raise ConfigError(
                f"enrich.model_path: {model_dir} is not a folder holding a saved model"
                " (config.json, tokenizer files and weights, as written by save_pretrained)"
            )
        if threads:
            self._torch.set_num_threads(threads)
        try:
            self._tokenizer: Any = transformers.AutoTokenizer.from_pretrained(
                str(model_dir), local_files_only=True
            )
            self._model: Any = transformers.AutoModelForSequenceClassification.from_pretrained(
                str(model_dir), local_files_only=True
            )
        except Exception as exc:  # transformers raises many kinds; all mean "bad model folder"
            raise ConfigError(
                f"enrich.model_path: cannot load a model from {model_dir}: {exc}"
            ) from None
        self._model.eval()
        id2label: Mapping[int, str] = self._model.config.id2label
        polarities = [label_polarity(id2label[i], labels) for i in range(len(id2label))]
        self._polarity = self._torch.tensor(polarities, dtype=self._torch.float32)
        # Tokenizers may return inputs the architecture does not take (DistilBERT and
        # token_type_ids); pass only what forward() accepts.
        self._inputs = set(inspect.signature(self._model.forward).parameters)
        self._languages = frozenset(languages) if languages else None
        self._batch = batch_size
        self._max_tokens = max_tokens
        self.labels = dict(
            zip((id2label[i] for i in range(len(id2label))), polarities, strict=True)
        )

    def reads(self, lang: str | None) -> bool:
        return self._languages is None or lang in self._languages

    def score_many(self, texts: Sequence[str]) -> list[float | None]:
        scores: list[float | None] = []
        torch = self._torch
        with torch.inference_mode():
            for start in range(0, len(texts), self._batch):
                batch = list(texts[start : start + self._batch])
                encoded = self._tokenizer(
                    batch,
                    padding=True,
                    truncation=True,
                    max_length=self._max_tokens,
                    return_tensors="pt",
                )
                inputs = {k: v for k, v in encoded.items() if k in self._inputs}
                probs = self._model(**inputs).logits.softmax(dim=-1)
                scores.extend(float(x) for x in (probs @ self._polarity).clamp(-1, 1).tolist())
        return scores
