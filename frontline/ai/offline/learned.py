"""A classifier learned from the knowledge base itself: which passage does a question
belong to?

Every passage is a class; its training examples are its units (the title and each line or
sentence: an FAQ entry's ways of asking, a document's sentences). Features are TF-IDF over
word stems (and stem bigrams) and over character 2-5-grams inside word boundaries (typos,
inflections); the model is a multinomial logistic regression (scikit-learn). It learns
which words tell the passages of *this* knowledge base apart, which a fixed similarity
cannot: in CLINC150 "transfer" names one intent and "bank" many.

Its probability is blended with the similarity score of ``retrieval.KnowledgeIndex`` (see
``engine.Thresholds.learned_weight``): the similarity keeps the evidence of words the base
has never seen (they lower it), which a softmax over known classes cannot express.

Out-of-scope examples (``rejects``: questions the business does not answer) make one more
class. A question like them takes probability from every passage, and the engine lowers its
confidence by that class's probability (``engine.Thresholds.reject_weight``): learned
from examples, not from a threshold alone, what "none of these" looks like.

Training costs about 5 s for 150 passages of 10 examples on one core, milliseconds for a
handful; the engine trains it once per knowledge version, never per message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from frontline.ai.offline.text import stem, words

# Regularisation of the logistic regression (larger: less), chosen on CLINC150's tuning
# fold (see ``evaluate``).
C = 20.0


def _stemmed(text: str) -> str:
    return " ".join(stem(w) for w in words(text))


class PassageClassifier:
    """``probabilities(query)``: one probability per passage (in the order given);
    ``reject(query)``: the probability of the out-of-scope class (0 without rejects)."""

    def __init__(self, examples: Sequence[Sequence[str]], rejects: Sequence[str] = ()) -> None:
        from scipy.sparse import hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        texts: list[str] = []
        labels: list[int] = []
        for label, units in enumerate(examples):
            for unit in units:
                texts.append(unit)
                labels.append(label)
        self.classes = len(examples)
        self.has_rejects = bool(rejects)
        for text in rejects:
            texts.append(text)
            labels.append(self.classes)
        self._last: tuple[str, npt.NDArray[np.float64]] | None = None
        self._hstack = hstack
        self._word = TfidfVectorizer(
            preprocessor=_stemmed,
            token_pattern=r"\S+",  # noqa: S106 - a regular expression, not a password
            ngram_range=(1, 2),
            sublinear_tf=True,
        )
        self._char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
        features = self._features(texts, fit=True)
        self._model: Any = LogisticRegression(C=C, max_iter=300, tol=1e-3)
        self._model.fit(features, labels)
        self._order = np.asarray(self._model.classes_, dtype=np.int64)

    def _features(self, texts: Sequence[str], fit: bool = False) -> Any:
        if fit:
            return self._hstack(
                [self._word.fit_transform(texts), self._char.fit_transform(texts)]
            ).tocsr()
        return self._hstack([self._word.transform(texts), self._char.transform(texts)]).tocsr()

    def probabilities(self, query: str) -> npt.NDArray[np.float64]:
        """Per passage, the probability above chance: ``(p - 1/K) / (1 - 1/K)``, at least 0.
        A softmax over K classes gives a nonsense question about 1/K each, which for a
        handful of passages would read as confidence; with 150 passages this is p."""
        out = self._predict(query)[: self.classes]
        chance = 1.0 / self.classes
        return np.maximum(0.0, (out - chance) / (1.0 - chance))

    def reject(self, query: str) -> float:
        full = self._predict(query)
        return float(full[self.classes]) if len(full) > self.classes else 0.0

    def _predict(self, query: str) -> npt.NDArray[np.float64]:
        last = self._last
        if last is not None and last[0] == query:
            return last[1]
        out = np.zeros(int(self._order.max()) + 1, dtype=np.float64)
        out[self._order] = self._model.predict_proba(self._features([query]))[0]
        self._last = (query, out)
        return out
