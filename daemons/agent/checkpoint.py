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

The infos are written as the master sent them (the models' `raw`) and read back into the typed
models; `run.info` is `RunInfo`. A file that is JSON but not the message it should hold is as
unreadable as a torn one: the error names the file and the field.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from daemons.agent.model import ExecutorKind
from daemons.agent.status_updates import TaskStream
from daemons.protocols import JSON
from daemons.protocols import fields as f
from daemons.protocols.fields import ProtocolError
from daemons.protocols.models import AgentInfo, ExecutorInfo, FrameworkInfo, TaskInfo
from daemons.protocols.models.parts import read_resources
from daemons.protocols.resources import Resources, by_role_to_v1

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


_M = TypeVar("_M")


def read_message(path: Path, parse: Callable[[Any, str], _M]) -> _M | None:
    """The message a checkpoint file holds (`parse(json, where)`), None if there is no such
    file; CheckpointError if it is unreadable or not that message."""
    data = read_json_if_present(path)
    return None if data is None else _parsed(path, data, parse)


def _parsed(path: Path, data: Any, parse: Callable[[Any, str], _M]) -> _M:
    try:
        return parse(data, path.name)
    except ProtocolError as err:
        raise CheckpointError(f"cannot read checkpoint {path}: {err}") from None


@dataclass(frozen=True)
class RunInfo:
    """run.info: what recovery needs to find an executor's container again (its pid above all).
    Its resources are written in the normal v1 form (`by_role_to_v1`: each with its role)."""

    kind: ExecutorKind
    directory: Path
    user: str
    resources: Mapping[str, Resources]  # the executor's own, by reservation role
    allocation_role: str | None = None
    pid: int | None = None
    completed: bool = False

    def to_json(self) -> JSON:
        return {
            "kind": self.kind.value,
            "directory": str(self.directory),
            "user": self.user,
            "resources": by_role_to_v1(self.resources, self.allocation_role),
            "pid": self.pid,
            "completed": self.completed,
        }

    @classmethod
    def parse(cls, raw: Any, where: str = "run.info") -> RunInfo:
        if not isinstance(raw, dict):
            raise ProtocolError(f"{where}: not an object", where)
        kind = f.opt_string(raw, "kind", where) or ExecutorKind.COMMAND.value
        try:
            executor_kind = ExecutorKind(kind)
        except ValueError:
            raise f.fail(where, "kind", f"is not an executor kind: {kind!r}") from None
        resources, allocation_role = read_resources(raw, "resources", where)
        return cls(
            kind=executor_kind,
            directory=Path(f.string(raw, "directory", where)),
            user=f.string(raw, "user", where),
            resources=resources,
            allocation_role=allocation_role,
            pid=f.opt_int(raw, "pid", where),
            completed=bool(f.opt_bool(raw, "completed", where)),
        )


@dataclass
class TaskCheckpoint:
    info: TaskInfo
    updates: TaskStream | None


@dataclass
class RunCheckpoint:
    framework_id: str
    executor_id: str
    container_id: str
    framework_info: FrameworkInfo
    executor_info: ExecutorInfo
    run: RunInfo
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

    def write_agent(self, agent_id: str, agent_info: AgentInfo) -> None:
        write_json(self.agent_dir(agent_id) / "slave.info", agent_info.to_json())
        write_symlink(self.meta / "slaves" / "latest", agent_id)

    @property
    def latest_link(self) -> Path:
        return self.meta / "slaves" / "latest"

    def latest_agent(self) -> tuple[str, AgentInfo] | None:
        link = self.latest_link
        if not link.is_symlink():
            return None
        agent_id = os.readlink(link)
        path = self.agent_dir(agent_id) / "slave.info"
        return agent_id, _parsed(path, read_json(path), AgentInfo.parse)

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

    def write_framework(self, agent_id: str, fid: str, info: FrameworkInfo) -> None:
        path = self.framework_dir(agent_id, fid) / "framework.info"
        write_json(path, info.raw, sync=False)

    def write_executor(self, agent_id: str, fid: str, eid: str, info: ExecutorInfo) -> None:
        path = self.executor_dir(agent_id, fid, eid) / "executor.info"
        write_json(path, info.raw, sync=False)

    def write_run(self, agent_id: str, fid: str, eid: str, cid: str, run: RunInfo) -> None:
        write_json(self.run_dir(agent_id, fid, eid, cid) / "run.info", run.to_json(), sync=False)
        write_symlink(self.executor_dir(agent_id, fid, eid) / "runs" / "latest", cid)

    def write_task(self, agent_id: str, fid: str, eid: str, cid: str, info: TaskInfo) -> None:
        path = self.task_dir(agent_id, fid, eid, cid, info.task_id) / "task.info"
        write_json(path, info.raw, sync=False)

    def write_updates(
        self, agent_id: str, fid: str, eid: str, cid: str, stream: TaskStream
    ) -> None:
        path = self.task_dir(agent_id, fid, eid, cid, stream.task_id) / "task.updates"
        write_json(path, stream.snapshot())

    def remove_run(self, agent_id: str, fid: str, eid: str, cid: str) -> None:
        shutil.rmtree(self.run_dir(agent_id, fid, eid, cid), ignore_errors=True)

    def read_runs(self, agent_id: str) -> tuple[list[RunCheckpoint], list[str]]:
        """Every checkpointed run of this agent, and one message per incomplete one skipped
        (a file missing: its first write never completed). CheckpointError when a file is
        there but unreadable."""
        runs: list[RunCheckpoint] = []
        skipped: list[str] = []
        for fdir in _children(self.agent_dir(agent_id) / "frameworks"):
            framework_info = read_message(fdir / "framework.info", FrameworkInfo.parse)
            if framework_info is None:
                skipped.append(f"{fdir}: no framework.info")
                continue
            for edir in _children(fdir / "executors"):
                executor_info = read_message(edir / "executor.info", ExecutorInfo.parse)
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
        self,
        fid: str,
        framework_info: FrameworkInfo,
        edir: Path,
        executor_info: ExecutorInfo,
        rdir: Path,
    ) -> RunCheckpoint | None:
        info = read_message(rdir / "run.info", RunInfo.parse)
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
            task_info = read_message(tdir / "task.info", TaskInfo.parse)
            if task_info is None:
                log.warning("skipping a task without task.info dir=%s", tdir)
                continue
            updates = read_message(tdir / "task.updates", TaskStream.from_snapshot)
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
