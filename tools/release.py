"""Build a PyDCOS release: the wheelhouse the Ansible roles install offline on every node.

    python -m tools.release build [--out build/release] [--git-ref REF]

A release is a folder with `release.json` (`version`, `build` — a hash of the sources — and
`id` = `<version>-<build>`) and `wheels/`: the pydcos wheel and every runtime dependency from
`requirements.txt`, built on the controller with pip (the only step that needs a package
registry). Nodes then install it with `pip install --no-index`, so they need no network.

`--git-ref` builds an older release from this repository's history (`git archive`), which is how
the Molecule lifecycle installs "the previous release" before upgrading to this tree.

Building is skipped while `release.json` names the same build hash; the command prints
`built <id>` or `up to date <id>` on its last line (the playbooks read it for `changed_when`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from tools.processes import REPO_ROOT

DEFAULT_OUT = REPO_ROOT / "build" / "release"
# What goes into a node's venv: the package's sources and what defines its dependencies.
# Everything that goes into the pydcos wheel: the packages' code and the UI files (Exhibitor's
# and the web UI's).
SOURCE_GLOBS = (
    "daemons/**/*.py",
    "dnsproxy/**/*.py",
    "minuteman/**/*.py",
    "exhibitor/**/*.py",
    "exhibitor/static/*",
    "daemons/ui/static/**/*",
    "pyproject.toml",
    "requirements.txt",
)


class ReleaseError(RuntimeError):
    """The release cannot be built (a missing ref, a pip failure)."""


def source_hash(source: Path) -> str:
    """A short hash of every file that ends up in the wheelhouse, in a stable order."""
    digest = hashlib.sha256()
    files = sorted({p for glob in SOURCE_GLOBS for p in source.glob(glob) if p.is_file()})
    for path in files:
        digest.update(str(path.relative_to(source)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def version_of(source: Path) -> str:
    with (source / "pyproject.toml").open("rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def release_id(version: str, build: str) -> str:
    return f"{version}-{build}"


def current(out: Path) -> dict[str, str] | None:
    """The release already in `out`, or None when there is none (or it is incomplete)."""
    try:
        meta = json.loads((out / "release.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or not (out / "wheels").is_dir():
        return None
    return {str(k): str(v) for k, v in meta.items()}


def _checkout(ref: str, into: Path) -> Path:
    """Extract `ref` of this repository into `into` (no work tree of ours is touched)."""
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", "--format=tar", ref],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise ReleaseError(f"git archive {ref}: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def _wheels(source: Path, into: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--disable-pip-version-check",
        "--no-input",
        "-q",
        "--wheel-dir",
        str(into),
        "-r",
        str(source / "requirements.txt"),
        str(source),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ReleaseError(f"pip wheel failed:\n{done.stdout}{done.stderr}")


def build(out: Path, git_ref: str | None = None) -> tuple[dict[str, str], bool]:
    """Build the release into `out` unless it is there already; (its metadata, built?)."""
    with tempfile.TemporaryDirectory(prefix="pydcos-release-") as tmp:
        work = Path(tmp)
        source = REPO_ROOT
        if git_ref:
            (work / "src").mkdir()
            source = _checkout(git_ref, work / "src")
        meta = {"version": version_of(source), "build": source_hash(source)}
        meta["id"] = release_id(meta["version"], meta["build"])
        have = current(out)
        if have is not None and have.get("id") == meta["id"]:
            return have, False
        staging = work / "release"
        _wheels(source, staging / "wheels")
        (staging / "release.json").write_text(json.dumps(meta, indent=2) + "\n")
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(staging, out)
    return meta, True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.release")
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("build", help="build the wheelhouse (skipped when up to date)")
    make.add_argument("--out", type=Path, default=DEFAULT_OUT)
    make.add_argument("--git-ref", help="build this commit or tag of the repository instead")
    args = parser.parse_args(argv)
    try:
        meta, built = build(args.out.resolve(), args.git_ref)
    except ReleaseError as err:
        print(f"release: {err}", file=sys.stderr)
        return 1
    print(f"{'built' if built else 'up to date'} {meta['id']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
