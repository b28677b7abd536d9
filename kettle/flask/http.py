"""``werkzeug.http``: reading and writing header values."""

from kettle.http import (
    dump_header,
    http_date,
    parse_cache_control_header,
    parse_date,
    parse_dict_header,
    parse_list_header,
    parse_options_header,
    parse_set_header,
    quote_header_value,
    unquote_header_value,
)

__all__ = [
    "dump_header",
    "http_date",
    "parse_cache_control_header",
    "parse_date",
    "parse_dict_header",
    "parse_list_header",
    "parse_options_header",
    "parse_set_header",
    "quote_header_value",
    "unquote_header_value",
]
