"""The project's Rasa components (bot/components/) without a server."""

from __future__ import annotations

import numpy as np
import scipy.sparse

from bot.components.svm_intent_classifier import LoadedPipeline, SVMIntentClassifier


def test_the_loaded_pipeline_gives_the_trained_pipelines_probabilities():
    rng = np.random.default_rng(0)
    blocks = [30, 50, 20]
    X = scipy.sparse.random(120, sum(blocks), density=0.1, format="csr", random_state=1)
    X.data = np.ceil(X.data * 3)  # counts, as the count-vector featurizers give
    y = np.array(["greet", "describe_customer", "ask_topic"] * 40)
    classifier = SVMIntentClassifier(SVMIntentClassifier.get_default_config(), "svm", None, None)
    pipeline = classifier._build_classifier(blocks)
    pipeline.fit(X, y)
    rows = scipy.sparse.random(15, sum(blocks), density=0.1, format="csr", random_state=int(rng.integers(100)))
    rows.data = np.ceil(rows.data * 3)
    loaded = LoadedPipeline(pipeline)
    assert list(loaded.classes_) == list(pipeline.classes_)
    assert np.allclose(loaded.predict_proba(rows), pipeline.predict_proba(rows))
    assert np.allclose(loaded.predict_proba(rows[:1]), pipeline.predict_proba(rows[:1]))
