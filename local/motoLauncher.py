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
#
# It also takes five of moto 5.2.1's own costs off its requests, without changing any answer of an
# AWS API (test/local/motoServer.test.ts compares them with moto_server started as it is); a moto
# whose functions are not the ones named here is left as it is. Two of moto's own endpoints see a
# difference, and this project reads neither (it asks data.json only whether moto answers):
# /moto-api/data.json lists AWS-managed policies only for the IAM backends that have read them
# (moto as it is lists 1,485 for each partition after one request), and after /moto-api/seed the
# IDs moto draws are other ones (moto as it is draws one for each of those policies first).
# The five:
# - moto's module listing: for each request whose Host is not a service name, moto's dispatcher
#   lists moto's package folder and asks the file system about each of its 180 entries
#   (`moto.backends.list_of_moto_modules`); the folder does not change while moto runs, so it is
#   listed once. In the deploy rehearsal's test that listing was 9% of moto's CPU (py-spy).
# - botocore's service models: moto loads each service's model (once per service) through a new
#   botocore Loader each time, so each load lists every service botocore knows (about 420
#   folders, a file-system check per version) before reading the file: 10% of moto's CPU in the
#   suite (py-spy). One Loader serves them all here, and keeps that listing as botocore's own
#   sessions do.
# - AWS-managed IAM policies: with MOTO_IAM_LOAD_MANAGED_POLICIES=true (REHEARSAL_MOTO_ENV, which
#   the local run and the rehearsal set), each IAM backend parses and builds 1,485 policies
#   when it is made. Each request looks its access key up in the IAM backend of all six partitions
#   (`get_account_id_from`), making them all, and moto's reset makes every existing one again before
#   dropping it: 30% of moto's CPU in that test, nearly all of it for policies never read (moto
#   made loading them opt-in for this cost, getmoto/moto#7219). Here a backend builds its
#   AWS-managed policies when something first reads them.
# - KMS keys' private keys: moto generates an RSA-2048 private key for every KMS key it makes, a
#   symmetric one too (only Sign, Verify and GetPublicKey read it), and DynamoDB makes a KMS key,
#   `alias/aws/dynamodb`, for the first table created with server-side encryption in an account
#   and Region: after every reset of moto, in each local run. RSA key generation took 15-109 ms
#   of CPU here (ten runs). Here a key whose spec is neither RSA nor ECC gets the same RSA-2048
#   key when something first reads it.
# - werkzeug's line per request on stderr (3% of that CPU, and a pipe read per request in the Node
#   process that started it, which keeps only the tail for a failed start's error): werkzeug logs
#   warnings and errors only.
import gc
import importlib.abc
import importlib.machinery
import logging
import math
import os
import runpy
import sys
import threading
import time
from types import ModuleType
from typing import Any, Callable, Dict, Optional, Sequence

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


class AfterImport(importlib.abc.MetaPathFinder):
    """Runs patch(module) right after the module it is named for is first executed."""

    def __init__(self, patches: Dict[str, Callable[[ModuleType], None]]) -> None:
        self.patches = dict(patches)

    def find_spec(
        self, fullname: str, path: Optional[Sequence[str]], target: Optional[ModuleType] = None
    ) -> Optional[importlib.machinery.ModuleSpec]:
        patch = self.patches.pop(fullname, None)
        if patch is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        loader = spec.loader if spec else None
        if loader is None:
            return spec
        exec_module = loader.exec_module  # this module's own loader: no other module sees this

        def exec_and_patch(module: ModuleType) -> None:
            exec_module(module)
            patch(module)

        setattr(loader, "exec_module", exec_and_patch)
        return spec


def list_moto_modules_once(backends: ModuleType) -> None:
    if not callable(getattr(backends, "list_of_moto_modules", None)):
        return
    listing = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: listing


def one_model_loader(utils: ModuleType) -> None:
    create = getattr(utils, "create_loader", None)
    if not callable(create):
        return
    lock = threading.Lock()
    made: list = []

    def create_once() -> Any:
        with lock:
            if not made:
                made.append(create())
            return made[0]

    utils.create_loader = create_once


def defer_aws_managed_policies(iam_models: ModuleType) -> None:
    backend = getattr(iam_models, "IAMBackend", None)
    if not all(
        callable(getattr(backend, name, None))
        for name in ("_init_aws_policies", "_init_managed_policies")
    ):
        return
    deferred = object()
    lock = threading.RLock()  # managed_policies is built from aws_managed_policies

    def lazy(attribute: str, compute: Callable[[Any], Any]) -> None:
        slot = "_switchyard_" + attribute

        def get(self: Any) -> Any:
            value = self.__dict__.get(slot, deferred)
            if value is deferred:
                with lock:  # request threads share a backend: it is built once
                    value = self.__dict__.get(slot, deferred)
                    if value is deferred:
                        value = self.__dict__[slot] = compute(self)
            return value

        def put(self: Any, value: Any) -> None:
            self.__dict__[slot] = value

        setattr(backend, attribute, property(get, put))

    # IAMBackend.__init__ assigns both from these; the properties build them on first read.
    lazy("aws_managed_policies", backend._init_aws_policies)
    lazy("managed_policies", backend._init_managed_policies)
    backend._init_aws_policies = lambda self: deferred
    backend._init_managed_policies = lambda self: deferred


def defer_kms_private_keys(kms_models: ModuleType) -> None:
    generate = getattr(kms_models, "generate_private_key", None)
    key_class = getattr(kms_models, "Key", None)
    if not callable(generate) or not isinstance(key_class, type):
        return

    lock = threading.Lock()

    class Deferred:
        """A private key generated when first asked for, once (copies of a Key, such as moto's
        replicas, share it as they would share the key)."""

        def __init__(self, key_spec: str) -> None:
            self.key_spec = key_spec
            self.key: Any = None

        def resolve(self) -> Any:
            with lock:  # request threads share a key
                if self.key is None:
                    self.key = generate(self.key_spec)
                return self.key

    def generate_or_defer(key_spec: str) -> Any:
        # RSA and ECC specs are generated (and validated) as moto does; every other spec gets
        # generate_private_key's RSA-2048 key, which validates nothing.
        if key_spec.startswith(("RSA_", "ECC_")):
            return generate(key_spec)
        return Deferred(key_spec)

    slot = "_switchyard_private_key"

    def get(self: Any) -> Any:
        value = self.__dict__.get(slot)
        return value.resolve() if isinstance(value, Deferred) else value

    def put(self: Any, value: Any) -> None:
        self.__dict__[slot] = value

    # Key.__init__ assigns private_key from generate_private_key, by this module's name.
    key_class.private_key = property(get, put)
    kms_models.generate_private_key = generate_or_defer


def main() -> None:
    script = sys.argv[1]
    period = period_seconds()
    gc.disable()
    if period > 0:
        threading.Thread(
            target=collect_every, args=(period,), name="scheduled-gc", daemon=True
        ).start()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    sys.meta_path.insert(
        0,
        AfterImport(
            {
                "moto.backends": list_moto_modules_once,
                "moto.core.utils": one_model_loader,
                "moto.iam.models": defer_aws_managed_policies,
                "moto.kms.models": defer_kms_private_keys,
            }
        ),
    )
    # As if the script had been run: its own argv, and its folder first on the import path.
    sys.argv = [script, *sys.argv[2:]]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
