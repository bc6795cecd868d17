"""The built-in command executor's entry point: `python3 -I -S command.py` (see command_executor).

Python compiles a script on every run (~4 ms for the executor) but loads modules from their cached
.pyc, so this file only puts its own directory on sys.path and runs the module. Everything here is
standard library; nothing of the project is imported.
"""

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from daemons.agent.executors.command_executor import main
else:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from command_executor import main

if __name__ == "__main__":
    sys.exit(main())
