"""Pure decoders: raw Redis replies (bytes) -> plain records. They never raise on bad data."""

from .hashes import decode_children, decode_json_hash, flatten
from .result import READY_STATES, RESULT_STATES, ResultDecoder
from .value import EXCEPTION_INFO_TYPE, NOT_READY_NAME, decode_value

__all__ = [
    "READY_STATES",
    "RESULT_STATES",
    "EXCEPTION_INFO_TYPE",
    "NOT_READY_NAME",
    "decode_children",
    "decode_json_hash",
    "ResultDecoder",
    "decode_value",
    "flatten",
]
