"""moto's server, with fixes that make it behave like DynamoDB where we rely on it.

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

And fixes of its cost per request, which grew with the table and with the items
answered until it, not our code, was what a benchmark measured (answers unchanged):

3. A Query reads its own partition. moto lists and sorts every item of the table
   for every Query (with its slow attribute-value comparisons), then filters by the
   key: a Query on a table of 3,000 items took 13 ms. Here a table Query starts from
   its partition, and an index Query from the items carrying its partition key (its
   results are sorted by the index's and the table's keys afterwards anyway), sorted
   and paged by plain key values; the page is not deep-copied (nothing changes it
   afterwards), and a projection of top-level attributes copies just those (moto
   rendered the whole item as JSON and parsed the projected part back).
4. Items and stream records are answered as the JSON they already are. moto walks
   every answer through a botocore-model serializer, attribute by attribute: 270 ms
   for a page of 100 customers, 180 ms for a page of stream records, the local
   runtime's largest costs. Item operations and GetRecords are dumped directly.
5. Expressions are parsed once. moto parses a request's condition three times and
   its update expression twice, then validates and applies the update with a generic
   tree walker that deep-copies the tree and visits it a dozen times: together most
   of what a charge and its counting cost. Parsed conditions and update trees are
   kept by their text (moto never changes them), and updates that only set scalars,
   add whole numbers or remove attributes, top-level and not keys, are applied
   directly; any other update still goes through moto.
"""

import argparse
import base64
import copy
import datetime
import decimal
import inspect
import json
import os
import re
import signal
import sys
import threading

import moto.dynamodb.models as moto_models
from moto.dynamodb.comparisons import ConditionExpressionParser, get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    ItemSizeTooLarge,
    ItemSizeToUpdateTooLarge,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
import moto.dynamodb.models.table as moto_table
from moto.dynamodb.models.table import Table
from moto.dynamodb.parsing.expressions import UpdateExpressionParser
from moto.dynamodb.responses import DynamoHandler, DynamoResult
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
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
            kind, op = next(iter(transact_item.items()))
            # A condition check changes nothing, so there is nothing to put back.
            if kind == "ConditionCheck":
                continue
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
            # An update changes the stored item in place, so its prior state is copied; a
            # put or a delete replaces or drops the item, so the item itself is its prior state.
            snapshot = real_deepcopy(saved) if saved and kind == "Update" else saved
            prior.append((table, hash_value, range_value, snapshot))

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

PARSED_EXPRESSIONS_KEPT = 10_000


def parse_each_expression_once() -> None:
    conditions = {}
    parse_condition = ConditionExpressionParser.parse

    def parse(self):
        # moto parses a request's condition three times (validating the request, checking
        # it, and again inside the put or update); a condition tree is only read when it
        # is evaluated, so one tree serves every request with the same expression, names
        # and values.
        if not self.condition_expression:
            return parse_condition(self)
        key = (
            self.condition_expression,
            json.dumps(self.expression_attribute_names, sort_keys=True, default=str),
            json.dumps(self.expression_attribute_values, sort_keys=True, default=str),
        )
        parsed = conditions.get(key)
        if parsed is None:
            parsed = (
                parse_condition(self),
                list(self.expr_attr_names_found),
                list(self.expr_attr_values_found),
            )
            if len(conditions) >= PARSED_EXPRESSIONS_KEPT:
                conditions.clear()
            conditions[key] = parsed
        else:
            self.expr_attr_names_found.extend(parsed[1])
            self.expr_attr_values_found.extend(parsed[2])
        return parsed[0]

    ConditionExpressionParser.parse = parse

    updates = {}
    make_update = UpdateExpressionParser.make.__func__

    def make(cls, expression):
        # The update's tree is parsed twice per request; moto's validator works on a deep
        # copy of it, so the parsed tree itself never changes.
        parsed = updates.get(expression)
        if parsed is None:
            parsed = make_update(cls, expression)
            if len(updates) >= PARSED_EXPRESSIONS_KEPT:
                updates.clear()
            updates[expression] = parsed
        return parsed

    UpdateExpressionParser.make = classmethod(make)


WHOLE_NUMBER = re.compile(r"-?[0-9]+")
NUMBER = re.compile(r"-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?")
ACTION_LENGTHS = {"SET": 3, "ADD": 2, "REMOVE": 1}


def scalar(kind, plain) -> bool:
    if kind == "N":
        return isinstance(plain, str) and NUMBER.fullmatch(plain) is not None
    if kind == "S":
        return isinstance(plain, str)
    return (kind == "BOOL" and isinstance(plain, bool)) or (kind == "NULL" and plain is True)


def simple_update(expression, names, values, key_attributes):
    """The actions of an update that only sets scalars, adds whole numbers and removes
    top-level non-key attributes, all named by placeholders; None for any other."""
    tokens = expression.replace(",", " , ").replace("=", " = ").split()
    actions = {}
    touched = set()
    at = 0
    while at < len(tokens):
        clause = tokens[at].upper()
        if clause not in ACTION_LENGTHS or clause in actions:
            return None
        actions[clause] = []
        at += 1
        while True:
            action = tokens[at : at + ACTION_LENGTHS[clause]]
            if len(action) < ACTION_LENGTHS[clause] or (clause == "SET" and action[1] != "="):
                return None
            name = (names or {}).get(action[0]) if action[0].startswith("#") else None
            if name is None or name in touched or name in key_attributes:
                return None
            touched.add(name)
            value = None
            if clause != "REMOVE":
                value = (values or {}).get(action[-1]) if action[-1].startswith(":") else None
                single = isinstance(value, dict) and len(value) == 1
                kind, plain = next(iter(value.items())) if single else (None, None)
                if clause == "SET" and not scalar(kind, plain):
                    return None
                if clause == "ADD" and (kind != "N" or not WHOLE_NUMBER.fullmatch(str(plain))):
                    return None
            actions[clause].append((name, value))
            at += len(action)
            if at < len(tokens) and tokens[at] == ",":
                at += 1
                continue
            break
    return actions


def update_simple_expressions_directly() -> None:
    original = DynamoDBBackend.update_item
    parameters = inspect.signature(original)

    def update_item(self, *args, **kwargs):
        # moto validates and executes every update through a generic tree walker that
        # deep-copies the tree and visits it a dozen times: most of a counted charge's
        # cost. The updates the system sends most (set a few attributes, add to
        # counters) are applied here directly, with DynamoDB's rules for them; any other
        # goes to moto.
        call = parameters.bind(self, *args, **kwargs)
        call.apply_defaults()
        key = call.arguments["key"]
        update_expression = call.arguments["update_expression"]
        names = call.arguments["expression_attribute_names"]
        values = call.arguments["expression_attribute_values"]
        table = self.get_table(call.arguments["table_name"])
        actions = (
            simple_update(
                update_expression,
                names,
                values,
                set(table.attribute_keys),
            )
            if update_expression
            and not call.arguments["attribute_updates"]
            and not call.arguments["expected"]
            else None
        )
        item = None
        if actions is not None:
            hash_value, range_value = self.get_keys_value(table, key)
            item = table.get_item(hash_value, range_value)
            # ADD to an attribute that is not a whole number is moto's to refuse.
            if item is not None and any(
                name in item.attrs
                and (
                    item.attrs[name].type != "N"
                    or not WHOLE_NUMBER.fullmatch(item.attrs[name].value)
                )
                for name, _ in actions.get("ADD", [])
            ):
                actions = None
        if actions is None:
            return original(self, *args, **kwargs)
        prior = copy.deepcopy(item)
        condition = get_filter_expression(
            call.arguments["condition_expression"], names, values
        )
        if not condition.expr(item):
            failure_values = call.arguments["return_values_on_condition_check_failure"]
            if failure_values == "ALL_OLD" and item is not None:
                raise ConditionalCheckFailed(item=item.to_json()["Attributes"])
            raise ConditionalCheckFailed
        if item is None:
            # As moto does: the key first, then the update.
            created = {table.hash_key_attr: key[table.hash_key_attr]}
            if table.range_key_attr is not None:
                created[table.range_key_attr] = key[table.range_key_attr]
            table.put_item(created)
            item = table.get_item(hash_value, range_value)
        try:
            for name, value in actions.get("SET", []):
                item.attrs[name] = DynamoType(value)
            for name, value in actions.get("ADD", []):
                current = item.attrs.get(name)
                total = int(value["N"]) + (int(current.value) if current is not None else 0)
                item.attrs[name] = DynamoType({"N": str(total)})
        except ItemSizeTooLarge:
            # Nothing of a refused update stays (a transaction would restore it anyway).
            if prior is not None:
                item.attrs = prior.attrs
            raise ItemSizeToUpdateTooLarge() from None
        for name, _ in actions.get("REMOVE", []):
            item.attrs.pop(name, None)
        if table.stream_shard is not None:
            table.stream_shard.add(prior, item)
        return item

    DynamoDBBackend.update_item = update_item


def same_value(candidate, expected) -> bool:
    """Key equality without moto's number casting, except for numbers."""
    if candidate is None or candidate.type != expected.type:
        return False
    return candidate == expected if expected.type == "N" else candidate.value == expected.value


class copy_lists_only:  # noqa: N801 - stands in for the copy module inside Table.query
    copy = staticmethod(copy.copy)

    @staticmethod
    def deepcopy(value, memo=None):
        return list(value) if isinstance(value, list) else value


def query_only_candidate_items() -> None:
    original = Table.query

    def query(self, hash_key, *args, **kwargs):
        # moto's backend passes index_name as the eighth positional argument.
        index_name = kwargs["index_name"] if "index_name" in kwargs else args[6]

        def candidates():
            if index_name:
                wanted = kwargs.get("hash_key_conditions") or []
                return [
                    item
                    for partition in self.items.values()
                    for item in (partition.values() if self.range_key_attr else [partition])
                    if all(same_value(item.attrs.get(name), value) for name, value in wanted)
                ]
            # .get: self.items is a defaultdict, and a lookup must not create a partition.
            partition = self.items.get(hash_key)
            if partition is None:
                return []
            return list(partition.values()) if self.range_key_attr else [partition]

        self.all_items = candidates
        # The page's items are deep-copied before they are projected and answered, and
        # nothing after that changes them (projections build new items): the copy of
        # whole items was most of an index Query's cost.
        moto_table.copy = copy_lists_only
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            moto_table.copy = copy
            del self.all_items

    Table.query = query

    original_project = Item.project

    def project(self, projection_expressions):
        # A projection of top-level attributes copies those; moto renders the whole item
        # as JSON and parses the projected part back.
        names = [path[0] for path in projection_expressions if len(path) == 1]
        if len(names) < len(projection_expressions) or any("[" in name for name in names):
            return original_project(self, projection_expressions)
        attrs = {name: self.attrs[name].to_regular_json() for name in names if name in self.attrs}
        return Item(hash_key=self.hash_key, range_key=self.range_key, attrs=attrs)

    Item.project = project

    def order_key(value):
        # A key's order by its plain value: moto compares DynamoType objects, casting on every comparison.
        if value.type == "N":
            return decimal.Decimal(value.value)
        return value.value if value.type == "S" else value

    def sorted_items(self, hash_key_attrs, range_key_attrs, items):
        names = self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)
        items.sort(key=lambda item: tuple(order_key(item.attrs[name]) for name in names))
        return items

    def item_comes_before_dct(self, item, dct, hash_key_attrs, range_key_attrs, forward):
        for name in self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs):
            if name not in item.attrs:
                continue
            mine, theirs = order_key(item.attrs[name]), order_key(DynamoType(dct.get(name)))
            if mine != theirs:
                return (mine < theirs) == forward
        return True

    Table.sorted_items = sorted_items
    Table._item_comes_before_dct = item_comes_before_dct


def wire_value(value):
    """The JSON protocol's form of the two non-JSON values in an answer."""
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON")


def without_none(value):
    # The serializer leaves absent members out; an answer never carries null for one.
    if isinstance(value, dict):
        return {key: without_none(member) for key, member in value.items() if member is not None}
    if isinstance(value, list):
        return [without_none(member) for member in value]
    return value


ITEM_OPERATIONS = {
    "GetItem",
    "BatchGetItem",
    "Query",
    "Scan",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
}


def answer_items_as_json() -> None:
    original = DynamoHandler.serialized

    def serialized(self, action_result):
        if type(action_result) is not DynamoResult or self._get_action() not in ITEM_OPERATIONS:
            return original(self, action_result)
        headers = {"Content-Type": "application/x-amz-json-1.0", **self.response_headers}
        return 200, headers, json.dumps(without_none(action_result.result), default=wire_value)

    DynamoHandler.serialized = serialized

    def get_records(self):
        limit = self._get_param("Limit") or 1000
        result = self.backend.get_records(self._get_param("ShardIterator"), limit)
        return json.dumps(result, default=wire_value)

    DynamoDBStreamsHandler.get_records = get_records


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    roll_back_items_not_tables()
    parse_each_expression_once()
    update_simple_expressions_directly()
    query_only_candidate_items()
    answer_items_as_json()
    app = DomainDispatcherApplication(create_backend_app)
    one_at_a_time = threading.Lock()

    def serialized(environ, start_response):
        with one_at_a_time:
            # The body is produced inside the lock: moto builds it from shared state.
            return list(app(environ, start_response))

    run_simple(args.host, args.port, serialized, threaded=True)


if __name__ == "__main__":
    main()
