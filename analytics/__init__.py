"""Beacon's analytics: ML models and statistics, importable without Rasa.

Subpackages and modules each own one capability (sentiment, listening, periods,
embeddings, experiments, ...); see the README's architecture section.
"""
