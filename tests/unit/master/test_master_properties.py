"""Properties of the master's task bookkeeping under any order of agent status updates.

Whatever sequence of (possibly duplicated, possibly out-of-order) updates the agents send:
a terminal state never changes, a task's resources are released exactly once (what an agent
holds is the sum of its live tasks), and every task that ended is listed once as completed.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from daemons.protocols.states import TERMINAL_STATES
from tests.unit.master.factories import (
    add_agent,
    agent_update,
    allocate,
    command_task,
    events,
    launch,
    make_master,
    subscribe,
)

STATES = [
    "TASK_STARTING",
    "TASK_RUNNING",
    "TASK_KILLING",
    "TASK_FINISHED",
    "TASK_FAILED",
    "TASK_KILLED",
    "TASK_LOST",
    "TASK_ERROR",
]
TASKS = ["t0", "t1", "t2", "t3"]


@settings(max_examples=60)
@given(st.lists(st.tuples(st.sampled_from(TASKS), st.sampled_from(STATES)), max_size=40))
def test_terminal_states_stick_and_resources_are_released_once(updates):
    master, _ = make_master()
    agent_id, agent_stream = add_agent(master, cpus=8, mem=8192)
    fid, stream = subscribe(master)
    allocate(master)
    offer = events(stream, "OFFERS")[0]["offers"]["offers"][0]
    launch(master, fid, stream, offer, *(command_task(t, agent_id, cpus=1, mem=256) for t in TASKS))
    first_terminal: dict[str, str] = {}
    for task_id, state in updates:
        agent_update(master, agent_id, agent_stream, fid, task_id, state)
        if state in TERMINAL_STATES:
            first_terminal.setdefault(task_id, state)
    framework = master.frameworks[fid]
    agent = master.agents[agent_id]
    completed = {t.task_id: t.state for t in framework.completed_tasks}
    # Every task that ended is completed once, in the first terminal state it reached.
    assert len(framework.completed_tasks) == len(completed) == len(first_terminal)
    assert completed == first_terminal
    # What the agent holds is exactly its live tasks: 1 cpu and 256 MB each.
    live = [t for t in TASKS if t not in first_terminal]
    assert sorted(framework.tasks) == live
    assert agent.used().scalar("cpus") == len(live)
    assert agent.used().scalar("mem") == 256 * len(live)
    # And the allocator agrees: free = total - live.
    assert master.allocator.available(agent_id)["*"].scalar("cpus") == 8 - len(live)
