"""The install the READMEs give, ``pip install './client-py[litellm]'`` (headroom-client is not on
PyPI), run into a fresh virtual environment. Offline and quick: ``--no-index --no-deps
--no-build-isolation``, the build backend (the pinned setuptools) and the extra's libraries
coming from this test environment through a ``.pth`` line; the package itself is built from a
copy of client-py and installed into the new environment, then imported from there and used
against the daemon."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_documented_install_into_a_fresh_venv(daemon, tmp_path):
    source = tmp_path / "client-py"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / "client-py" / name, source / name)
    shutil.copytree(ROOT / "client-py" / "headroom", source / "headroom",
                    ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "test-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-index", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-q", "./client-py[litellm]"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stdout + install.stderr

    probe = subprocess.run([str(python), "-c", """
import importlib.metadata, json
import headroom, headroom.litellm
r = headroom.compress([{"role": "user", "content": "hi"}])
print(json.dumps({"file": headroom.__file__, "error": r.error,
                  "requires": importlib.metadata.requires("headroom-client")}))
"""], capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={**os.environ, "HEADROOM_SOCKET": daemon.socket, "LITELLM_LOCAL_MODEL_COST_MAP": "True",
             "PYTHONPATH": ""})
    assert probe.returncode == 0, probe.stderr[-3000:]
    out = json.loads(probe.stdout.strip().splitlines()[-1])
    assert Path(out["file"]).is_relative_to(site), "imported from the new environment, not the source tree"
    assert out["error"] is None, "the installed client talks to the daemon"
    assert 'litellm[mcp]>=1.106; extra == "litellm"' in out["requires"]
    assert 'agno>=3.1; extra == "agno"' in out["requires"]
