# Runs AWS CLI commands for the tests through the CLI's own entry point, each in a child forked
# from this process, which has imported awscli once. Started with the interpreter of an `aws`
# script (the AWS CLI v2's /usr/bin/aws, or v1's), a child runs exactly what that script runs
# (awscli.clidriver.main() with sys.argv set) with its own environment, stdin, stdout and stderr,
# and its exit code is the CLI's; only the ~0.5 s of CPU that every `aws` process spends importing
# botocore and awscli is paid once per test worker instead of once per command.
#
# Protocol, one JSON object per line. In: {"id", "args" or "line", "env", "stdout", "stderr",
# "timeout"}: "line" is a command line split into words as a POSIX shell splits one without
# expansions (shlex), its first word "aws"; stdout and stderr are file paths the child writes.
# Out: {"id", "code"}; a command that outlives its timeout is killed and answers code 124, as
# timeout(1) does.
import json
import os
import select
import shlex
import signal
import sys
import time

if os.environ.get("LC_CTYPE", "") == "UTF-8":
    os.environ["LC_CTYPE"] = "en_US.UTF-8"

before_import = dict(os.environ)
import awscli.clidriver  # noqa: E402

# What importing awscli puts in its own environment (AWS_DATA_PATH, where its models are): a child
# sets it over the command's environment, as the import in a fresh `aws` process would. (A
# command's own AWS_DATA_PATH is not merged with it as that import would merge it; no test sets
# one.)
set_by_import = {k: v for k, v in os.environ.items() if before_import.get(k) != v}

# Import what the driver imports lazily (plugins, the customizations), so children do not.
awscli.clidriver.create_clidriver()

running = {}  # pid -> (id, deadline)


def run_child(request):
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    for fd, name in ((1, "stdout"), (2, "stderr")):
        out = os.open(request[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, fd)
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ.update(set_by_import)
    if os.environ.get("LC_CTYPE", "") == "UTF-8":
        os.environ["LC_CTYPE"] = "en_US.UTF-8"
    args = request["args"] if "args" in request else shlex.split(request["line"])[1:]
    sys.argv = ["aws", *args]
    code = 255
    try:
        code = awscli.clidriver.main()
    except SystemExit as e:
        # As Python exits: None is 0, an integer itself, anything else (a message) 1.
        code = 0 if e.code is None else e.code if isinstance(e.code, int) else 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code if isinstance(code, int) else 1)


def answer(request_id, code):
    sys.stdout.write(json.dumps({"id": request_id, "code": code}) + "\n")
    sys.stdout.flush()


def reap():
    for pid, (request_id, deadline) in list(running.items()):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            del running[pid]
            answer(request_id, os.waitstatus_to_exitcode(status))
        elif time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            del running[pid]
            answer(request_id, 124)


buffered = b""
stdin_open = True
while stdin_open or running:
    readable, _, _ = select.select(
        [0] if stdin_open else [], [], [], 0.005 if running else None
    )
    if readable:
        chunk = os.read(0, 65536)
        if not chunk:
            stdin_open = False
        buffered += chunk
        while b"\n" in buffered:
            line, buffered = buffered.split(b"\n", 1)
            request = json.loads(line)
            sys.stdout.flush()
            pid = os.fork()
            if pid == 0:
                run_child(request)
            running[pid] = (request["id"], time.monotonic() + request.get("timeout", 60))
    reap()
