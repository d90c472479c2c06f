"""Pure decoders: raw Redis replies (bytes) -> plain records. They never raise on bad data."""

from .hashes import decode_children, decode_json_hash, flatten
from .result import ResultDecoder
from .value import decode_value

__all__ = [
    "decode_children",
    "decode_json_hash",
    "ResultDecoder",
    "decode_value",
    "flatten",
]
