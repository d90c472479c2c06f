"""The demo app's tasks: names, arguments, run times, return values and failures.

A small image/e-mail/reporting app, chosen so its keyspace has the value sizes
worth looking at: tiny ints, ~200 B dicts, lists of tens of KB that compress
well, and rare ~1 MB blobs that do not. Everything is drawn from the ``rng``
the planner passes in, so a seed always gives the same app history.
"""

from __future__ import annotations

import base64
import itertools
import random
from typing import Any, NamedTuple, Optional, Sequence, Tuple
from uuid import UUID

from .encode import (
    EXCEPTION_INFO_TYPE,
    exception_info,
    format_traceback,
    holder_json,
    pickle_exception,
)

__all__ = [
    "SEND_EMAIL", "CHILD_TASK", "SYNC_TASK", "REPORT_TASK", "FAN_OUT_TASK", "EXPORT_TASK",
    "UNKNOWN_TASK", "STATEFUL_TASKS", "Catalogue", "ErrorValue", "SuccessValue", "kwargs_repr",
    "report_metadata",
]

SEND_EMAIL = "demo.tasks.send_email"
CHILD_TASK = "demo.tasks.resize_image"  # also what fan_out submits as subtasks
SYNC_TASK = "demo.tasks.sync_inventory"
REPORT_TASK = "demo.tasks.build_report"
FAN_OUT_TASK = "demo.tasks.fan_out"
EXPORT_TASK = "demo.tasks.export_archive"
# Renamed in a deploy while old requests were still queued: workers reject it as INVALID.
UNKNOWN_TASK = "demo.tasks.generate_thumbnail"
STATEFUL_TASKS = frozenset({SYNC_TASK, REPORT_TASK, EXPORT_TASK})

# Root task mix; EXPORT_TASK's share is set per workload size (see Catalogue).
_ROOT_WEIGHTS = {SEND_EMAIL: 0.32, CHILD_TASK: 0.25, SYNC_TASK: 0.16, REPORT_TASK: 0.12,
                 FAN_OUT_TASK: 0.035, UNKNOWN_TASK: 0.008}
# Median run time (s) and spread of a lognormal run time.
_DURATIONS = {SEND_EMAIL: (0.4, 0.6), CHILD_TASK: (1.5, 0.7), SYNC_TASK: (20.0, 0.8),
              REPORT_TASK: (90.0, 1.0), EXPORT_TASK: (400.0, 0.6), FAN_OUT_TASK: (5.0, 0.5)}
_TEMPLATES = ("welcome", "password_reset", "invoice", "weekly_digest")
_SIZES = ([320], [320, 1280], [160, 640, 1920])
_WAREHOUSES = {"lis-1": "Lisboa – Armazém 1", "opo-1": "Porto – Armazém 2",
               "mad-2": "Madrid – Almacén Sur", "ams-1": "Amsterdam – Magazijn"}
_REPORTS = ("monthly_sales", "stock_levels", "churn", "ad_spend")
_REGIONS = ("eu-west-1", "eu-central-1", "us-east-1", "ap-south-1")
_SITE = "/srv/demo/.venv/lib/python3.11/site-packages"
_APP_FILE = "/srv/demo/demo/tasks.py"
_WORKER_FRAME = (f"{_SITE}/mognet/worker/worker.py", 383, "_run_request", "value = await fut")
_MAX_RETRIES = 3  # Mognet's default AppConfig.max_retries

_MAILER = "/srv/demo/demo/mail.py"
_INVENTORY = "/srv/demo/demo/inventory.py"
_Frame = Tuple[str, int, str, str]  # file, line, function, source line
# (value_type, raw_value) of a failure; (value_type, raw_value, holder JSON or None) of a success.
ErrorValue = Tuple[str, Any]
SuccessValue = Tuple[str, Any, Optional[bytes]]


class _Failure(NamedTuple):
    """How a task fails: the exception and the frames below the worker's."""

    name: str  # "module:qualname"
    message: str  # str(exc): a template over the request's arguments
    frames: tuple[_Frame, ...]
    args: tuple[Any, ...] | None = None  # exc.args, when not (message,)


_FAILURES: dict[str, tuple[_Failure, ...]] = {
    SEND_EMAIL: (
        _Failure("demo.mail:MailboxUnavailable",
                 "550 5.1.1 <{to}>: Recipient address rejected: User unknown",
                 ((_APP_FILE, 41, "send_email", "await smtp.send(message)"),
                  (_MAILER, 88, "send", "raise MailboxUnavailable(reply.text)"))),
        _Failure("builtins:TimeoutError", "timed out",
                 ((_APP_FILE, 40, "send_email", "smtp = await mail.connect(settings.smtp_host)"),
                  ("/usr/lib/python3.11/asyncio/tasks.py", 490, "wait_for",
                   "return fut.result()"))),
    ),
    CHILD_TASK: (
        _Failure("builtins:ValueError",
                 "image {image_id} is {width}x{height} px; the limit is 8000x8000",
                 ((_APP_FILE, 63, "resize_image", "check_dimensions(image)"),
                  (_APP_FILE, 22, "check_dimensions", "raise ValueError(f\"image {image.id} is "
                   "{w}x{h} px; the limit is {LIMIT}x{LIMIT}\")"))),
        _Failure("PIL:UnidentifiedImageError",
                 "cannot identify image file '/data/images/{image_id}.jpg'",
                 ((_APP_FILE, 60, "resize_image", "image = Image.open(path)"),
                  (f"{_SITE}/PIL/Image.py", 3339, "open", "raise UnidentifiedImageError(msg)"))),
    ),
    SYNC_TASK: (
        _Failure("builtins:ConnectionError",
                 "inventory API https://inventory.internal/v2/stock returned 503",
                 ((_APP_FILE, 97, "sync_inventory", "page = await client.fetch_page(cursor)"),
                  (_INVENTORY, 51, "fetch_page",
                   "raise ConnectionError(f\"inventory API {url} returned {resp.status}\")"))),
    ),
    REPORT_TASK: (
        _Failure("builtins:KeyError", "'region'",
                 ((_APP_FILE, 131, "build_report", "rows = aggregate(orders)"),
                  ("/srv/demo/demo/reports.py", 77, "aggregate",
                   "key = (order[\"day\"], order[\"region\"])")),
                 args=("region",)),
        _Failure("builtins:TimeoutError", "canceling statement due to statement timeout",
                 ((_APP_FILE, 128, "build_report", "orders = await db.fetch_orders(month)"),
                  ("/srv/demo/demo/db.py", 212, "fetch_orders",
                   "raise TimeoutError(err.message) from err"))),
    ),
    EXPORT_TASK: (
        _Failure("builtins:OSError", "[Errno 28] No space left on device",
                 ((_APP_FILE, 170, "export_archive", "archive.write(chunk)"),),
                 args=(28, "No space left on device")),
    ),
}


def _frame(path: str, line: int, func: str, code: str) -> str:
    return f'  File "{path}", line {line}, in {func}\n    {code}\n'


def _exception_line(name: str, message: str) -> str:
    module, _, qualname = name.partition(":")
    shown = qualname if module == "builtins" else f"{module}.{qualname}"
    return f"{shown}: {message}\n" if message else f"{shown}\n"


def _raised(name: str, message: str, frames: Sequence[_Frame], args: Sequence[Any],
            attrs: dict[str, Any] | None = None) -> tuple[str, dict[str, str]]:
    chunks = ["Traceback (most recent call last):\n", *(_frame(*f) for f in frames),
              _exception_line(name, message)]
    raw = pickle_exception(name, args, attrs)
    return EXCEPTION_INFO_TYPE, exception_info(name, message, format_traceback(chunks), raw)


def _created(name: str, message: str, args: Sequence[Any] = (),
             attrs: dict[str, Any] | None = None) -> tuple[str, dict[str, str]]:
    # Exceptions Mognet builds and stores without raising have no frames.
    traceback = format_traceback([_exception_line(name, message)])
    raw = pickle_exception(name, args, attrs)
    return EXCEPTION_INFO_TYPE, exception_info(name, message, traceback, raw)


def kwargs_repr(arguments: dict[str, Any], max_length: int = 64) -> str:
    """``request_kwargs_repr`` as Mognet formats it: ``k=repr(v)``, long reprs cut with ``...``."""
    parts = []
    for name, value in arguments.items():
        text = repr(value)
        parts.append(f"{name}={text[:max_length] + '...' if len(text) > max_length else text}")
    return ", ".join(parts)


def report_metadata(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What ``build_report`` adds with ``context.set_metadata`` when done."""
    return {"rows": len(rows), "regions": sorted({row["region"] for row in rows})}


class Catalogue:
    """The demo app's behaviour, with value pools sized for ``results`` results.

    Big values come from small pools built once (from their own random
    stream), so 250,000 results do not serialise 250,000 distinct reports.
    """

    def __init__(self, seed: int, results: int) -> None:
        pool_rng = random.Random(f"{seed}/pools")
        # Shrink payloads as the workload grows so 250k results stay within ~1-2 GB.
        scale = min(1.0, (10_000 / max(results, 1)) ** 0.5)
        self.reports = [_pooled("builtins:list", _report_rows(pool_rng, scale)) for _ in range(16)]
        self.blobs = [_pooled("builtins:str", _blob(pool_rng)) for _ in range(3)]
        weights = {**_ROOT_WEIGHTS, EXPORT_TASK: min(0.003, 20 / max(results, 1))}
        self.roots = tuple(weights)
        self.cumulative = tuple(itertools.accumulate(weights.values()))

    def root_task(self, rng: random.Random) -> str:
        return rng.choices(self.roots, cum_weights=self.cumulative)[0]

    def arguments(self, rng: random.Random, task: str) -> dict[str, Any]:
        if task == SEND_EMAIL:
            return {"to": f"user{rng.randrange(90_000)}@example.com",
                    "template": rng.choice(_TEMPLATES)}
        if task in (CHILD_TASK, UNKNOWN_TASK):
            return {"image_id": rng.randrange(10**6), "sizes": rng.choice(_SIZES)}
        if task == SYNC_TASK:
            return {"warehouse": rng.choice(list(_WAREHOUSES)), "full": rng.random() < 0.1}
        if task == REPORT_TASK:
            return {"report": rng.choice(_REPORTS), "month": f"2026-{rng.randint(1, 11):02d}",
                    "tenant_id": rng.randrange(500)}
        if task == FAN_OUT_TASK:
            return {"batch_id": f"b-{rng.randrange(10**6):06d}",
                    "image_ids": [rng.randrange(10**6) for _ in range(rng.randint(4, 24))]}
        return {"tenant_id": rng.randrange(500), "format": "zip"}

    def duration_s(self, rng: random.Random, task: str) -> float:
        median, sigma = _DURATIONS.get(task, (1.0, 0.5))
        return median * rng.lognormvariate(0.0, sigma)

    def submit_metadata(self, rng: random.Random) -> dict[str, Any]:
        return {"tenant_id": rng.randrange(500),
                "requested_by": rng.choice(("api", "scheduler", "admin-ui", "joão@example.com")),
                "trace_id": f"{rng.getrandbits(128):032x}"}

    def success(self, rng: random.Random, task: str, arguments: dict[str, Any]) -> SuccessValue:
        """``(value_type, raw_value, holder JSON or None)`` of a successful run."""
        if task == SEND_EMAIL:
            return "builtins:int", rng.choice((1, 1, 1, 2, 3)), None
        if task == CHILD_TASK:
            return "builtins:dict", _resized(rng, arguments), None
        if task == SYNC_TASK:
            if rng.random() < 0.4:
                return "builtins:NoneType", None, None
            return "builtins:dict", _synced(rng, arguments["warehouse"]), None
        pooled = rng.choice(self.reports if task == REPORT_TASK else self.blobs)
        return pooled

    def failure(self, rng: random.Random, task: str, arguments: dict[str, Any]) -> ErrorValue:
        failure = rng.choice(_FAILURES[task])
        size = {"width": rng.randint(8001, 20000), "height": rng.randint(4000, 20000)}
        message = failure.message.format(**arguments, **size)
        args = failure.args if failure.args is not None else (message,)
        return _raised(failure.name, message, (_WORKER_FRAME, *failure.frames), args)

    def too_many_retries(self, request_id: UUID, retries: int) -> ErrorValue:
        message = (f"Task id={request_id!r} has been retried {retries!r} times, "
                   f"which is more than the limit of {_MAX_RETRIES!r}")
        attrs = {"request_id": request_id, "max_retries": _MAX_RETRIES, "actual_retries": retries}
        return _created("mognet.exceptions.too_many_retries:TooManyRetries", message,
                        (request_id, retries, _MAX_RETRIES), attrs)

    def deadline_error(self) -> ErrorValue:
        return _created("builtins:TimeoutError", "")

    def unknown_task(self, task: str) -> ErrorValue:
        name = "mognet.tasks.task_registry:UnknownTask"
        message = (f"Unknown task: {task!r}; did you forget to register it, "
                   "or import it's module in the app's configuration?")
        registry = f"{_SITE}/mognet/tasks/task_registry.py"
        chunks = [
            "Traceback (most recent call last):\n",
            _frame(registry, 39, "get_task_function", "return self._names_to_tasks[name]"),
            f"KeyError: {task!r}\n",
            "\nThe above exception was the direct cause of the following exception:\n\n",
            "Traceback (most recent call last):\n",
            _frame(_WORKER_FRAME[0], 312, "_run_request",
                   "task_function = self.app.task_registry.get_task_function(req.name)"),
            _frame(registry, 41, "get_task_function", "raise UnknownTask(name) from ke"),
            _exception_line(name, message),
        ]
        raw = pickle_exception(name, (task,), {"task_name": task})
        return EXCEPTION_INFO_TYPE, exception_info(name, message, format_traceback(chunks), raw)

    def fan_out_error(self, failed: int, total: int) -> ErrorValue:
        message = f"{failed} of {total} images failed"
        raising = (_APP_FILE, 150, "fan_out",
                   'raise RuntimeError(f"{failed} of {total} images failed")')
        frames = (_WORKER_FRAME, raising)
        return _raised("builtins:RuntimeError", message, frames, (message,))

    def fan_out_value(self, child_ids: Sequence[UUID]) -> tuple[str, Any, None]:
        return "builtins:list", [str(child) for child in child_ids], None

    def task_state(self, rng: random.Random, task: str, running_s: float) -> dict[str, Any]:
        """What a stateful task keeps in ``context.state`` while it runs."""
        if task == REPORT_TASK:
            return {"page": 1 + int(running_s // 4), "rows_done": int(running_s * 37),
                    "phase": "aggregate"}
        if task == SYNC_TASK:
            return {"cursor": f"SKU-{rng.randrange(10**6):06d}",
                    "batches_done": 1 + int(running_s // 2)}
        return {"bytes_written": int(running_s * 2_500_000), "part": 1 + int(running_s // 60)}


def _pooled(value_type: str, raw_value: Any) -> tuple[str, Any, bytes]:
    return value_type, raw_value, holder_json(value_type, raw_value)


def _report_rows(rng: random.Random, scale: float) -> list[dict[str, Any]]:
    # ~70 B of JSON per row; 700 rows (~50 KB) at full scale, repetitive enough to gzip ~7x.
    count = max(20, int(700 * scale * rng.uniform(0.5, 1.5)))
    month = f"2026-{rng.randint(1, 11):02d}"
    return [{"day": f"{month}-{1 + i % 28:02d}", "region": rng.choice(_REGIONS),
             "sku": f"SKU-{rng.randrange(5000):06d}", "units": rng.randrange(1, 400),
             "revenue": round(rng.uniform(5, 20_000), 2)} for i in range(count)]


def _blob(rng: random.Random) -> str:
    # Already-compressed archive bytes in base64: ~1 MB that gzip cannot shrink below ~76%.
    return base64.b64encode(rng.randbytes(768 * 1024)).decode()


def _resized(rng: random.Random, arguments: dict[str, Any]) -> dict[str, Any]:
    image_id = arguments["image_id"]
    variants = [{"width": size, "height": size * 3 // 4, "key": f"images/{image_id}/{size}.webp",
                 "bytes": rng.randrange(size * 20, size * 90)} for size in arguments["sizes"]]
    return {"image_id": image_id, "format": "webp", "variants": variants}


def _synced(rng: random.Random, warehouse: str) -> dict[str, Any]:
    return {"warehouse": warehouse, "warehouse_name": _WAREHOUSES[warehouse],
            "updated": rng.randrange(0, 3000), "unchanged": rng.randrange(1000, 90_000),
            "duration_s": round(rng.uniform(1, 600), 2)}
