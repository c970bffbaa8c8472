"""Multi-step work in progress between steps (docs/spec.md section 5, "Jobs")."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from protocol.errors import CodecError
from protocol.hashing import ZERO32, keccak


class JobKind(IntEnum):
    SCORE = 1
    TRAIN = 2


_SCORE = struct.Struct(">BQ20s32sI16s")
_TRAIN = struct.Struct(">BQIII")


@dataclass(frozen=True, slots=True)
class ScoreJob:
    """Scoring a revealed model, one chunk of the task's test set a step."""

    task_id: int
    miner: bytes
    weights_hash: bytes
    next_chunk: int
    acc: int

    def encode(self) -> bytes:
        return _SCORE.pack(
            JobKind.SCORE,
            self.task_id,
            self.miner,
            self.weights_hash,
            self.next_chunk,
            self.acc.to_bytes(16, "big"),
        )


@dataclass(frozen=True, slots=True)
class TrainJob:
    """Training a shared model, one data chunk of per-sample SGD a step."""

    model_id: int
    steps_left: int
    next_chunk: int
    n_chunks: int

    def encode(self) -> bytes:
        return _TRAIN.pack(JobKind.TRAIN, self.model_id, self.steps_left, self.next_chunk, self.n_chunks)


Job = ScoreJob | TrainJob


def decode_job(data: bytes) -> Job:
    """Decode a job's bytes; `CodecError` when they are not a job."""
    if data[:1] == bytes([JobKind.SCORE]) and len(data) == _SCORE.size:
        _, task_id, miner, weights_hash, next_chunk, acc = _SCORE.unpack(data)
        return ScoreJob(task_id, miner, weights_hash, next_chunk, int.from_bytes(acc, "big"))
    if data[:1] == bytes([JobKind.TRAIN]) and len(data) == _TRAIN.size:
        _, model_id, steps_left, next_chunk, n_chunks = _TRAIN.unpack(data)
        return TrainJob(model_id, steps_left, next_chunk, n_chunks)
    raise CodecError(f"{len(data)} bytes are not a job encoding")


def job_hash(job: Job | None) -> bytes:
    """`H(job bytes)`, or 32 zero bytes when no job is pending."""
    return ZERO32 if job is None else keccak(job.encode())
