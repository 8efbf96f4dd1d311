"""Worker side of the AOT test in test_dask.py; imports only the standard library and numpy.

`block_ember` is a Dask worker preload (a `dask_setup` hook run in each worker process before
it takes any task): it checks that Ember is not loaded and installs a `sys.meta_path` finder
that makes `import ember` (and `mlir`, `enzyme_ad`) raise ImportError in that process, so the
workers are an environment in which only numpy and the generated loader can run.
`call_loader` is the task: it imports the AOT loader uploaded to the worker and calls it."""

import importlib
import importlib.abc
import os
import sys

BLOCKED = ("ember", "mlir", "enzyme_ad")


class _Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is blocked on this worker (numpy-only environment)")
        return None


def dask_setup(worker) -> None:
    """The preload hook: refuse Ember in this worker process from now on."""
    loaded = sorted(n for n in sys.modules if n.split(".")[0] in BLOCKED)
    if loaded:
        raise RuntimeError(f"the worker already imported {loaded}")
    sys.meta_path.insert(0, _Blocker())


def call_loader(module: str, function: str, *args):
    """Import the loader `module` (on sys.path through the uploaded build folder), call its
    `function` on `args`; return the result, this process's id, the loader's file and the
    names of blocked modules that got imported (none, or the task failed on import)."""
    try:
        import ember  # noqa: F401
    except ImportError:
        blocked = True
    else:
        blocked = False
    loader = importlib.import_module(module)
    result = getattr(loader, function)(*args)
    leaked = sorted(n for n in sys.modules if n.split(".")[0] in BLOCKED)
    return {"result": result, "pid": os.getpid(), "file": loader.__file__,
            "blocked": blocked, "leaked": leaked}
