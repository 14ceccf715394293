"""A build touches only what Newsdesk made: a user's files survive any INDEX_DIR, byte for byte."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from index.analysis.embedder import Embedder
from index.errors import IndexFolderError, IndexWriteError
from index.indexing.builder import BuildOptions, build_index
from index.storage.folder import LOCK_FILE, MARKER_FILE
from index.storage.store import current_build


def _snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every file's bytes and every link's target under ``folder``."""
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        key = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[key] = "-> " + os.readlink(path)
        elif path.is_file():
            found[key] = path.read_bytes()
    return found


def _newsdesk(
    *args: str, cwd: Path, as_user: Callable[[], None] | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """The real command line in a subprocess; ``as_user`` runs in the child before it starts."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=as_user,
    )


def _one_line(result: subprocess.CompletedProcess[str], starts: str) -> None:
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(f"newsdesk: {starts}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


_PR_CAPBSET_DROP, _CAP_DAC_OVERRIDE = 24, 1


def _bound_by_modes() -> None:
    """In the child: root loses the power to write where a folder's mode forbids it, as any
    other user has (the tests may run as root)."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_CAPBSET_DROP, _CAP_DAC_OVERRIDE, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _read_only(folder: Path) -> None:
    folder.chmod(0o555)
    probe = subprocess.run(
        ["touch", str(folder / "probe")], preexec_fn=_bound_by_modes, capture_output=True
    )
    if probe.returncode == 0:
        (folder / "probe").unlink()
        folder.chmod(0o755)
        pytest.skip("this user writes in read-only folders")


def _user_folder(root: Path) -> Path:
    """A folder of someone's files, shaped to tempt a careless build."""
    (root / "builds" / "2020").mkdir(parents=True)
    (root / "builds" / "2020" / "bridge.txt").write_text("the bridge plans\n")
    (root / "current").write_text("my current notes\n")
    (root / "notes.md").write_text("# notes\n")
    return root


def test_a_folder_of_someone_elses_files_is_refused_and_left_whole(
    seeds: Path, tmp_path: Path, embedder: Embedder
) -> None:
    folder = _user_folder(tmp_path / "home")
    before = _snapshot(folder)
    with pytest.raises(IndexFolderError, match="holds files Newsdesk did not make") as error:
        build_index(seeds, folder, embedder, BuildOptions())
    assert "\n" not in str(error.value)
    assert _snapshot(folder) == before


@pytest.mark.parametrize("where", ["same", "inside", "around"])
def test_an_index_folder_overlapping_the_seeds_is_refused(
    seeds: Path, tmp_path: Path, embedder: Embedder, where: str
) -> None:
    index_dir = {"same": seeds, "inside": seeds / "index", "around": tmp_path}[where]
    before = _snapshot(tmp_path)
    with pytest.raises(IndexFolderError, match="overlap"):
        build_index(seeds, index_dir, embedder, BuildOptions())
    assert _snapshot(tmp_path) == before


def test_an_index_folder_that_is_a_file_is_refused(
    seeds: Path, tmp_path: Path, embedder: Embedder
) -> None:
    (tmp_path / "index").write_text("not a folder\n")
    with pytest.raises(IndexFolderError, match="is a file"):
        build_index(seeds, tmp_path / "index", embedder, BuildOptions())
    assert (tmp_path / "index").read_text() == "not a folder\n"


def test_a_rebuild_deletes_only_its_own_superseded_builds(
    seeds: Path, tmp_path: Path, embedder: Embedder
) -> None:
    index_dir = tmp_path / "index"
    first = build_index(seeds, index_dir, embedder, BuildOptions()).folder
    assert (index_dir / MARKER_FILE).is_file()
    keep = index_dir / "builds" / "my-backup"
    keep.mkdir()
    (keep / "copy.txt").write_text("mine\n")
    (index_dir / "README.txt").write_text("what this folder is\n")
    second = build_index(seeds, index_dir, embedder, BuildOptions(full=True)).folder
    assert first is not None and second is not None and not first.exists()
    assert current_build(index_dir) == second
    assert (keep / "copy.txt").read_text() == "mine\n"
    assert (index_dir / "README.txt").read_text() == "what this folder is\n"


def test_an_index_built_before_the_marker_is_used_only_once_marked(
    seeds: Path, tmp_path: Path, embedder: Embedder
) -> None:
    index_dir = tmp_path / "index"
    build_index(seeds, index_dir, embedder, BuildOptions())
    (index_dir / MARKER_FILE).unlink()
    before = _snapshot(index_dir)
    with pytest.raises(IndexFolderError, match=f"not marked as Newsdesk's .*empty {MARKER_FILE}"):
        build_index(seeds, index_dir, embedder, BuildOptions())
    assert _snapshot(index_dir) == before
    (index_dir / MARKER_FILE).touch()  # what the message says to do
    report = build_index(seeds, index_dir, embedder, BuildOptions())
    assert report.unchanged == ["raqqa-2017-10-15.txt"]


def test_a_folder_laid_out_like_an_index_is_not_claimed_by_the_cli(
    seeds: Path, tmp_path: Path
) -> None:
    """builds/<build id> and a current link are no mark: only the marker file makes a folder
    Newsdesk's, so nothing of this user's folder is deleted or replaced."""
    deploy = tmp_path / "deploy"
    for name in ("20240101T000000-abcdef", "20240202T000000-012345"):
        (deploy / "builds" / name).mkdir(parents=True)
        (deploy / "builds" / name / "site.html").write_text(f"<p>release {name}</p>\n")
    (deploy / "current").symlink_to(Path("builds") / "20240202T000000-012345")
    before = _snapshot(deploy)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "index", "build"],
        cwd=tmp_path,
        env={**os.environ, "INDEX_DIR": "deploy"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(
        "newsdesk: the index folder deploy looks like an index but is not marked as Newsdesk's"
    )
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert _snapshot(deploy) == before


def test_the_cli_refuses_the_seeds_folder_as_index_in_one_line(seeds: Path, tmp_path: Path) -> None:
    before = _snapshot(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "index", "build"],
        cwd=tmp_path,
        env={**os.environ, "INDEX_DIR": "seeds"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert result.stderr.strip().startswith("newsdesk: the index folder seeds and the seeds folder")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert _snapshot(tmp_path) == before


def test_a_build_is_on_disk_before_it_becomes_live(
    seeds: Path, tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every file of the new build, and the folders holding it, are fsynced before the swap."""
    synced: list[str] = []
    swapped: list[int] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        real_fsync(descriptor)

    def replace(source: str | Path, target: str | Path) -> None:
        if Path(target).name == "current":
            swapped.append(len(synced))
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    report = build_index(seeds, tmp_path / "index", embedder, BuildOptions())
    assert report.folder is not None and swapped
    before_swap = synced[: swapped[0]]
    staging = [path for path in before_swap if "/.staging-" in path]
    files = {
        p.relative_to(report.folder).as_posix() for p in report.folder.rglob("*") if p.is_file()
    }
    assert files <= {path.split("/.staging-", 1)[1].split("/", 1)[-1] for path in staging}
    assert str(report.folder.parent) in before_swap  # the rename into builds/
    assert str(tmp_path / "index") in synced[swapped[0] :]  # the swapped link


@pytest.mark.parametrize("command", [("index", "build"), ("ask", "Who left Raqqa?"), ("console",)])
def test_an_index_folder_below_a_file_is_one_line_for_every_command(
    seeds: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    (tmp_path / "notes.txt").write_text("my notes\n")
    before = _snapshot(tmp_path)
    result = _newsdesk(*command, cwd=tmp_path, INDEX_DIR="notes.txt/index")
    _one_line(result, "the index folder notes.txt/index cannot be made: notes.txt is a file")
    assert _snapshot(tmp_path) == before


def test_a_read_only_index_folder_is_one_line_and_left_as_it_was(
    seeds: Path, tmp_path: Path
) -> None:
    """Empty, built, or with only builds/ read-only: refused before the model loads, nothing
    written; a built index still answers."""
    empty = tmp_path / "empty"
    empty.mkdir()
    _read_only(empty)
    result = _newsdesk("index", "build", cwd=tmp_path, as_user=_bound_by_modes, INDEX_DIR="empty")
    _one_line(result, "cannot write in the index folder empty (Permission denied)")
    assert list(empty.iterdir()) == []

    assert _newsdesk("index", "build", cwd=tmp_path).returncode == 0
    index_dir = tmp_path / "var" / "index"
    (index_dir / LOCK_FILE).unlink()  # the lock, too, must not be made
    for read_only in (index_dir, index_dir / "builds"):
        before = _snapshot(index_dir)
        _read_only(read_only)
        result = _newsdesk("index", "build", "--full", cwd=tmp_path, as_user=_bound_by_modes)
        _one_line(result, "cannot write in the index folder var/index (Permission denied)")
        assert _snapshot(index_dir) == before
        asked = _newsdesk("ask", "Who said the final battle could take hours or days?",
                          cwd=tmp_path, as_user=_bound_by_modes)  # fmt: skip
        assert asked.returncode == 0 and "Mustafa Bali" in asked.stdout, asked.stderr
        read_only.chmod(0o755)


def test_a_swap_that_cannot_be_written_leaves_the_live_index_alone(
    seeds: Path, tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    live = build_index(seeds, index_dir, embedder, BuildOptions()).folder
    before = _snapshot(index_dir)

    real_replace = os.replace

    def replace(source: str | Path, target: str | Path) -> None:
        if Path(target).name == "current":  # the folder made read-only mid-build
            raise PermissionError(13, "Permission denied")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(IndexWriteError, match=r"cannot make the new index live in .*unchanged"):
        build_index(seeds, index_dir, embedder, BuildOptions(full=True))
    assert current_build(index_dir) == live
    assert _snapshot(index_dir) == before
