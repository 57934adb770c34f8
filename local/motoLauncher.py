# moto_server as the local runtime and the tests start it (local/motoServer.ts): this runs the
# moto_server script named first on the command line, with the interpreter that script names, as
# the script itself would run, with one difference: Python's cycle collector runs on a schedule
# (every SWITCHYARD_MOTO_GC_SECONDS, default 10; 0 never) instead of whenever enough objects have
# been allocated.
#
# Why: moto holds a large heap of long-lived objects (botocore's service models, every resource
# the program was applied with), and allocation-triggered full collections traverse all of it
# again and again while the program is applied. In the deploy rehearsal's test (both stacks
# applied), moto_server used 7.0-7.1 s of CPU with the collector as Python sets it, 6.0 s with
# thresholds of (50000, 20, 20), and 4.8-5.0 s through this launcher (every 10 s, never, or
# every 1,000 s alike); importing moto.server took 0.33 s of CPU instead of 0.38 s. Reference
# counting still frees almost all of moto's garbage at once; the scheduled full collection frees
# the rest (reference cycles, such as a failed request's traceback), so a long `npm start` holds at
# most a period's worth of them. The cold-start bench's stand-in sets 0: a collection there would
# pause one timed request (bench/realistic.ts).
import gc
import math
import os
import runpy
import sys
import threading
import time

PERIOD_ENV = "SWITCHYARD_MOTO_GC_SECONDS"
DEFAULT_PERIOD_SECONDS = 10.0


def collect_every(period: float) -> None:
    while True:
        time.sleep(period)
        gc.collect()


def period_seconds() -> float:
    """The schedule SWITCHYARD_MOTO_GC_SECONDS asks for; for a bad value, the default (said so)."""
    raw = os.environ.get(PERIOD_ENV) or str(DEFAULT_PERIOD_SECONDS)
    try:
        period = float(raw)
    except ValueError:
        period = -1.0
    if not math.isfinite(period) or period < 0:
        print(
            f"{PERIOD_ENV}={raw!r} is not a number of seconds >= 0 (0: never):"
            f" collecting every {DEFAULT_PERIOD_SECONDS:g} s",
            file=sys.stderr,
        )
        return DEFAULT_PERIOD_SECONDS
    return period


def main() -> None:
    script = sys.argv[1]
    period = period_seconds()
    gc.disable()
    if period > 0:
        threading.Thread(
            target=collect_every, args=(period,), name="scheduled-gc", daemon=True
        ).start()
    # As if the script had been run: its own argv, and its folder first on the import path.
    sys.argv = [script, *sys.argv[2:]]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
