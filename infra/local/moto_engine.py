"""moto's server, applying one request at a time.

`python -m moto.server` serves each request on its own thread, and moto's DynamoDB
backend takes no locks: two concurrent UpdateItems or transactions on one item can
interleave and lose a write (seen here: twelve concurrent branch links counted as
ten). DynamoDB applies every operation atomically; serializing the application call
gives moto the same guarantee. Connections stay threaded, so keep-alive still works.
"""

import argparse
import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    app = DomainDispatcherApplication(create_backend_app)
    one_at_a_time = threading.Lock()

    def serialized(environ, start_response):
        with one_at_a_time:
            # The body is produced inside the lock: moto builds it from shared state.
            return list(app(environ, start_response))

    run_simple(args.host, args.port, serialized, threaded=True)


if __name__ == "__main__":
    main()
