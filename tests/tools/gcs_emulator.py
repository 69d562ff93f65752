#!/usr/bin/env python3
"""gcp-storage-emulator served over TLS, made usable by gsutil, with GCS
generation preconditions enforced.

Test tooling only: run with the .tools/venv python (scripts/emulators.sh does).

What this launcher adds to gcp-storage-emulator (which it imports, unmodified):
  * HTTPS on 127.0.0.1 (gsutil's JSON API refuses plain HTTP); URLs the
    emulator hands back (resumable Location, mediaLink) say https.
  * gsutil sends ``multipart/related; boundary='...'`` (single quotes), which the
    emulator's MIME parser cannot split: the quotes are rewritten to ``"``.
  * gsutil starts uploads of >= 8 MiB at ``/resumable/upload/storage/v1/...``,
    which the emulator does not route: ``/resumable`` is stripped.
  * Generations: every write of an object (upload, rewrite/copy, compose,
    restore) gets a fresh, strictly increasing generation, assigned when the
    object is actually stored; that is the generation that objects.get / list
    (``gsutil stat``, ``gsutil ls -a``) report and the one preconditions compare.
  * Preconditions, as real GCS: ``ifGenerationMatch`` / ``ifGenerationNotMatch``
    / ``ifMetagenerationMatch`` / ``ifMetagenerationNotMatch`` query parameters
    (JSON API) or the ``x-goog-if-generation-match`` /
    ``x-goog-if-metageneration-match`` headers, on uploads (media, multipart,
    resumable: checked when the session starts and on every chunk), on
    rewrite/copy/compose (destination; ``ifSourceGeneration*`` and
    ``sourceGeneration`` on the source), on delete, patch and get/download.
    ``ifGenerationMatch=0`` means "only if no live object exists". A failed
    precondition answers HTTP 412 ``conditionNotMet`` (gsutil: PreconditionException,
    exit 1). A ``generation=N`` that is not the live generation answers 404.
    Requests are handled one at a time (a lock around dispatch), so check and
    write are atomic.
  Not covered: preconditions inside /batch requests.

Usage: gcs_emulator.py --cert C --key K [--host 127.0.0.1] [--port 0]
                       [--port-file F] [--data-dir D (default: in memory)]
"""

import argparse
import json
import logging
import os
import re
import signal
import ssl
import sys
import threading
import time
import urllib.parse
from functools import partial
from http import HTTPStatus
from http.server import ThreadingHTTPServer

from gcp_storage_emulator import server as gse_server
from gcp_storage_emulator.exceptions import NotFound
from gcp_storage_emulator.handlers import objects
from gcp_storage_emulator.storage import Storage

log = logging.getLogger("gcs_emulator")

# --------------------------------------------------------------------------- generations


class GenerationStorage(Storage):
    """Storage whose object writes always get a new, strictly increasing generation."""

    _last_generation = 0

    def _next_generation(self):
        gen = max(time.time_ns() // 1000, self._last_generation + 1)  # microseconds, like GCS
        self._last_generation = gen
        return gen

    def create_file(self, bucket_name, file_name, content, file_obj, file_id=None):
        if bucket_name not in self.buckets:
            raise NotFound
        gen = self._next_generation()
        file_obj["generation"] = str(gen)
        file_obj["metageneration"] = "1"
        file_obj["id"] = "{}/{}/{}".format(bucket_name, file_name, gen)
        link = file_obj.get("mediaLink")
        if isinstance(link, str):
            file_obj["mediaLink"] = re.sub(r"generation=\d+", "generation={}".format(gen), link)
        return super().create_file(bucket_name, file_name, content, file_obj, file_id)


# --------------------------------------------------------------------------- preconditions

PRECONDITION_FAILED = {
    "error": {
        "code": 412,
        "message": "At least one of the pre-conditions you specified did not hold.",
        "errors": [
            {
                "domain": "global",
                "reason": "conditionNotMet",
                "message": "At least one of the pre-conditions you specified did not hold.",
                "locationType": "header",
                "location": "If-Match",
            }
        ],
    }
}

# (query parameter, header) pairs; the header is what the XML API uses.
_DEST_CONDS = (
    ("ifGenerationMatch", "x-goog-if-generation-match"),
    ("ifGenerationNotMatch", None),
    ("ifMetagenerationMatch", "x-goog-if-metageneration-match"),
    ("ifMetagenerationNotMatch", None),
)
_SOURCE_CONDS = (
    ("ifSourceGenerationMatch", "x-goog-copy-source-if-generation-match"),
    ("ifSourceGenerationNotMatch", None),
    ("ifSourceMetagenerationMatch", "x-goog-copy-source-if-metageneration-match"),
    ("ifSourceMetagenerationNotMatch", None),
)

# Preconditions given when a resumable session started, by upload_id.
_SESSION_CONDS = {}


def _error_body(status, message):
    return {"error": {"code": int(status), "message": message,
                      "errors": [{"domain": "global", "reason": "notFound"
                                  if status == HTTPStatus.NOT_FOUND else "invalid",
                                  "message": message}]}}


class _Fail(Exception):
    def __init__(self, status, body=None):
        super().__init__(status)
        self.status = status
        if body is None:
            body = (PRECONDITION_FAILED if status == HTTPStatus.PRECONDITION_FAILED
                    else _error_body(status, status.phrase))
        self.body = body


def _conditions(request, table):
    conds = {}
    for param, header in table:
        val = request.query.get(param, [None])[0]
        if val is None and header:
            val = request.get_header(header)
        if val is not None:
            try:
                conds[param] = int(val)
            except ValueError:
                raise _Fail(HTTPStatus.BAD_REQUEST,
                            _error_body(HTTPStatus.BAD_REQUEST,
                                        "Invalid {}: {}".format(param, val)))
    return conds


def _live(storage, bucket, name):
    try:
        return storage.get_file_obj(bucket, name)
    except NotFound:
        return None


def _check(storage, bucket, name, conds, missing_status=HTTPStatus.PRECONDITION_FAILED):
    """Raise _Fail unless every condition holds for the live object bucket/name."""
    if not conds:
        return
    obj = _live(storage, bucket, name)
    gen = int(obj["generation"]) if obj else None
    meta = int(obj.get("metageneration") or 1) if obj else None
    for key, want in conds.items():
        is_meta = "Metageneration" in key
        cur = meta if is_meta else gen
        if key.endswith("NotMatch"):
            ok = (cur is not None) if (want == 0 and not is_meta) else (cur is None or cur != want)
        elif want == 0 and not is_meta:
            ok = cur is None
        else:
            if cur is None:
                raise _Fail(missing_status)
            ok = cur == want
        if not ok:
            log.info("precondition %s=%s failed on %s/%s (live %s)", key, want, bucket, name, cur)
            raise _Fail(HTTPStatus.PRECONDITION_FAILED)


def _check_generation_param(storage, bucket, name, request, param="generation"):
    """A request for a specific generation that is not the live one: 404."""
    want = request.query.get(param, [None])[0]
    if want is None:
        return
    obj = _live(storage, bucket, name)
    if obj is None or str(obj["generation"]) != str(int(want)):
        raise _Fail(HTTPStatus.NOT_FOUND)


def _upload_name(request):
    """Object name of an upload request (media / multipart / resumable start)."""
    if "name" in request.query:
        return request.query["name"][0]
    data = request.data
    if isinstance(data, dict):
        if isinstance(data.get("meta"), dict):  # multipart
            return data["meta"].get("name")
        return data.get("name")  # resumable start: JSON metadata
    return None


def _guard(fn):
    def wrapped(request, response, storage, *args, **kwargs):
        try:
            return fn(request, response, storage, *args, **kwargs)
        except _Fail as fail:
            response.status = fail.status
            response.json(fail.body)
            return None

    wrapped.__name__ = fn.__name__
    return wrapped


def _session_check(request, storage):
    upload_id = request.query["upload_id"][0]
    try:
        obj = storage.get_resumable_file_obj(upload_id)
    except NotFound:
        return  # the emulator answers 404 itself
    conds = dict(_SESSION_CONDS.get(upload_id, {}))
    conds.update(_conditions(request, _DEST_CONDS))
    _check(storage, obj["bucket"], obj["name"], conds)


def make_wrappers(orig):
    """Precondition-enforcing versions of the emulator's object handlers."""

    @_guard
    def insert(request, response, storage, *a, **kw):
        bucket = request.params["bucket_name"]
        if "upload_id" in request.query:  # POST used as PUT by some clients
            _session_check(request, storage)
            return orig["insert"](request, response, storage, *a, **kw)
        conds = _conditions(request, _DEST_CONDS)
        name = _upload_name(request)
        if name is not None:
            _check(storage, bucket, name, conds)
        result = orig["insert"](request, response, storage, *a, **kw)
        location = response._headers.get("Location")
        if conds and location:
            q = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)
            if q.get("upload_id"):
                _SESSION_CONDS[q["upload_id"][0]] = conds
        return result

    @_guard
    def upload_partial(request, response, storage, *a, **kw):
        _session_check(request, storage)
        result = orig["upload_partial"](request, response, storage, *a, **kw)
        if response.status == HTTPStatus.OK:
            _SESSION_CONDS.pop(request.query["upload_id"][0], None)
        return result

    @_guard
    def xml_upload(request, response, storage, *a, **kw):
        p = request.params
        _check(storage, p["bucket_name"], p["object_id"], _conditions(request, _DEST_CONDS))
        return orig["xml_upload"](request, response, storage, *a, **kw)

    @_guard
    def delete(request, response, storage, *a, **kw):
        p = request.params
        _check_generation_param(storage, p["bucket_name"], p["object_id"], request)
        _check(
            storage, p["bucket_name"], p["object_id"], _conditions(request, _DEST_CONDS),
            missing_status=HTTPStatus.NOT_FOUND,
        )
        return orig["delete"](request, response, storage, *a, **kw)

    @_guard
    def patch(request, response, storage, *a, **kw):
        p = request.params
        _check_generation_param(storage, p["bucket_name"], p["object_id"], request)
        _check(
            storage, p["bucket_name"], p["object_id"], _conditions(request, _DEST_CONDS),
            missing_status=HTTPStatus.NOT_FOUND,
        )
        return orig["patch"](request, response, storage, *a, **kw)

    def _reader(key):
        @_guard
        def read(request, response, storage, *a, **kw):
            p = request.params
            if not request.query.get("softDeleted"):
                _check_generation_param(storage, p["bucket_name"], p["object_id"], request)
                _check(
                    storage, p["bucket_name"], p["object_id"],
                    _conditions(request, _DEST_CONDS), missing_status=HTTPStatus.NOT_FOUND,
                )
            return orig[key](request, response, storage, *a, **kw)

        read.__name__ = key
        return read

    def _copier(key):
        @_guard
        def copy(request, response, storage, *a, **kw):
            p = request.params
            _check_generation_param(
                storage, p["bucket_name"], p["object_id"], request, "sourceGeneration"
            )
            _check(
                storage, p["bucket_name"], p["object_id"], _conditions(request, _SOURCE_CONDS),
                missing_status=HTTPStatus.NOT_FOUND,
            )
            _check(
                storage, p["dest_bucket_name"], p["dest_object_id"],
                _conditions(request, _DEST_CONDS),
            )
            return orig[key](request, response, storage, *a, **kw)

        copy.__name__ = key
        return copy

    @_guard
    def compose(request, response, storage, *a, **kw):
        p = request.params
        _check(storage, p["bucket_name"], p["object_id"], _conditions(request, _DEST_CONDS))
        return orig["compose"](request, response, storage, *a, **kw)

    return {
        "insert": insert,
        "upload_partial": upload_partial,
        "xml_upload": xml_upload,
        "delete": delete,
        "patch": patch,
        "get": _reader("get"),
        "download": _reader("download"),
        "copy": _copier("copy"),
        "rewrite": _copier("rewrite"),
        "compose": compose,
    }


def install_wrappers():
    """Replace the emulator's object handlers, in its routing table and module."""
    names = (
        "insert", "upload_partial", "xml_upload", "delete", "patch",
        "get", "download", "copy", "rewrite", "compose",
    )
    orig = {n: getattr(objects, n) for n in names}
    wrappers = make_wrappers(orig)
    by_id = {id(orig[n]): wrappers[n] for n in names}
    for _regex, methods in gse_server.HANDLERS:
        for method, fn in list(methods.items()):
            if id(fn) in by_id:
                methods[method] = by_id[id(fn)]
    # Router.handle's fallback for POST .../o?uploadType= looks up objects.insert.
    # objects.get calls download() through its module global: keep that the original
    # (get already checked), so only module-level names used by the router change.
    objects.insert = wrappers["insert"]


# --------------------------------------------------------------------------- HTTP(S) glue


class HttpsRequest(gse_server.Request):
    """The emulator builds URLs (resumable Location, mediaLink) as http://; say https."""

    scheme = "https"

    def __init__(self, request_handler, method):
        super().__init__(request_handler, method)
        if self.scheme == "https":
            self._base_url = "https" + self._base_url[len("http"):]
            self._full_url = self._base_url + self._path
            self._parsed_url = urllib.parse.urlparse(self._full_url)


_DISPATCH_LOCK = threading.Lock()
_QUOTED_BOUNDARY = re.compile(r"""boundary='([^']*)'""")


class CompatRequestHandler(gse_server.RequestHandler):
    timeout = 120  # per-connection socket timeout (seconds)

    def _fix_request(self):
        if self.path.startswith("/resumable/upload/"):
            self.path = self.path[len("/resumable"):]
        ctype = self.headers.get("Content-Type")
        if ctype and "boundary='" in ctype:
            self.headers.replace_header("Content-Type", _QUOTED_BOUNDARY.sub(r'boundary="\1"', ctype))

    def _dispatch(self, method):
        self._fix_request()
        with _DISPATCH_LOCK:
            gse_server.Router(self).handle(method)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_PATCH(self):
        self._dispatch("PATCH")


class TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    ssl_context = None

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.ssl_context is None:
            return sock, addr
        # The handshake happens on first read, in the connection's own thread,
        # under the handler's socket timeout: a silent client blocks no one.
        try:
            return self.ssl_context.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False), addr
        except Exception:
            sock.close()
            raise

    def handle_error(self, request, client_address):
        err = sys.exc_info()[1]
        if isinstance(err, (ssl.SSLError, ConnectionError, TimeoutError)):
            log.info("connection from %s dropped: %s", client_address, err)
        else:
            super().handle_error(request, client_address)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0: pick a free port")
    ap.add_argument("--port-file", help="write the bound port here once listening")
    ap.add_argument("--cert", help="PEM certificate (omit both --cert/--key for plain HTTP)")
    ap.add_argument("--key", help="PEM private key")
    ap.add_argument("--data-dir", help="persist under this directory (default: in memory)")
    ap.add_argument("--project-number", default="1234")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        ap.error("test emulator: bind to loopback only")

    install_wrappers()
    gse_server.Request = HttpsRequest
    HttpsRequest.scheme = "https" if args.cert else "http"

    if args.data_dir:
        storage = GenerationStorage(data_dir=os.path.abspath(args.data_dir),
                                    project_number=args.project_number)
    else:
        storage = GenerationStorage(use_memory_fs=True, data_dir="/",
                                    project_number=args.project_number)

    httpd = TLSServer((args.host, args.port), partial(CompatRequestHandler, storage))
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        httpd.ssl_context = ctx
    port = httpd.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("{}\n".format(port))
        os.replace(tmp, args.port_file)
    print("gcs_emulator listening on {}://{}:{}".format(
        "https" if args.cert else "http", args.host, port), flush=True)

    def _stop(signum, frame):
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
