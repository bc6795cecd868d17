"""Checkpoints: what the agent must remember across a restart, as small atomic JSON files.

Layout (Mesos' `meta/` tree, JSON instead of protobuf):

    <work_dir>/meta/boot_id
    <work_dir>/meta/slaves/latest -> <agent_id>
    <work_dir>/meta/slaves/<agent_id>/slave.info
      frameworks/<fid>/framework.info
        executors/<eid>/executor.info
          runs/latest -> <cid>
          runs/<cid>/run.info                     kind, directory, user, resources, pid, completed
          runs/<cid>/tasks/<tid>/task.info        the TaskInfo
          runs/<cid>/tasks/<tid>/task.updates     the status-update stream (status_updates.py)

Every write goes to a temporary file that is renamed over the target, so a crash of the agent
process leaves either the old or the new file, never a torn one (a failed write removes its
temporary). So on reading, a missing file means its first write never completed (the agent
crashed, or the disk was full, in the middle of a launch): that run or task is skipped. A file
that is there but cannot be read or parsed is damage: `read_runs` raises, and recovery refuses
to guess (recovery.py). Only the status-update streams
(and the agent's identity) are also fsynced, file and directory: they hold what the agent has
acknowledged to executors. The other files describe running containers, which a host crash ends
anyway (a new boot id makes a fresh agent whose old tasks are gone), so fsyncing them would buy
nothing and cost two disk flushes per file on the launch path.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from daemons.protocols import JSON

log = logging.getLogger(__name__)


class CheckpointError(OSError):
    """A checkpoint cannot be written or read back."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes(path: Path, data: bytes, sync: bool = True) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as handle:
            handle.write(data)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
        if sync:
            _fsync_dir(path.parent)
    except OSError as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise CheckpointError(f"cannot checkpoint {path}: {err.strerror or err}") from None


def write_json(path: Path, data: Any, sync: bool = True) -> None:
    write_bytes(path, json.dumps(data, separators=(",", ":")).encode("ascii"), sync)


def read_json(path: Path) -> Any:
    try:
        with open(path, encoding="ascii") as handle:
            return json.load(handle)
    except (OSError, ValueError) as err:
        raise CheckpointError(f"cannot read checkpoint {path}: {err}") from None


def read_json_if_present(path: Path) -> Any | None:
    """The file's JSON, None if there is no such file; CheckpointError if it is unreadable."""
    try:
        with open(path, encoding="ascii") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        raise CheckpointError(f"cannot read checkpoint {path}: {err}") from None
    try:
        return json.loads(text)
    except ValueError as err:
        raise CheckpointError(f"cannot read checkpoint {path}: not JSON ({err})") from None


def write_symlink(link: Path, target: str) -> None:
    """Point `link` at `target` (relative), replacing any old link atomically."""
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp = link.with_name(f".{link.name}.tmp")
    try:
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(target, tmp)
        os.replace(tmp, link)
    except OSError as err:
        raise CheckpointError(f"cannot link {link}: {err.strerror or err}") from None


@dataclass
class TaskCheckpoint:
    info: JSON
    updates: JSON | None  # a TaskStream snapshot


@dataclass
class RunCheckpoint:
    framework_id: str
    executor_id: str
    container_id: str
    framework_info: JSON
    executor_info: JSON
    run: JSON  # kind, directory, user, resources, pid, completed
    tasks: list[TaskCheckpoint] = field(default_factory=list)


class Checkpoints:
    def __init__(self, work_dir: Path) -> None:
        self.meta = work_dir / "meta"

    # --- agent ---------------------------------------------------------------------------

    def agent_dir(self, agent_id: str) -> Path:
        return self.meta / "slaves" / agent_id

    def boot_id(self) -> str | None:
        path = self.meta / "boot_id"
        try:
            return path.read_text(encoding="ascii").strip() or None
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            raise CheckpointError(f"cannot read checkpoint {path}: {err}") from None

    def write_boot_id(self, boot_id: str) -> None:
        write_bytes(self.meta / "boot_id", boot_id.encode("ascii"))

    def write_agent(self, agent_id: str, agent_info: JSON) -> None:
        write_json(self.agent_dir(agent_id) / "slave.info", agent_info)
        write_symlink(self.meta / "slaves" / "latest", agent_id)

    @property
    def latest_link(self) -> Path:
        return self.meta / "slaves" / "latest"

    def latest_agent(self) -> tuple[str, JSON] | None:
        link = self.latest_link
        if not link.is_symlink():
            return None
        agent_id = os.readlink(link)
        info = read_json(self.agent_dir(agent_id) / "slave.info")
        return agent_id, info

    def forget_latest(self) -> None:
        """Start afresh: the next start finds no previous agent (its files stay, unread)."""
        try:
            self.latest_link.unlink(missing_ok=True)
        except OSError as err:
            raise CheckpointError(f"cannot remove {self.latest_link}: {err.strerror}") from None

    # --- frameworks, executors, runs, tasks ------------------------------------------------

    def framework_dir(self, agent_id: str, fid: str) -> Path:
        return self.agent_dir(agent_id) / "frameworks" / fid

    def executor_dir(self, agent_id: str, fid: str, eid: str) -> Path:
        return self.framework_dir(agent_id, fid) / "executors" / eid

    def run_dir(self, agent_id: str, fid: str, eid: str, cid: str) -> Path:
        return self.executor_dir(agent_id, fid, eid) / "runs" / cid

    def task_dir(self, agent_id: str, fid: str, eid: str, cid: str, tid: str) -> Path:
        return self.run_dir(agent_id, fid, eid, cid) / "tasks" / tid

    def write_framework(self, agent_id: str, fid: str, info: JSON) -> None:
        write_json(self.framework_dir(agent_id, fid) / "framework.info", info, sync=False)

    def write_executor(self, agent_id: str, fid: str, eid: str, info: JSON) -> None:
        write_json(self.executor_dir(agent_id, fid, eid) / "executor.info", info, sync=False)

    def write_run(self, agent_id: str, fid: str, eid: str, cid: str, run: JSON) -> None:
        write_json(self.run_dir(agent_id, fid, eid, cid) / "run.info", run, sync=False)
        write_symlink(self.executor_dir(agent_id, fid, eid) / "runs" / "latest", cid)

    def write_task(self, agent_id: str, fid: str, eid: str, cid: str, info: JSON) -> None:
        tid = str(info["task_id"]["value"])
        write_json(self.task_dir(agent_id, fid, eid, cid, tid) / "task.info", info, sync=False)

    def write_updates(
        self, agent_id: str, fid: str, eid: str, cid: str, tid: str, snapshot: JSON
    ) -> None:
        write_json(self.task_dir(agent_id, fid, eid, cid, tid) / "task.updates", snapshot)

    def remove_run(self, agent_id: str, fid: str, eid: str, cid: str) -> None:
        shutil.rmtree(self.run_dir(agent_id, fid, eid, cid), ignore_errors=True)

    def read_runs(self, agent_id: str) -> tuple[list[RunCheckpoint], list[str]]:
        """Every checkpointed run of this agent, and one message per incomplete one skipped
        (a file missing: its first write never completed). CheckpointError when a file is
        there but unreadable."""
        runs: list[RunCheckpoint] = []
        skipped: list[str] = []
        for fdir in _children(self.agent_dir(agent_id) / "frameworks"):
            framework_info = read_json_if_present(fdir / "framework.info")
            if framework_info is None:
                skipped.append(f"{fdir}: no framework.info")
                continue
            for edir in _children(fdir / "executors"):
                executor_info = read_json_if_present(edir / "executor.info")
                if executor_info is None:
                    skipped.append(f"{edir}: no executor.info")
                    continue
                for rdir in _children(edir / "runs"):
                    run = self._read_run(fdir.name, framework_info, edir, executor_info, rdir)
                    if run is None:
                        skipped.append(f"{rdir}: no run.info")
                    else:
                        runs.append(run)
        return runs, skipped

    def _read_run(
        self, fid: str, framework_info: JSON, edir: Path, executor_info: JSON, rdir: Path
    ) -> RunCheckpoint | None:
        info = read_json_if_present(rdir / "run.info")
        if info is None:
            return None
        run = RunCheckpoint(
            framework_id=fid,
            executor_id=edir.name,
            container_id=rdir.name,
            framework_info=framework_info,
            executor_info=executor_info,
            run=info,
        )
        for tdir in _children(rdir / "tasks"):
            task_info = read_json_if_present(tdir / "task.info")
            if task_info is None:
                log.warning("skipping a task without task.info dir=%s", tdir)
                continue
            updates = read_json_if_present(tdir / "task.updates")
            run.tasks.append(TaskCheckpoint(info=task_info, updates=updates))
        return run


def _children(path: Path) -> list[Path]:
    """Sub-directories, without `latest` links and temporaries, in name order."""
    try:
        entries = sorted(path.iterdir())
    except FileNotFoundError:
        return []
    except OSError as err:
        raise CheckpointError(f"cannot list {path}: {err.strerror}") from None
    return [p for p in entries if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")]
