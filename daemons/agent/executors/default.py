"""The built-in default executor's entry point: `python3 -I -S default.py` (see default_executor).

Like command.py: it only puts its own directory on sys.path and runs the module, so that the
executor imports nothing of the project.
"""

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from daemons.agent.executors.default_executor import main
else:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from default_executor import main

if __name__ == "__main__":
    sys.exit(main())
