"""The deployment reference lists every setting the code reads (docs match the code)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_env_example_and_deploy_doc_list_every_setting():
    result = subprocess.run([sys.executable, str(ROOT / "deploy" / "gen_env_example.py"), "--check"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
