"""Client options (options.py): Options lists every name with its type, for
`Client(url, **options)`; the defaults are in options.py."""
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from typing import type_check_only

from typing_extensions import Literal, TypedDict

# fn(record, remote_data, remote_version, done); done(error, merged)
_MergeStrategy = Callable[[Any, Any, int, Callable[..., None]], object]

@type_check_only
class Options(TypedDict, total=False):
    # the reference client's (deepstream.io-client-js 2.3.4), in snake_case; times in ms
    heartbeat_interval: int
    reconnect_interval_increment: int
    max_reconnect_interval: int
    max_reconnect_attempts: int
    rpc_ack_timeout: int
    rpc_response_timeout: int
    subscription_timeout: int
    max_messages_per_packet: int
    time_between_sending_queued_packages: int
    record_read_ack_timeout: int
    record_read_timeout: int
    record_delete_timeout: int
    path: str
    merge_strategy: Optional[_MergeStrategy]
    record_deep_copy: bool
    # ours: board-sized limits and transport settings
    max_message_size: int
    max_queued_bytes: int
    send_timeout: int
    reconnect_jitter: int
    confirm_events: bool
    outbox_file: Optional[str]
    outbox_max_bytes: int
    max_pending_acks: int
    max_pending_rpcs: int
    connect_timeout: int
    dns_server: Optional[str]
    handshake_timeout: int
    print_errors: bool
    random_first_node: bool
    ca_file: Optional[str]
    verify: bool
    protocol: Optional[Literal["binary", "text", "auto"]]

DEFAULTS: Dict[str, Any]
REMOVED: Dict[str, str]
PROTOCOLS: Tuple[Optional[str], ...]

def choose_codec(protocol: Optional[str], url: str) -> Any: ...
def merge(user: Mapping[str, Any]) -> Dict[str, Any]: ...
def normalize_urls(url: Union[str, Sequence[str]], opts: Mapping[str, Any]) -> List[str]: ...
def normalize_url(url: str, default_path: str) -> str: ...
