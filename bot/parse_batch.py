"""Parse many messages with a trained Rasa model, without a server (runs in ``.venv-bot``).

    .venv-bot/bin/python -m bot.parse_batch MODEL.tar.gz < texts.json > parses.json

Reads a JSON list of messages on standard input and writes one JSON object per message
on standard output: the intent, its confidence, the runner-up intents, the entities and
how long the parse took. ``benchmarks/understanding.py`` uses it to measure the NLU on
its own (intent accuracy, parse latency) for one model or two.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from typing import Any


async def _parse_all(model: str, texts: list[str]) -> list[dict[str, Any]]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    await agent.parse_message("warm up")  # the first parse builds the graph's caches
    results = []
    for text in texts:
        start = time.perf_counter()
        parsed = await agent.parse_message(text)
        elapsed_ms = 1000 * (time.perf_counter() - start)
        ranking = parsed.get("intent_ranking") or []
        results.append(
            {
                "text": text,
                "intent": (parsed.get("intent") or {}).get("name"),
                "confidence": (parsed.get("intent") or {}).get("confidence"),
                "ranking": [[r.get("name"), r.get("confidence")] for r in ranking[:3]],
                "entities": [
                    {"entity": e.get("entity"), "value": e.get("value"), "role": e.get("role")}
                    for e in parsed.get("entities") or []
                ],
                "ms": round(elapsed_ms, 2),
            }
        )
    return results


def main(argv: list[str] | None = None) -> int:
    """Parse standard input's messages with the model named in ``argv``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bot.parse_batch MODEL.tar.gz < texts.json", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    texts = json.load(sys.stdin)
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        print("error: expected a JSON list of strings on standard input", file=sys.stderr)
        return 2
    out = sys.stdout
    sys.stdout = sys.stderr  # Rasa and TensorFlow print while loading: keep stdout JSON only
    try:
        results = asyncio.run(_parse_all(args[0], texts))
    finally:
        sys.stdout = out
    json.dump(results, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
