"""A sweep's on-disk state: per-process checkpoints of finished chunks, the final result.

Every file is written with :func:`jcollapse.internal.atomic.write_atomically`, so a run killed
at any instant leaves either the previous complete file or the new one, never a partial one.
"""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path
from typing import Any, Optional

from ..internal.atomic import write_atomically

#: The sweep's result inside ``out``.
RESULT_NAME = "sweep.nc"
#: The directory of per-process checkpoints inside ``out``, removed once the result is written.
CHECKPOINT_DIR = ".checkpoint"


def checkpoint_path(out: Path, process: int) -> Path:
    """Where process ``process`` keeps its checkpoint."""
    return out / CHECKPOINT_DIR / f"process-{process}.pkl"


def save_checkpoint(out: Path, process: int, state: dict[str, Any]) -> None:
    """Atomically replace process ``process``'s checkpoint with ``state`` (a picklable dict)."""
    path = checkpoint_path(out, process)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda tmp: tmp.write_bytes(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)))


def load_checkpoint(out: Path, process: int, fingerprint: str, processes: int) -> Optional[dict[str, Any]]:
    """Process ``process``'s checkpoint, or None if there is none.

    **Raises:**

    `ValueError` if the checkpoint belongs to a different sweep or a different number of
    processes: resuming it would mix two experiments.
    """
    path = checkpoint_path(out, process)
    if not path.exists():
        return None
    state = pickle.loads(path.read_bytes())
    if state["fingerprint"] != fingerprint:
        raise ValueError(
            f"out={str(out)!r} holds a checkpoint of a different sweep (another loop, grid, truth, seeds, "
            f"key, chunk_size or version); choose another out or delete {out / CHECKPOINT_DIR}"
        )
    if state["processes"] != processes:
        raise ValueError(
            f"out={str(out)!r} holds a checkpoint written by {state['processes']} processes; resume it with "
            f"{state['processes']} processes (this run has {processes})"
        )
    return state


def remove_checkpoints(out: Path) -> None:
    """Delete the checkpoints once the result is safely written."""
    shutil.rmtree(out / CHECKPOINT_DIR, ignore_errors=True)
