"""Beacon's knowledge base: answers from the team's own documents, always with sources.

Index a folder (incrementally; only changed files are embedded)::

    from knowledge import build_index, KnowledgeBase
    build_index("data/knowledge", "var/knowledge")
    kb = KnowledgeBase.open("var/knowledge")        # verifies checksums, loads once
    answer = kb.ask("What does the style guide say about emoji?", collection="public")
    answer.answer, answer.quotes, answer.found, answer.confidence

Retrieval fuses dense FAISS search (all-MiniLM-L6-v2) with BM25 by reciprocal rank
fusion and de-duplicates with maximal marginal relevance; answers quote the best
sentences verbatim (ranked against the question, preferring the sentence that holds
the money, date or size asked for), say "not found" when the answerability model doubts
that the quotes answer (``ANSWER_THRESHOLD``), or come from an optional
OpenAI-compatible chat model (``BEACON_LLM_*``) that sees the passages as quoted JSON
data. Nothing is pickled.

A second index holds the brand's own workspace posts, for "posts like this one"::

    from knowledge import PostIndex
    PostIndex.update(workspace)                     # incremental; next to the workspace file
    posts = PostIndex.open().similar("New trail shoe!", k=3, platform="instagram")
    posts[0].post_id, posts[0].score, posts[0].engagement_rate, posts[0].top_30
"""

from knowledge._answerability import ANSWER_THRESHOLD
from knowledge._documents import CollectionRule, default_collection_rule, fixed_collection
from knowledge._embeddings import MiniLMEmbeddings
from knowledge._generator import GeneratorConfig, chat_model_from_env, make_chat_model
from knowledge._indexer import build_index
from knowledge._kb import DEFAULT_MIN_SCORE, KnowledgeBase, default_index_dir
from knowledge._posts import PostIndex, PostIndexReport, SimilarPost, default_post_index_dir
from knowledge._types import (
    Answer,
    IndexConfig,
    IndexReport,
    Passage,
    Quote,
    SearchFilter,
)
from knowledge.exceptions import (
    DocumentLoadError,
    GeneratorError,
    IndexIntegrityError,
    IndexNotFoundError,
    KnowledgeError,
)

__all__ = [
    "ANSWER_THRESHOLD",
    "DEFAULT_MIN_SCORE",
    "Answer",
    "CollectionRule",
    "DocumentLoadError",
    "GeneratorConfig",
    "GeneratorError",
    "IndexConfig",
    "IndexIntegrityError",
    "IndexNotFoundError",
    "IndexReport",
    "KnowledgeBase",
    "KnowledgeError",
    "MiniLMEmbeddings",
    "Passage",
    "PostIndex",
    "PostIndexReport",
    "Quote",
    "SearchFilter",
    "SimilarPost",
    "build_index",
    "chat_model_from_env",
    "default_collection_rule",
    "default_index_dir",
    "default_post_index_dir",
    "fixed_collection",
    "make_chat_model",
]
