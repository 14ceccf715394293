"""Every command the README shows runs as written, from a project folder after the Quick start."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT_ROOT, SEED_ARTICLE

# Lines a test cannot run as they stand: the installers (the test runs inside what they made),
# the bot (it runs until stopped) and retraining (about an hour).
_NOT_RUN = re.compile(r"^(scripts/|source |newsdesk telegram|newsdesk train )")


def readme_commands() -> list[str]:
    """The command lines of the README's bash blocks, comments cut."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command and not _NOT_RUN.match(command):
                lines.append(command)
    return lines


def test_the_readme_commands_run(tmp_path: Path) -> None:
    commands = readme_commands()
    assert any(c.startswith("newsdesk index build") for c in commands)
    (tmp_path / "seeds").mkdir()
    shutil.copy(SEED_ARTICLE, tmp_path / "seeds" / SEED_ARTICLE.name)
    (tmp_path / "questions.txt").write_text("How many civilians left?\nWho is Omar Alloush?\n")
    env = {k: v for k, v in os.environ.items() if k not in {"SEEDS_DIR", "INDEX_DIR"}}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["HOME"] = str(tmp_path)
    for command in commands:
        ran = subprocess.run(
            ["bash", "-c", command],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert ran.returncode == 0, (command, ran.stderr)
        assert "Traceback" not in ran.stderr, (command, ran.stderr)
