"""The registry of competition architectures (docs/spec.md section 7): dimensions, sizes, labels.

Pure Python: the kernels (`protocol.kernels`) and the oracle (`protocol.reference`) both read it.

Solidity twin: `l1_contracts/src/libraries/ModelSpec.sol`.
"""

from dataclasses import dataclass
from enum import IntEnum

from protocol.errors import BoundsError
from protocol.params import (
    ELEMENT_MAX,
    MAX_CHUNK_SAMPLES,
    MAX_CLASSES,
    MAX_MODEL_DIM,
    MAX_PARAMS,
    MAX_STEP_MACS,
)


class Arch(IntEnum):
    """The `arch` byte of CreateTask."""

    LINREG = 1
    LOGREG = 2
    MLP = 3


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A task's architecture and dims; build it with `validate_spec` so its bounds hold."""

    arch: Arch
    inputs: int  # d
    hidden: int  # h (MLP), else 0
    outputs: int  # c (MLP), else 0

    @property
    def param_count(self) -> int:
        """Length of the flat weights: d + 1, or d*h + h + h*c + c for an MLP."""
        d, h, c = self.inputs, self.hidden, self.outputs
        return d + 1 if self.arch != Arch.MLP else d * h + h + h * c + c

    @property
    def macs_per_sample(self) -> int:
        """Multiply-accumulates to score one sample: d, or d*h + h*c for an MLP."""
        d, h, c = self.inputs, self.hidden, self.outputs
        return d if self.arch != Arch.MLP else d * h + h * c

    @property
    def chunk_size(self) -> int:
        """Test samples a scoring step handles: max(1, min(MAX_CHUNK_SAMPLES, MAX_STEP_MACS // macs))."""
        return max(1, min(MAX_CHUNK_SAMPLES, MAX_STEP_MACS // self.macs_per_sample))

    def label_ok(self, label: int) -> bool:
        """Whether `label` is valid for this architecture: [-B, B], {0, 1} or [0, c)."""
        if self.arch == Arch.LINREG:
            return -ELEMENT_MAX <= label <= ELEMENT_MAX
        if self.arch == Arch.LOGREG:
            return label in (0, 1)
        return 0 <= label < self.outputs


def validate_spec(arch: int, inputs: int, hidden: int, outputs: int) -> ModelSpec:
    """The `ModelSpec` of CreateTask's dims, or `BoundsError` naming the rule they break."""
    if arch not in (Arch.LINREG, Arch.LOGREG, Arch.MLP):
        raise BoundsError(f"arch {arch} is unknown: use 1 (LINREG), 2 (LOGREG) or 3 (MLP)")
    if not 1 <= inputs <= MAX_MODEL_DIM:
        raise BoundsError(f"inputs {inputs} is outside [1, MAX_MODEL_DIM={MAX_MODEL_DIM}]")
    if arch != Arch.MLP:
        if hidden != 0 or outputs != 0:
            raise BoundsError(
                f"{Arch(arch).name} takes hidden = outputs = 0, got hidden {hidden}, outputs {outputs}"
            )
    else:
        if not 1 <= hidden <= MAX_MODEL_DIM:
            raise BoundsError(f"MLP hidden {hidden} is outside [1, MAX_MODEL_DIM={MAX_MODEL_DIM}]")
        if not 2 <= outputs <= MAX_CLASSES:
            raise BoundsError(f"MLP outputs {outputs} is outside [2, MAX_CLASSES={MAX_CLASSES}]")
    spec = ModelSpec(Arch(arch), inputs, hidden, outputs)
    if spec.macs_per_sample > MAX_STEP_MACS:
        raise BoundsError(
            f"{spec.macs_per_sample} MACs a sample exceed MAX_STEP_MACS={MAX_STEP_MACS}: "
            "a scoring step could not re-execute one sample on L1; shrink inputs or hidden"
        )
    if spec.param_count > MAX_PARAMS:
        raise BoundsError(f"{spec.param_count} parameters exceed MAX_PARAMS={MAX_PARAMS}; shrink the model")
    return spec
