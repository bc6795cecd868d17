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
process leaves either the old or the new file, never a torn one. Only the status-update streams
(and the agent's identity) are also fsynced, file and directory: they hold what the agent has
acknowledged to executors. The other files describe running containers, which a host crash ends
anyway (a new boot id makes a fresh agent whose old tasks are gone), so fsyncing them would buy
nothing and cost two disk flushes per file on the launch path.
"""

from __future__ import annotations

import json
import logging
import os
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
        raise CheckpointError(f"cannot checkpoint {path}: {err.strerror or err}") from None


def write_json(path: Path, data: Any, sync: bool = True) -> None:
    write_bytes(path, json.dumps(data, separators=(",", ":")).encode("ascii"), sync)


def read_json(path: Path) -> Any:
    try:
        with open(path, encoding="ascii") as handle:
            return json.load(handle)
    except (OSError, ValueError) as err:
        raise CheckpointError(f"cannot read checkpoint {path}: {err}") from None


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
        try:
            return (self.meta / "boot_id").read_text(encoding="ascii").strip() or None
        except OSError:
            return None

    def write_boot_id(self, boot_id: str) -> None:
        write_bytes(self.meta / "boot_id", boot_id.encode("ascii"))

    def write_agent(self, agent_id: str, agent_info: JSON) -> None:
        write_json(self.agent_dir(agent_id) / "slave.info", agent_info)
        write_symlink(self.meta / "slaves" / "latest", agent_id)

    def latest_agent(self) -> tuple[str, JSON] | None:
        link = self.meta / "slaves" / "latest"
        if not link.is_symlink():
            return None
        agent_id = os.readlink(link)
        info = read_json(self.agent_dir(agent_id) / "slave.info")
        return agent_id, info

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

    def read_runs(self, agent_id: str) -> tuple[list[RunCheckpoint], list[str]]:
        """Every checkpointed run of this agent, and one message per unreadable checkpoint."""
        runs: list[RunCheckpoint] = []
        errors: list[str] = []
        frameworks = self.agent_dir(agent_id) / "frameworks"
        for fdir in _children(frameworks):
            try:
                framework_info = read_json(fdir / "framework.info")
            except CheckpointError as err:
                errors.append(str(err))
                continue
            for edir in _children(fdir / "executors"):
                for rdir in _children(edir / "runs"):
                    try:
                        runs.append(self._read_run(fdir.name, framework_info, edir, rdir))
                    except CheckpointError as err:
                        errors.append(str(err))
        return runs, errors

    def _read_run(self, fid: str, framework_info: JSON, edir: Path, rdir: Path) -> RunCheckpoint:
        run = RunCheckpoint(
            framework_id=fid,
            executor_id=edir.name,
            container_id=rdir.name,
            framework_info=framework_info,
            executor_info=read_json(edir / "executor.info"),
            run=read_json(rdir / "run.info"),
        )
        for tdir in _children(rdir / "tasks"):
            updates_path = tdir / "task.updates"
            updates = read_json(updates_path) if updates_path.exists() else None
            run.tasks.append(TaskCheckpoint(info=read_json(tdir / "task.info"), updates=updates))
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
