"""Facts of Mognet's Redis format that several layers share (no logic)."""

from __future__ import annotations

__all__ = [
    "RESULT_FIELDS",
    "RESULT_STATES",
    "READY_STATES",
    "ERROR_STATES",
    "TIME_FIELDS",
    "EXCEPTION_INFO_TYPE",
    "NOT_READY_NAME",
    "DEFAULT_RESULT_TTL_S",
    "DEFAULT_VALUE_TTL_S",
    "DEFAULT_STATE_TTL_S",
]

# The fields Mognet writes in a result hash, in the order the reader asks for them.
RESULT_FIELDS = ("id", "name", "state", "number_of_starts", "number_of_stops", "parent_id",
                 "created", "started", "finished", "node_id", "request_kwargs_repr")
TIME_FIELDS = ("created", "started", "finished")
RESULT_STATES = ("PENDING", "RUNNING", "SUSPENDED", "SUCCESS", "FAILURE", "REVOKED", "INVALID")
READY_STATES = frozenset({"SUCCESS", "FAILURE", "REVOKED", "INVALID"})
ERROR_STATES = frozenset({"FAILURE", "REVOKED", "INVALID"})

# value_type of failures and of the placeholder stored before a task finishes.
EXCEPTION_INFO_TYPE = "mognet.model.result:_ExceptionInfo"
NOT_READY_NAME = "mognet.exceptions.result_exceptions:ResultNotReady"

# Mognet's default TTLs (all configurable in Mognet).
DEFAULT_RESULT_TTL_S = 21 * 86400
DEFAULT_VALUE_TTL_S = 7 * 86400
DEFAULT_STATE_TTL_S = 7200
