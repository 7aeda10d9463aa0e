"""Drifted search/replace pairs against real code, written the way small models get them wrong.

Each case: (name, data file, variant, search, replace). variant "crlf" converts the file to CRLF first.
The expected outcome lives in golden/<name>.diff (applied) or golden/<name>.refusal (the model's message).
"""

from __future__ import annotations

HTTPX = "httpx_client_redirects.py.txt"
ARRAY = "json_repair_parse_array.py.txt"
NUMBER = "json_repair_parse_number.py.txt"
EMAIL = "pydantic_networks_email.py.txt"

CASES: list[tuple[str, str, str, str, str]] = [
    (
        "httpx_method_dedented",  # copied without the class's indentation
        HTTPX,
        "",
        """method = request.method

# https://tools.ietf.org/html/rfc7231#section-6.4.4
if response.status_code == codes.SEE_OTHER and method != "HEAD":
    method = "GET"
""",
        """method = request.method

# https://tools.ietf.org/html/rfc7231#section-6.4.4
if response.status_code in (codes.SEE_OTHER, codes.FOUND) and method != "HEAD":
    method = "GET"
""",
    ),
    (
        "httpx_cookies_crlf",  # CRLF file, LF search
        HTTPX,
        "crlf",
        """        if cookies or self.cookies:
            merged_cookies = Cookies(self.cookies)
            merged_cookies.update(cookies)
            return merged_cookies
""",
        """        if cookies or self.cookies:
            merged_cookies = Cookies(self.cookies)
            if cookies is not None:
                merged_cookies.update(cookies)
            return merged_cookies
""",
    ),
    (
        "httpx_headers_trailing_ws",  # trailing spaces the file does not have
        HTTPX,
        "",
        "        merged_headers = Headers(self.headers)  \n        merged_headers.update(headers) \n"
        "        return merged_headers\n",
        "        merged_headers = Headers(self.headers)  \n        merged_headers.update(headers or {}) \n"
        "        return merged_headers\n",
    ),
    (
        "httpx_merge_url_elided",  # the long comment elided with `...`
        HTTPX,
        "",
        """    def _merge_url(self, url: URL | str) -> URL:
        ...
            merge_raw_path = self.base_url.raw_path + merge_url.raw_path.lstrip(b"/")
            return self.base_url.copy_with(raw_path=merge_raw_path)
        return merge_url
""",
        """    def _merge_url(self, url: URL | str) -> URL:
        ...
            merge_raw_path = self.base_url.raw_path + merge_url.raw_path.lstrip(b"/")
            return self.base_url.copy_with(raw_path=merge_raw_path)
        logger.debug("merged url %s", merge_url)
        return merge_url
""",
    ),
    (
        "httpx_redirect_url_missing_blanks",  # blank lines dropped from the middle
        HTTPX,
        "",
        """        if url.scheme and not url.host:
            url = url.copy_with(host=request.url.host)
        # Facilitate relative 'Location' headers, as allowed by RFC 7231.
        # (e.g. '/path/to/resource' instead of 'http://domain.tld/path/to/resource')
        if url.is_relative_url:
            url = request.url.join(url)
""",
        """        if url.scheme and not url.host:
            url = url.copy_with(host=request.url.host)
        # Facilitate relative 'Location' headers, as allowed by RFC 7231.
        # (e.g. '/path/to/resource' instead of 'http://domain.tld/path/to/resource')
        if url.is_relative_url:
            url = request.url.join(url)
            logger.debug("relative redirect to %s", url)
""",
    ),
    (
        "httpx_build_request_first_line_unindented",  # the first line lost its indentation
        HTTPX,
        "",
        """def _build_redirect_request(self, request: Request, response: Response) -> Request:
        \"\"\"
        Given a request and a redirect response, return a new request that
        should be used to effect the redirect.
        \"\"\"
""",
        """def _build_redirect_request(self, request: Request, response: Response, *, strict: bool = False) -> Request:
        \"\"\"
        Given a request and a redirect response, return a new request that
        should be used to effect the redirect.
        \"\"\"
""",
    ),
    (
        "httpx_ambiguous_kwargs",  # two calls pass the same keyword arguments
        HTTPX,
        "",
        "            headers=headers,\n            cookies=cookies,\n",
        "            headers=headers,\n            cookies=cookies or None,\n",
    ),
    (
        "array_resolve_missing_blank_and_wrong_middle",  # blank line dropped, a middle line misremembered
        ARRAY,
        "",
        """    if schema_config is None:
        return None, False
    item_schema: dict[str, Any] | bool | None = None
    drop_item = False
    if isinstance(schema_config.items_schema, list):
        if idx < len(schema_config.item_schema):
            raw_schema = schema_config.items_schema[idx]
""",
        """    if schema_config is None:
        return None, False
    item_schema: dict[str, Any] | bool | None = None
    drop_item = False
    if isinstance(schema_config.items_schema, (list, tuple)):
        if idx < len(schema_config.item_schema):
            raw_schema = schema_config.items_schema[idx]
""",
    ),
    (
        "array_append_indented_more",  # copied as if one level deeper
        ARRAY,
        "",
        """                elif not drop_item:
                    arr.append(value)
                elif schema_repairer is not None:
""",
        """                elif not drop_item:
                    arr.append(value)
                    self.log("appended array item")
                elif schema_repairer is not None:
""",
    ),
    (
        "number_typo_in_middle",  # `ContextValue` for `ContextValues` in an unchanged middle line
        NUMBER,
        "",
        """    number_start_index = self.index
    number_str = ""
    char = self.get_char_at()
    is_array = self.context.current == ContextValue.ARRAY
    while (
""",
        """    number_start_index = self.index
    number_str = ""
    char = self.get_char_at()
    is_array = self.context.current == ContextValue.ARRAY
    seen_digit = False
    while (
""",
    ),
    (
        "number_hallucinated",  # code that is not in the file at all
        NUMBER,
        "",
        """    if number_str.startswith("0x"):
        return int(number_str, 16)
""",
        """    if number_str.lower().startswith("0x"):
        return int(number_str, 16)
""",
    ),
    (
        "number_already_applied",  # the model sends an edit that was already made
        NUMBER,
        "",
        """        if "," in number_str:
            return number_str.strip(",")
""",
        """        if "," in number_str:
            return number_str
""",
    ),
    (
        "email_indented_more_with_trailing_ws",  # indented as if a method, trailing blanks
        EMAIL,
        "",
        "    pretty_email_regex = _build_pretty_email_regex()   \n\n    MAX_EMAIL_LENGTH = 2048\n",
        "    pretty_email_regex = _build_pretty_email_regex()   \n\n    MAX_EMAIL_LENGTH = 4096\n",
    ),
    (
        "email_stale_search",  # the file's lines differ from what the model remembers
        EMAIL,
        "",
        """    m = pretty_email_regex.match(value)
    name = None
    if m:
        name, value = m.groups()
""",
        """    m = pretty_email_regex.fullmatch(value)
    name = None
    if m:
        name, value = m.groups()
""",
    ),
]
