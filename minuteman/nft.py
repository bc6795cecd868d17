"""libnftables in process: one transaction per call, no `nft` process per change.

The `nft` command costs a process start and a read of the kernel's ruleset on every call
(≈ 15-20 ms here); the library keeps its context, so a change of a few elements costs well
under a millisecond (bench/vips.py). This is the adapter at the edge: the same five calls of
libnftables (libnftables1, installed with the nftables package) that netfilter's Python
binding makes. That binding (Debian's python3-nftables) is not on PyPI and is installed for the
system Python only, so the daemon's virtualenv calls the library through ctypes itself.

One context per `Nft`; not for use from two threads at once (the daemon programs the kernel
from one thread). Works in the network namespace of the calling thread.
"""

from __future__ import annotations

import ctypes
import threading

SONAME = "libnftables.so.1"


class NftError(RuntimeError):
    """libnftables refused a program: the message is its error output."""


class Nft:
    def __init__(self, soname: str = SONAME) -> None:
        lib = ctypes.CDLL(soname, use_errno=True)
        lib.nft_ctx_new.restype = ctypes.c_void_p
        lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
        lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
        for name in ("nft_ctx_buffer_output", "nft_ctx_buffer_error"):
            getattr(lib, name).argtypes = [ctypes.c_void_p]
            getattr(lib, name).restype = ctypes.c_int
        for name in ("nft_ctx_get_output_buffer", "nft_ctx_get_error_buffer"):
            getattr(lib, name).argtypes = [ctypes.c_void_p]
            getattr(lib, name).restype = ctypes.c_char_p
        lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.nft_run_cmd_from_buffer.restype = ctypes.c_int
        self._lib = lib
        self._ctx = lib.nft_ctx_new(0)
        if not self._ctx:
            raise NftError("nft_ctx_new failed")
        if lib.nft_ctx_buffer_output(self._ctx) or lib.nft_ctx_buffer_error(self._ctx):
            raise NftError("cannot buffer libnftables' output")
        self._lock = threading.Lock()

    def run(self, program: str) -> str:
        """Run `program` (nft -f syntax) as one transaction; its output. NftError if refused
        (then nothing of it was applied)."""
        with self._lock:
            if not self._ctx:
                raise NftError("closed")
            rc = self._lib.nft_run_cmd_from_buffer(self._ctx, program.encode())
            output = (self._lib.nft_ctx_get_output_buffer(self._ctx) or b"").decode()
            error = (self._lib.nft_ctx_get_error_buffer(self._ctx) or b"").decode()
        if rc != 0:
            raise NftError(error.strip() or f"libnftables returned {rc}")
        return output

    def close(self) -> None:
        with self._lock:
            if self._ctx:
                self._lib.nft_ctx_free(self._ctx)
                self._ctx = None
