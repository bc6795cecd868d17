"""The built-in command executor's entry point: `python3 -I -S command.py` (see command_executor).

Python compiles a script on every run (~4 ms for the executor) but loads modules from their cached
.pyc, so this file only puts its own directory on sys.path and runs the module. Everything here is
standard library; of the project, only the task states and RecordIO framing of
`daemons.protocols` are imported (import-free modules, copied beside the executor).
"""

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from daemons.agent.executors.command_executor import main
else:
    HERE = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, HERE)
    # The `daemons.protocols` it shares with the agent: beside it in the agent's copy
    # (builtin_executors.py), three levels up in a source tree.
    if not os.path.isdir(os.path.join(HERE, "daemons")):
        sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.dirname(HERE))))
    from command_executor import main

if __name__ == "__main__":
    sys.exit(main())
