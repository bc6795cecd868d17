"""The built-in default executor's entry point: `python3 -I -S default.py` (see default_executor).

Like command.py: it only puts its own directory (and the `daemons.protocols` it shares with the
agent) on sys.path and runs the module.
"""

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from daemons.agent.executors.default_executor import main
else:
    HERE = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, HERE)
    # The `daemons.protocols` it shares with the agent: beside it in the agent's copy
    # (builtin_executors.py), three levels up in a source tree.
    if not os.path.isdir(os.path.join(HERE, "daemons")):
        sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.dirname(HERE))))
    from default_executor import main

if __name__ == "__main__":
    sys.exit(main())
