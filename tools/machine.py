"""The machine line every benchmark prints beside its figures (CPU, kernel, Python, load)."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path


def machine_line() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {model}, {os.cpu_count()} CPUs; kernel {platform.release()}; "
        f"Python {platform.python_version()} ({sys.executable}); load average {load}"
    )
