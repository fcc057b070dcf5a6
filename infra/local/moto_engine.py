"""moto's server, with two fixes that make it behave like DynamoDB where we rely on it.

1. One request at a time. `python -m moto.server` serves each request on its own
   thread, and moto's DynamoDB backend takes no locks: two concurrent UpdateItems or
   transactions on one item can interleave and lose a write (seen here: twelve
   concurrent branch links counted as ten). DynamoDB applies every operation
   atomically; serializing the application call gives moto the same guarantee.
   Connections stay threaded, so keep-alive still works.
2. A cancelled transaction keeps the table's stream. moto rolls a cancelled
   transaction back by replacing the table with a deep copy taken before it, stream
   shard included; every open shard iterator then points at the old shard, which
   never receives another record, and stream consumers silently stop. Here the copy
   shares the live shard, which is trimmed of the records of the rolled-back writes
   (DynamoDB emits none for a cancelled transaction) and put back into the restored
   table. Not copying the shard's history also keeps transactions from slowing down
   as the stream grows.
"""

import argparse
import os
import signal
import sys
import threading

import moto.dynamodb.models as moto_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamShard, Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def keep_streams_across_rollbacks() -> None:
    original = DynamoDBBackend.transact_write_items
    # The snapshot moto takes before each transaction shares the live shard instead of
    # copying its whole history (which made every transaction slower than the last).
    StreamShard.__deepcopy__ = lambda self, memo: self

    def transact_write_items(self, transact_items):
        # moto backs every table up once per item of the transaction (a deep copy each),
        # all before its first write: one copy per table is the same backup, and keeps a
        # 100-item transaction from costing 100 copies of the table. Swapping the copy
        # module's deepcopy for the call is safe only because main() applies requests
        # one at a time.
        backups = {}
        real_deepcopy = moto_models.copy.deepcopy

        def deepcopy_once(value, memo=None):
            if isinstance(value, Table):
                if id(value) not in backups:
                    backups[id(value)] = real_deepcopy(value, memo)
                return backups[id(value)]
            return real_deepcopy(value, memo)

        shards = {
            name: (table.stream_shard, len(table.stream_shard.items))
            for name, table in self.tables.items()
            if table.stream_shard is not None
        }
        moto_models.copy.deepcopy = deepcopy_once
        try:
            return original(self, transact_items)
        except Exception:
            for name, (shard, length) in shards.items():
                table = self.tables.get(name)
                if table is not None:
                    del shard.items[length:]
                    shard.table = table
                    table.stream_shard = shard
            raise
        finally:
            moto_models.copy.deepcopy = real_deepcopy

    DynamoDBBackend.transact_write_items = transact_write_items

def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    keep_streams_across_rollbacks()
    app = DomainDispatcherApplication(create_backend_app)
    one_at_a_time = threading.Lock()

    def serialized(environ, start_response):
        with one_at_a_time:
            # The body is produced inside the lock: moto builds it from shared state.
            return list(app(environ, start_response))

    run_simple(args.host, args.port, serialized, threaded=True)


if __name__ == "__main__":
    main()
