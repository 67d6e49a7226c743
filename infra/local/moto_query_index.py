"""Patch 7 of `moto_server.py` (its docstring says why): DynamoDB Query through sorted indexes.

moto 5.2.5's `Table.query` sorts every item of the table, keeps those of the partition (or of
the index partition), sorts them, and walks them from the first one, past the exclusive start
key and the items outside the sort key condition, to the page's end. Here a table with a sort
key keeps, per partition, its sort keys in order (`_Partition`), and per global secondary index
with a sort key, per index partition, its items' (index sort key, table key) in order
(`_GsiIndex`, built at the index's first Query, kept up to date on every write). A Query then
bisects to where its page starts and walks only the page, the same loop as moto's, so the
answer is moto's: the same items in the same order, the same LastEvaluatedKey, Count and
ScannedCount. Anything else (no sort key, a local index, the legacy QueryFilter, a multi-
attribute key, an exclusive start key missing a key attribute) goes to moto's own Query.
"""

import bisect
import copy
from collections import defaultdict

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, GlobalSecondaryIndex, Table

# moto refuses to write an item larger than this (LimitedSizeDict): the page's size limit can
# only be reached by an item after the page once the page holds more than the difference.
_MAX_ITEM_SIZE = 405000
_SCALAR = {"S", "N", "B"}


class _Partition(dict):
    """A partition of a table with a sort key (sort key -> Item), which also keeps its sort keys
    in moto's order: `order`, (comparable value, sort key) ascending. One list, changed by one
    insertion or deletion at a time, so a Query in another thread never sees it half changed."""

    def __init__(self, *args, **kwargs):
        super().__init__()
        self.order = []
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __setitem__(self, key, value):
        if key not in self:
            cast = key.cast_value
            self.order.insert(bisect.bisect_left(self.order, cast, key=_first), (cast, key))
        dict.__setitem__(self, key, value)

    def _forget(self, key):
        del self.order[bisect.bisect_left(self.order, key.cast_value, key=_first)]

    def __delitem__(self, key):
        dict.__delitem__(self, key)
        self._forget(key)

    def pop(self, key, *default):
        if key in self:
            value = dict.pop(self, key)
            self._forget(key)
            return value
        return dict.pop(self, key, *default)

    def popitem(self):
        key, value = dict.popitem(self)
        self._forget(key)
        return key, value

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def clear(self):
        dict.clear(self)
        self.order = []

    def __reduce__(self):
        # Copies (moto's backups) rebuild the order through __setitem__.
        return (type(self), (), None, None, iter(self.items()))


class _GsiIndex:
    """One global secondary index with a sort key: per index partition (its hash key value), its
    items in moto's order, as ((index sort key, table hash key, table sort key), table key)."""

    def __init__(self, table, index):
        types = _key_types(table)
        self.broken = False  # an item whose index keys are not of the declared types
        self.hash_attr = next(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH")
        self.range_attr = next(k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE")
        self.types = (types.get(self.hash_attr), types.get(self.range_attr))
        self.partitions = defaultdict(list)  # index hash key value -> entries
        self.entries = {}  # (table hash, table range) -> (index hash value, sort tuple)
        for partition in table.items.values():
            for item in partition.values():
                self.reindex(item.hash_key, item.range_key, item)

    def reindex(self, hash_key, range_key, item):
        """Files the item at this table key (None: gone) where its index keys now put it."""
        new = None
        if item is not None:
            index_hash, index_range = item.attrs.get(self.hash_attr), item.attrs.get(self.range_attr)
            if index_hash is not None and index_range is not None:
                if (index_hash.type, index_range.type) != self.types:
                    # moto sorts what it can; this index leaves such a table to moto.
                    self.broken = True
                    return
                new = (index_hash, (index_range.cast_value, hash_key.cast_value, range_key.cast_value))
        old = self.entries.get((hash_key, range_key))
        if old == new:
            return
        if old is not None:
            entries = self.partitions[old[0]]
            del entries[bisect.bisect_left(entries, old[1], key=_first)]
            del self.entries[(hash_key, range_key)]
        if new is not None:
            entries = self.partitions[new[0]]
            entries.insert(bisect.bisect_left(entries, new[1], key=_first), (new[1], (hash_key, range_key)))
            self.entries[(hash_key, range_key)] = new


def _gsi(table, index_name):
    indexes = table.__dict__.setdefault("baton_gsi", {})
    if index_name not in indexes:
        index = next((i for i in table.global_indexes or [] if i.name == index_name), None)
        ranges = [k for k in index.schema if k["KeyType"] == "RANGE"] if index else []
        hashes = [k for k in index.schema if k["KeyType"] == "HASH"] if index else []
        indexes[index_name] = _GsiIndex(table, index) if len(ranges) == 1 and len(hashes) == 1 else None
    return indexes[index_name]


def reindex(table, hash_key, range_key):
    """After a write to this key: every global index built so far files the item anew."""
    indexes = table.__dict__.get("baton_gsi")
    if not indexes or range_key is None:
        return
    item = table.items[hash_key].get(range_key) if hash_key in table.items else None
    for index in indexes.values():
        if index is not None:
            index.reindex(hash_key, range_key, item)


def _cast(value, type_):
    """The comparable value of a key attribute of an exclusive start key (None: not usable)."""
    if not isinstance(value, dict) or len(value) != 1 or type_ not in value:
        return None
    return DynamoType(value).cast_value


_OPERATORS = {"EQ": "=", "LT": "<", "LE": "<=", "GT": ">", "GE": ">="}


def _interval(ordered, comparison, objs, key):
    """Where, in `ordered` (ascending by `key`), the items matching the sort key condition lie:
    (lo, hi); None for a condition this does not bisect."""
    n = len(ordered)
    if not comparison:
        return 0, n
    values = [o.cast_value for o in objs]
    comparison = _OPERATORS.get(comparison, comparison)
    left = lambda v: bisect.bisect_left(ordered, v, key=key)  # noqa: E731
    right = lambda v: bisect.bisect_right(ordered, v, key=key)  # noqa: E731
    if comparison == "=":
        return left(values[0]), right(values[0])
    if comparison == "<":
        return 0, left(values[0])
    if comparison == "<=":
        return 0, right(values[0])
    if comparison == ">":
        return right(values[0]), n
    if comparison == ">=":
        return left(values[0]), n
    if comparison == "BETWEEN":
        lo = left(values[0])
        return lo, max(lo, right(values[1]))
    if comparison == "BEGINS_WITH" and isinstance(values[0], str):
        # Cutting every key to the prefix's length keeps the ascending order.
        width = len(values[0])
        cut = (lambda t: key(t)[:width]) if key else (lambda t: t[:width])  # noqa: E731
        return (bisect.bisect_left(ordered, values[0], key=cut),
                bisect.bisect_right(ordered, values[0], key=cut))
    return None


_moto_query = Table.query


def query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
          scan_index_forward, projection_expressions, index_name=None, consistent_read=False,
          filter_expression=None, hash_key_conditions=None, range_key_conditions=None,
          **filter_kwargs):
    plan = None
    if self.range_key_attr is not None and not filter_kwargs and len(range_key_conditions or []) <= 1:
        plan = _plan(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                     scan_index_forward, index_name, consistent_read, hash_key_conditions,
                     range_key_conditions)
    if plan is None:
        return _moto_query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                           scan_index_forward, projection_expressions, index_name, consistent_read,
                           filter_expression, hash_key_conditions, range_key_conditions, **filter_kwargs)
    fetch, walk, trailing, range_attr = plan
    # moto's loop, over the items from the exclusive start key on, within the condition.
    results, result_size, last_evaluated_key = [], 0, None
    for entry in walk:
        result = fetch(entry)
        if result is None:
            continue  # deleted by another request since the walk was taken
        if len(results) == limit or result_size + result.size() > RESULT_SIZE_LIMIT:
            last_evaluated_key = self._get_last_evaluated_key(results[-1], index_name)
            break
        value = result.attrs.get(range_attr)
        if not range_comparison or (value is not None and value.compare(range_comparison, range_objs)):
            results.append(result)
            result_size += result.size()
    else:
        # moto walks on past the condition's last item: the page ends there (LastEvaluatedKey)
        # if it is full, or if one of those items would not fit in it.
        if trailing and results:
            if len(results) == limit:
                last_evaluated_key = self._get_last_evaluated_key(results[-1], index_name)
            elif result_size + _MAX_ITEM_SIZE > RESULT_SIZE_LIMIT:
                for item in filter(None, map(fetch, trailing)):
                    if result_size + item.size() > RESULT_SIZE_LIMIT:
                        last_evaluated_key = self._get_last_evaluated_key(results[-1], index_name)
                        break
    scanned_count = len(results)
    results = copy.deepcopy(results)
    if index_name:
        index = self.get_index(index_name)
        results = [index.project(r) for r in results]
    if filter_expression is not None:
        results = [item for item in results if filter_expression.expr(item)]
    if projection_expressions:
        results = [r.project(projection_expressions) for r in results]
    return results, scanned_count, last_evaluated_key


def _plan(table, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
          scan_index_forward, index_name, consistent_read, hash_key_conditions,
          range_key_conditions):
    """How to walk the page: (fetch(position) -> Item, positions in walking order, positions
    past the condition in walking order, the sort key attribute), or None for moto's Query."""
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        return None
    types = _key_types(table)
    if index_name:
        if consistent_read or not hash_key_conditions or len(hash_key_conditions) != 1:
            return None
        index = _gsi(table, index_name)
        if index is None or index.broken or hash_key_conditions[0][0] != index.hash_attr:
            return None
        if range_key_conditions and range_key_conditions[0][0] != index.range_attr:
            return None
        ordered = index.partitions.get(hash_key_conditions[0][1], [])
        sort_key = _index_sort_key
        sort_attrs = [index.hash_attr, index.range_attr, table.hash_key_attr, table.range_key_attr]
        range_attr = index.range_attr

        def fetch(entry):
            hash_value, range_value = entry[1]
            return table.items[hash_value].get(range_value) if hash_value in table.items else None

        def start_tuple(esk):
            return tuple(esk[1:])
        partition_hash = hash_key_conditions[0][1].cast_value
    else:
        if hash_key is None or hash_key not in table.items:
            return _empty(table, hash_key)
        partition = table.items[hash_key]
        if not isinstance(partition, _Partition):
            return None
        if range_key_conditions and range_key_conditions[0][0] != table.range_key_attr:
            return None
        ordered, sort_key = partition.order, _first
        sort_attrs = [table.hash_key_attr, table.range_key_attr]
        range_attr = table.range_key_attr

        def fetch(entry):
            return partition.get(entry[1])

        def start_tuple(esk):
            return esk[1]
        partition_hash = hash_key.cast_value
    if any(o.type != types.get(range_attr) or o.type not in _SCALAR for o in range_objs or []):
        return None
    bounds = _interval(ordered, range_comparison, range_objs, sort_key)
    if bounds is None:
        return None
    lo, hi = bounds
    ordered = ordered[:]  # the walk's own copy: other requests change the list meanwhile
    start, end = 0, len(ordered)
    if exclusive_start_key is not None:
        esk = [_cast(exclusive_start_key.get(a), types.get(a)) for a in sort_attrs]
        if any(v is None for v in esk):
            return None
        # moto skips the items at or before the key in walking order (compared attribute by
        # attribute, the partition's hash key first).
        if partition_hash != esk[0]:
            if (partition_hash < esk[0]) == bool(scan_index_forward):
                start, end = len(ordered), 0
        elif scan_index_forward:
            start = bisect.bisect_right(ordered, start_tuple(esk), key=_first)
        else:
            end = bisect.bisect_left(ordered, start_tuple(esk), key=_first)
    if scan_index_forward:
        first = max(lo, start)
        walk = ordered[first:max(first, min(hi, end))]
        trailing = ordered[max(first, hi):end]
    else:
        top = min(hi, end)
        walk = ordered[max(lo, start):top][::-1]
        trailing = ordered[start:max(start, min(lo, top))][::-1]
    return fetch, walk, trailing, range_attr


def _first(entry):
    return entry[0]


def _index_sort_key(entry):
    return entry[0][0]


def _empty(table, hash_key):
    if hash_key is None:
        return None
    return (lambda entry: None), [], [], table.range_key_attr


def _key_types(table):
    return {d["AttributeName"]: d["AttributeType"] for d in table.attr or []}


_moto_init = Table.__init__


def table_init(self, *args, **kwargs):
    _moto_init(self, *args, **kwargs)
    if self.range_key_attr is not None and not self.items:
        self.items = defaultdict(_Partition)


_moto_put_item = Table.put_item
_moto_delete_item = Table.delete_item
_moto_update_item = DynamoDBBackend.update_item


def put_item(self, item_attrs, *args, **kwargs):
    item = _moto_put_item(self, item_attrs, *args, **kwargs)
    reindex(self, item.hash_key, item.range_key)
    return item


def delete_item(self, hash_key, range_key):
    item = _moto_delete_item(self, hash_key, range_key)
    reindex(self, hash_key, range_key)
    return item


def update_item(self, table_name, key, *args, **kwargs):
    try:
        return _moto_update_item(self, table_name, key, *args, **kwargs)
    finally:
        table = self.tables.get(table_name)
        if table is not None and table.range_key_attr is not None:
            try:
                hash_key, range_key = self.get_keys_value(table, key)
            except Exception:
                pass  # moto refused the key; nothing was written
            else:
                reindex(table, hash_key, range_key)


def install():
    """Applies patch 7."""
    assert Item and GlobalSecondaryIndex  # moto's names this module relies on
    Table.__init__ = table_init
    Table.query = query
    Table.put_item = put_item
    Table.delete_item = delete_item
    DynamoDBBackend.update_item = update_item
