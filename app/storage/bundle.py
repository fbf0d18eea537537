"""The `urls` of a validator's access bundle, written straight to JSON text.

A bundle holds a list URL per miner folder, thousands of them. Signing is the floor of
its cost (~4 µs per URL); building dicts and running `json.dumps` over 2-3 MB of URLs
used to cost as much again, so the text is assembled here. URLs are plain ASCII by
construction (percent-encoded query, hex signature), so only names need escaping.
"""

from __future__ import annotations

import re
from json.encoder import encode_basestring_ascii as json_string

from app.storage.discovery import Folders
from app.storage.layout import DATA_PREFIX, HOTKEY_FOLDERS_PREFIX, coldkey_folder, source_prefix
from app.storage.presign import Presigner

# Strings made only of these need no JSON escaping: SS58 names and most folder names.
_PLAIN = re.compile(r"[A-Za-z0-9._~/:?&=%+-]*")


def _quoted(text: str) -> str:
    return f'"{text}"' if _PLAIN.fullmatch(text) else json_string(text)


def bundle_urls_json(
    presigner: Presigner, folders: Folders, sources: tuple[str, ...], expires_in: int
) -> str:
    """`{"global": ..., "sources": ..., "miners": ...}` as in CONTRACT §3."""
    list_urls = presigner.list_urls
    where = presigner.addressing
    # The one part of a URL that is not built here is the endpoint: check it once.
    url_quoted = (
        (lambda url: f'"{url}"')
        if _PLAIN.fullmatch(where.origin + where.bucket_path)
        else json_string
    )

    all_data, all_miners = list_urls(
        [DATA_PREFIX, HOTKEY_FOLDERS_PREFIX], expires_in=expires_in, delimiter="/"
    )
    source_prefixes = [source_prefix(source) for source in sources]
    source_urls = list_urls(source_prefixes, expires_in=expires_in, delimiter="/")
    sources_json = ",".join(
        f'{_quoted(source)}:{{"list_miners":{url_quoted(url)},"prefix":{_quoted(prefix)}}}'
        for source, prefix, url in zip(sources, source_prefixes, source_urls, strict=True)
    )

    per_name: dict[str, list[str]] = {}
    for source in sources:
        names = folders.by_source.get(source, ())
        prefixes = [coldkey_folder(source, name) for name in names]
        urls = list_urls(prefixes, expires_in=expires_in)
        source_key = _quoted(source)
        for name, prefix, url in zip(names, prefixes, urls, strict=True):
            entry = f'{source_key}:{{"list_files":{url_quoted(url)},"prefix":{_quoted(prefix)}}}'
            per_name.setdefault(name, []).append(entry)
    # Hotkey-era validators list `data/hotkey=` from here; no SS58 name can clash with it.
    miners_json = ",".join(
        [
            f'"list_all_miners":{url_quoted(all_miners)}',
            *(f"{_quoted(name)}:{{{','.join(entries)}}}" for name, entries in per_name.items()),
        ]
    )
    return (
        f'{{"global":{{"list_all_data":{url_quoted(all_data)}}},'
        f'"sources":{{{sources_json}}},"miners":{{{miners_json}}}}}'
    )
