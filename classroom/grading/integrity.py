"""The grader's originals, captured before student code runs, and what has changed since.

:func:`capture` records, and the function it returns reports as one sentence each, any change
to:

* every loaded module: each function, class or module it binds (replaced or removed), and a
  new binding that shadows a builtin; in the course's own modules (``lstm_helpers``,
  ``classroom``) every binding, and in the checks and the grader the contents of their tables
  too (a check's list of cases emptied, say);
* every class of ``torch``, ``lstm_helpers`` and ``classroom``: its methods and descriptors
  (``Feedback.passed`` made a property that is always true, ``nn.Module.__call__``), new ones
  included;
* ``builtins`` and ``sys.modules`` (an entry replaced or removed);
* the hooks: ``sys.excepthook``, ``sys.displayhook``, the trace and profile functions, the
  import machinery, PyTorch's global module and optimizer hooks and its mode stacks;
* the grading switch: its environment variable and ``os.environ`` itself.

The comparison uses only what it captured (builtins bound as default arguments), so a patched
builtin cannot hide itself from it.
"""

from __future__ import annotations

import builtins
import os
import sys
import warnings
from types import BuiltinFunctionType, FunctionType, MethodType, ModuleType

OWN = ("lstm_helpers", "classroom")  # the course's modules: every binding is watched
CLASSES_OF = ("torch", "lstm_helpers", "classroom")
TABLES = (list, dict, set)
TABLES_OF = ("lstm_helpers.checks", "classroom")  # their lists of cases are compared too
CALLABLE_KINDS = (FunctionType, BuiltinFunctionType, MethodType, type, ModuleType, property,
                  staticmethod, classmethod)
MISSING = object()
BUILTINS = vars(builtins)


def _torch_hooks() -> dict[str, object]:
    """PyTorch's global hook registries and mode stacks, as comparable values."""
    import torch
    from torch.nn.modules import module
    from torch.optim import optimizer

    found = {name: tuple(getattr(module, name).items()) for name in dir(module)
             if name.startswith("_global_") and isinstance(getattr(module, name), dict)}
    found.update({name: tuple(getattr(optimizer, name).items()) for name in dir(optimizer)
                  if name.startswith("_global_") and isinstance(getattr(optimizer, name), dict)})
    found["torch function modes"] = torch._C._len_torch_function_stack()
    found["torch dispatch modes"] = torch._C._len_torch_dispatch_stack()
    return found


def _hooks() -> dict[str, object]:
    import threading

    found = {"sys.excepthook": sys.excepthook, "sys.displayhook": sys.displayhook,
             "sys.breakpointhook": sys.breakpointhook,
             "sys.unraisablehook": sys.unraisablehook, "sys.gettrace()": sys.gettrace(),
             "sys.getprofile()": sys.getprofile(), "sys.meta_path": tuple(sys.meta_path),
             "sys.path_hooks": tuple(sys.path_hooks),
             "threading trace hook": getattr(threading, "_trace_hook", None),
             "threading profile hook": getattr(threading, "_profile_hook", None),
             "os.environ": os.environ}
    found.update(_torch_hooks())
    return found


def capture(watched_variable: str = "NBGRADER_EXECUTION"):
    """Record the originals; return ``changes()``, which lists what differs from them."""
    with warnings.catch_warnings():  # reading some modules' attributes warns of deprecation
        warnings.simplefilter("ignore")
        return _capture(watched_variable)


def _capture(watched_variable: str):
    modules = {}
    for name, module in list(sys.modules.items()):
        if not isinstance(module, ModuleType):
            continue
        own = name.split(".")[0] in OWN
        namespace = vars(module)
        tables = name.startswith(TABLES_OF)
        kept = {key: (value, repr(value) if tables and isinstance(value, TABLES)
                      and key != "__builtins__" else None)  # builtins: compared below
                for key, value in namespace.items()
                if own or isinstance(value, CALLABLE_KINDS)}
        modules[name] = (module, own, kept, frozenset(namespace))
    classes = {}
    for _, _, kept, _ in modules.values():
        for value, _ in kept.values():
            if isinstance(value, type) and id(value) not in classes and str(
                    getattr(value, "__module__", "")).split(".")[0] in CLASSES_OF:
                classes[id(value)] = (value, {key: item for key, item in vars(value).items()
                                              if isinstance(item, CALLABLE_KINDS)})
    builtin_names = dict(vars(builtins))
    hooks = _hooks()
    switch = os.environ.get(watched_variable)
    environ = os.environ

    def changes(*, _vars=vars, _isinstance=isinstance, _repr=repr, _str=str, _list=list,
                _sys_modules=sys.modules, _hooks=_hooks, _kinds=CALLABLE_KINDS,
                _tables=TABLES, _missing=MISSING, _builtins=BUILTINS,
                _plain=(tuple, int)) -> list[str]:
        found = []
        for key, value in builtin_names.items():
            if _builtins.get(key, _missing) is not value:
                found.append(f"builtins.{key} was replaced or removed")
        for key in _builtins:
            if key not in builtin_names:
                found.append(f"builtins.{key} was added")
        for name, (module, own, kept, keys) in modules.items():
            if _sys_modules.get(name, _missing) is not module:
                found.append(f"sys.modules[{name!r}] was replaced or removed")
            namespace = _vars(module)
            for key, (value, table) in kept.items():
                now = namespace.get(key, _missing)
                if now is not value or (table is not None and _repr(now) != table):
                    found.append(f"{name}.{key} was changed")
            for key, value in namespace.items():
                if key not in keys and (own and _isinstance(value, _kinds)
                                        or key in builtin_names):
                    found.append(f"{name}.{key} was added")
        for cls, kept in classes.values():
            namespace = _vars(cls)
            for key, value in kept.items():
                if namespace.get(key, _missing) is not value:
                    found.append(f"{cls.__module__}.{cls.__qualname__}.{key} was changed")
            for key, value in namespace.items():
                if key not in kept and _isinstance(value, _kinds):
                    found.append(f"{cls.__module__}.{cls.__qualname__}.{key} was added")
        for key, value in _hooks().items():
            before = hooks.get(key, _missing)
            if (before != value) if _isinstance(value, _plain) else before is not value:
                found.append(f"{key} was changed")
        if environ.get(watched_variable) != switch:
            found.append(f"the environment variable {watched_variable} was changed")
        return found

    return changes
