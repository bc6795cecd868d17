"""A stand-in for containerizer/fork_server.py speaking its wire format with plain children (no
cgroups, no namespaces), for the agent side's tests. argv[0] of a request says what to do:
`exit N` forks a child that exits N (reported), `sleep` one that sleeps until killed (never
reported), `fail` answers Failed, `die` ends the server without an answer."""

import array
import json
import os
import socket
import sys
import time


def main() -> None:
    sock = socket.socket(fileno=int(sys.argv[2]))
    while True:
        data, ancdata, _flags, _addr = sock.recvmsg(1 << 20, socket.CMSG_SPACE(8))
        if not data:
            return
        fds = array.array("i")
        for _level, _kind, payload in ancdata:
            fds.frombytes(payload)
        argv = json.loads(data)["argv"]
        if argv[0] == "fail":
            sock.send(json.dumps({"failed": "asked to fail"}).encode())
        elif argv[0] == "die":
            os._exit(1)
        else:
            pid = os.fork()
            if pid == 0:
                sock.close()  # as the real one's children do: the agent must see its end
                os.write(fds[0], b"started\n")
                if argv[0] == "sleep":
                    time.sleep(120)  # bounded: a failing test never leaves it for long
                os._exit(int(argv[1]))
            pidfd = os.pidfd_open(pid)
            rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [pidfd]).tobytes())]
            sock.sendmsg([json.dumps({"started": pid}).encode()], rights)
            os.close(pidfd)
            if argv[0] == "exit":
                _, status = os.waitpid(pid, 0)
                sock.send(json.dumps({"exited": pid, "status": status}).encode())
        for fd in fds:
            os.close(fd)


if __name__ == "__main__":
    main()
