"""The reader: the only layer that sends commands to Redis (read-only allow-list)."""

from .connect import open_node
from .fetch import fetch_batch
from .node import ALLOWED_COMMANDS, Node
from .probe import has_keys, ping
from .scan import iter_keys
from .server import ServerIdentity, read_server, server_identity
from .walk import Walk

__all__ = ["ALLOWED_COMMANDS", "Node", "ServerIdentity", "Walk", "fetch_batch", "has_keys",
           "iter_keys", "open_node", "ping", "read_server", "server_identity"]
