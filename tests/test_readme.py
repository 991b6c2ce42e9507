"""Every ```python block of README.md runs, in order, in one namespace (the README stays true)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jcollapse.internal.devices import usable_cores

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)
#: The block showing the CPU-device default must import jcollapse before JAX starts: it runs in
#: a fresh process of its own, without the suite's one-device setting.
FRESH_PROCESS = 'jax.devices("cpu")'


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 4
    assert "jc.simulate(loop, truth, key=jax.random.key(0), seeds=2000)" in BLOCKS[0]
    assert sum(FRESH_PROCESS in block for block in BLOCKS) == 1


def test_readme_examples_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__readme__"}
    for index, block in enumerate(BLOCKS):
        if FRESH_PROCESS in block:
            env = {k: v for k, v in os.environ.items() if k != "JAX_NUM_CPU_DEVICES"} | {"JAX_PLATFORMS": "cpu"}
            done = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True, timeout=120, env=env)
            assert done.returncode == 0, f"README python block {index} failed:\n{done.stderr}"
            assert done.stdout.startswith(f"{usable_cores()} CPU device(s)"), done.stdout
            continue
        try:
            exec(compile(block, f"README.md python block {index}", "exec"), namespace)
        except Exception as error:  # pragma: no cover - shows which block failed
            pytest.fail(f"README python block {index} failed: {error!r}\n{block}")
    assert namespace["run"].metrics["variance"].shape == (2000, 201)
    assert namespace["theory"].shape == (201,)
    assert abs(namespace["z"][-1]) < 5
    assert list(tmp_path.iterdir()) == []
    print(capsys.readouterr().out)
