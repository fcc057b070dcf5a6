"""moto's server, with two fixes that make it behave like DynamoDB where we rely on it.

1. One request at a time. `python -m moto.server` serves each request on its own
   thread, and moto's DynamoDB backend takes no locks: two concurrent UpdateItems or
   transactions on one item can interleave and lose a write (seen here: twelve
   concurrent branch links counted as ten). DynamoDB applies every operation
   atomically; serializing the application call gives moto the same guarantee.
   Connections stay threaded, so keep-alive still works.
2. A transaction's rollback restores the items it named, not the whole table. moto
   backs up every table a transaction touches with a deep copy of the whole table and
   rolls back by replacing the table with it: a transaction cost grew with the table,
   and every open stream shard iterator pointed at the old shard, which never received
   another record (stream consumers silently stopped). Here the live table stays, the
   prior state of each item the transaction names is kept and put back on
   cancellation, and the shard is trimmed of the records of the rolled-back writes
   (DynamoDB emits none for a cancelled transaction).
"""

import argparse
import os
import signal
import sys
import threading

import moto.dynamodb.models as moto_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def roll_back_items_not_tables() -> None:
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        # moto backs up every table a transaction touches with a deep copy of the whole
        # table before its first write, so a transaction cost grew with the table (a
        # billing run of 10,000 charges slowed to a few a second). DynamoDB's rollback
        # only needs the items the transaction names: here moto's "copy" is the live
        # table itself, the prior state of each named item is kept, and a cancelled
        # transaction puts those items back. Safe only because main() applies requests
        # one at a time.
        real_deepcopy = moto_models.copy.deepcopy

        def live_table(value, memo=None):
            if isinstance(value, Table):
                return value
            return real_deepcopy(value, memo)

        prior = []
        for transact_item in transact_items:
            _, op = next(iter(transact_item.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op.get("Key") or {
                name: value
                for name, value in op.get("Item", {}).items()
                if name in (table.hash_key_attr, table.range_key_attr)
            }
            if table.hash_key_attr not in key:
                continue
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = (
                DynamoType(key[table.range_key_attr])
                if table.range_key_attr is not None and table.range_key_attr in key
                else None
            )
            current = table.items.get(hash_value, {}) if table.range_key_attr else None
            if table.range_key_attr:
                saved = current.get(range_value) if current else None
            else:
                saved = table.items.get(hash_value)
            prior.append((table, hash_value, range_value, real_deepcopy(saved) if saved else None))

        shards = {
            name: (table.stream_shard, len(table.stream_shard.items))
            for name, table in self.tables.items()
            if table.stream_shard is not None
        }
        moto_models.copy.deepcopy = live_table
        try:
            return original(self, transact_items)
        except Exception:
            # Back to the items as they were, the first saved state of each key last.
            for table, hash_value, range_value, saved in reversed(prior):
                if table.range_key_attr:
                    partition = table.items.setdefault(hash_value, {})
                    if saved is None:
                        partition.pop(range_value, None)
                        if not partition:
                            table.items.pop(hash_value, None)
                    else:
                        partition[range_value] = saved
                elif saved is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = saved
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

    roll_back_items_not_tables()
    app = DomainDispatcherApplication(create_backend_app)
    one_at_a_time = threading.Lock()

    def serialized(environ, start_response):
        with one_at_a_time:
            # The body is produced inside the lock: moto builds it from shared state.
            return list(app(environ, start_response))

    run_simple(args.host, args.port, serialized, threaded=True)


if __name__ == "__main__":
    main()
