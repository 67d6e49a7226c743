"""moto's server for Baton's local stack, with changes that keep moto's cost per request
from growing with the data it holds. Same behaviour, less work:

1. DynamoDB TransactWriteItems: when it fails, it undoes only the items it touched, instead of
   snapshotting every table it names before it starts. moto 5.2.5 deep-copies each whole table
   before every transaction, O(items in the table) per transaction: under `make bench`'s burst
   of uploads that was 95 % of moto's CPU, and it made every test slower as the table grew.
   Restoring that snapshot on failure also erased writes other requests made meanwhile (the
   runner still serialises transactions against other DynamoDB requests; see aws_endpoint.rs).
2. SQS ReceiveMessage: the retention check of each message read the queue's retention period
   through `get_queue_attributes`, which computes every attribute, the approximate message
   counts included (a pass over the whole queue): O(queue length) per message received. It now
   reads the one attribute.
3. S3 event notifications name the object version (`versionId`) and carry a `sequencer`, as S3
   does for a versioned bucket. moto 5.2.5 sends only key, size and ETag, so ingest could not
   read exactly the version an event names and would read whatever is newest at the key (two
   quick uploads to one key would register the second one's bytes under the first event).
4. Step Functions SendTaskFailure keeps its `cause`. moto 5.2.5's handler reads only `error`
   and drops the cause, so a rejection's reason (or any callback failure's) never reached the
   states that record it; AWS passes both to the Catch (`$.error.Cause`).
5. Step Functions StopExecution ends the execution at once, `ABORTED`, with its error and
   cause. moto 5.2.5 asks the interpreter to stop, but an execution parked on a task token
   (waiting for an approval) never looks, so it stayed `RUNNING` for ever and EventBridge's
   status-change rule (emulated by the runner) never fired. And a stop stays a stop: when the
   interpreter's threads wind down after it, moto 5.2.5 reports whatever they ended in, and an
   execution stopped while a Map iteration waited on a task token could end `FAILED` with
   `States.Runtime` (the iteration's abort, re-raised under a custom error name that may not
   begin with "States."), where AWS always reports `ABORTED`. Seen in CI's fault battery.
6. DynamoDB TransactWriteItems that fails leaves nothing in the table's stream. moto 5.2.5 writes
   the transaction's items one by one, each adding its stream record, and on a failure undoes
   the items but not their records: a stream reader (the runner's event source mapping) would
   announce a timeline event that was never written. The records it added are dropped with it.
7. DynamoDB Query bisects to its page (`moto_query_index.py`). moto 5.2.5 sorts every item of
   the table for each Query, keeps the partition's (for an index: the items carrying the
   index's keys, compared one by one), sorts those, and walks them from the first, past the
   exclusive start key and every item outside the sort key condition, to the page's end:
   O(items in the table) per Query, even with `Limit: 1`. At 10,000 releases that was the
   status page's whole time (173 ms at 100 releases, 1.3 s at 10,000). Now a table with a sort
   key keeps each partition's sort keys in order, and each global secondary index with a sort
   key keeps each of its partitions in moto's order (index sort key, then the table's key),
   built at the index's first Query and updated by every write (PutItem, UpdateItem,
   DeleteItem, BatchWriteItem, transactions and their undo). A Query bisects to where its page
   starts (the sort key condition: =, <, <=, >, >=, BETWEEN, begins_with; the exclusive start
   key; either direction) and runs moto's own loop over the page only. Same items, order,
   LastEvaluatedKey, Count and ScannedCount as moto's (Limit counts items before the filter,
   a page ends at 1 MB as moto ends it); any other Query (no sort key, a local index, the
   legacy QueryFilter, an exclusive start key missing a key) is moto's own.
8. Step Functions parses each state machine definition once. moto 5.2.5 parses the ASL
   definition (an ANTLR parser, about 8 % of moto's CPU under the burst) for every execution
   it starts, and again to validate it. The parse tree of each definition text is now kept;
   each execution still builds its own program from that tree (moto's preprocessor), so no
   state is shared between executions. A definition that does not parse fails as before.
9. DynamoDB attribute values are serialised directly (`moto_dynamodb_json.py`). moto 5.2.5
   writes each response through a generic serialiser that, for every attribute value of every
   item, tries the AttributeValue shape's ten members under two spellings each (alias
   providers, a value picker): a 1.5 KB GetItem cost about 5 ms of CPU, the largest cost left
   under the burst (GetItem, Query, BatchGetItem, and the stream's GetRecords); now about 1 ms. An attribute value
   that is a plain dict of those members is now written by a function that gives the same
   JSON (the members in the shape's order, strings as strings, blobs in base64, maps and lists
   recursively, absent members left out); anything else takes moto's walk.
10. Step Functions parses each JSONPath once. moto 5.2.5 parses a path (`$.items`) each time a
   state reads or writes one, and jsonpath-ng builds a new parser for each parse, regenerating
   its grammar tables (about 5 % of moto's CPU under the burst, after 8). The parsed path, an
   expression that finding and updating values never change, is now kept per path text (up
   to 1,024); a path that does not parse fails each time as before.
11. Python's full garbage collections skip what survived the previous one. moto holds every
   item, stream record and execution as Python objects (over a million at 10,000 releases),
   and each full collection of the cyclic garbage collector goes through all of them: up to
   0.6 s at a time, a few times a minute, landing on whichever requests are running. After
   each full collection the survivors are now frozen (`gc.freeze`), so the next ones go
   through only what is newer. Freed objects are still freed at once (reference counting);
   only reference cycles among frozen objects would never be collected. No answer changes.
12. SQS GetQueueAttributes for named attributes computes the queue's attributes once. moto
   5.2.5 computes all of them (three passes over every message of the queue, for the
   approximate counts) three times per name asked: nine passes over a queue of 1,000 waiting
   uploads to answer `ApproximateNumberOfMessages`. Now once per request, the same values
   (taken at one instant rather than three), the same names kept.

Everything else is moto's own `moto_server`.

The runner starts this file with the project's venv Python; `BATON_MOTO_SERVER` bypasses it.
"""

import copy
import datetime
import functools
import gc
import sys
import threading
import time

import moto.dynamodb.models as dynamodb_models
import moto.s3.notifications as s3_notifications
import moto.stepfunctions.parser.asl.component.common.path.result_path as sfn_result_path
import moto.stepfunctions.parser.asl.utils.json_path as sfn_json_path
from moto.core.responses import ActionResult, EmptyResult
from moto.stepfunctions.parser.api import ExecutionStatus
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication
from moto.stepfunctions.responses import StepFunctionResponse
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.core.utils import unix_time
from moto.server import main
from moto.sqs.models import SQSBackend

import moto_dynamodb_json
import moto_query_index


class _NoTableSnapshots:
    """Stands in for the `copy` module inside moto.dynamodb.models: a Table is not copied (the
    wrapper below keeps an item-level undo instead); anything else is, as before."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        if isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


_moto_transact_write_items = DynamoDBBackend.transact_write_items


def _target(backend, op_type, op):
    """The table and the (hash, range) key an operation of the transaction writes."""
    table = backend.tables.get(op.get("TableName"))
    if table is None:
        return None
    if op_type == "Put":
        attrs = op["Item"]
        key = {table.hash_key_attr: attrs[table.hash_key_attr]}
        if table.range_key_attr is not None:
            key[table.range_key_attr] = attrs[table.range_key_attr]
    else:
        key = op["Key"]
    hash_key, range_key = backend.get_keys_value(table, key)
    return table, hash_key, range_key


def transact_write_items(self, transact_items):
    undo = []
    for item in transact_items:
        try:
            op_type, op = next(iter(item.items()))
            target = _target(self, op_type, op)
        except Exception:
            continue  # malformed: moto refuses it without writing it
        if target is not None:
            table, hash_key, range_key = target
            undo.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    streams = {id(t): (t, len(t.stream_shard.items)) for t, *_ in undo if t.stream_shard is not None}
    try:
        return _moto_transact_write_items(self, transact_items)
    except Exception:
        for table, hash_key, range_key, previous in reversed(undo):
            if previous is None:
                table.delete_item(hash_key, range_key)
            elif range_key is not None:
                table.items[hash_key][range_key] = previous
                moto_query_index.reindex(table, hash_key, range_key)
            else:
                table.items[hash_key] = previous
        # After the undo, whose deletes add records of their own.
        for table, length in streams.values():
            if table.stream_shard is not None:
                del table.stream_shard.items[length:]
        raise


def get_queue_attributes(self, queue_name, attribute_names):
    if not attribute_names or "All" in attribute_names:
        return _moto_get_queue_attributes(self, queue_name, attribute_names)
    queue = self.get_queue(queue_name)
    valid = ["All"] + queue.BASE_ATTRIBUTES + queue.FIFO_ATTRIBUTES + queue.KMS_ATTRIBUTES
    invalid = next((name for name in attribute_names if name not in valid), None)
    if invalid or invalid == "":
        return _moto_get_queue_attributes(self, queue_name, attribute_names)  # moto refuses it
    every = queue.attributes
    return {name: every[name] for name in attribute_names if every.get(name) is not None}


def is_message_valid_based_on_retention_period(self, queue_name, message):
    retention_seconds = int(self.get_queue(queue_name).message_retention_period)
    return retention_seconds + message.sent_timestamp / 1000 > unix_time()


_moto_s3_event = s3_notifications._get_s3_event
_sequence = 0


def _get_s3_event(event_name, bucket, key, notification_id):
    global _sequence
    event = _moto_s3_event(event_name, bucket, key, notification_id)
    _sequence += 1
    for record in event["Records"]:
        obj = record["s3"]["object"]
        version = getattr(key, "version_id", None)
        if version and version != "null":
            obj["versionId"] = version
        # S3's sequencer orders events of one key: hexadecimal, comparable as text of equal length.
        obj["sequencer"] = format(_sequence, "016X")
    return event


def send_task_failure(self):
    self.stepfunction_backend.send_task_failure(
        self._get_param("taskToken"),
        error=self._get_param("error"),
        cause=self._get_param("cause"),
    )
    return EmptyResult()


def stop_execution(self):
    arn = self._get_param("executionArn")
    error, cause = self._get_param("error"), self._get_param("cause")
    execution = self.stepfunction_backend.describe_execution(arn)
    stop_date = datetime.datetime.now(tz=datetime.timezone.utc)
    running = getattr(execution, "exec_status", None) == ExecutionStatus.RUNNING
    if running:
        # Before asking the interpreter: its threads may wind down (and report) before
        # `stop` returns.
        execution.baton_stopped = (stop_date, error, cause)
    execution.stop(stop_date=stop_date, error=error, cause=cause)
    if running:
        execution.exec_status = ExecutionStatus.ABORTED
        execution.stop_date = stop_date
        execution.error, execution.cause = error, cause
    return ActionResult({"stopDate": stop_date})


_reflect_execution_status = BaseExecutionWorkerCommunication._reflect_execution_status


def reflect_execution_status(self):
    _reflect_execution_status(self)
    stopped = getattr(self.execution, "baton_stopped", None)
    if stopped is not None:
        stop_date, error, cause = stopped
        self.execution.exec_status = ExecutionStatus.ABORTED
        self.execution.stop_date = stop_date
        self.execution.error, self.execution.cause = error, cause


_moto_parse = AmazonStateLanguageParser.parse
_parse_trees = {}


def parse_definition(definition):
    """moto's parse, with the definition's parse tree kept: a fresh program from it each time."""
    tree = _parse_trees.get(definition)
    if tree is None:
        program, tree = _moto_parse(definition)
        if len(_parse_trees) >= 256:
            _parse_trees.clear()
        _parse_trees[definition] = tree
        return program, tree
    return Preprocessor().visit(tree), tree


_full_collection_done = threading.Event()


def _after_collection(phase, info):
    if phase == "stop" and info["generation"] == 2:
        _full_collection_done.set()


def _freeze_after_full_collections():
    # Not inside the collector's callback: freezing there would move what it is collecting.
    while True:
        _full_collection_done.wait()
        _full_collection_done.clear()
        gc.freeze()
        time.sleep(1)


def freeze_survivors():
    gc.callbacks.append(_after_collection)
    threading.Thread(target=_freeze_after_full_collections, name="gc-freeze", daemon=True).start()


dynamodb_models.copy = _NoTableSnapshots()
sfn_json_path.parse = functools.lru_cache(maxsize=1024)(sfn_json_path.parse)
sfn_result_path.parse = functools.lru_cache(maxsize=1024)(sfn_result_path.parse)
moto_query_index.install()
moto_dynamodb_json.install()
AmazonStateLanguageParser.parse = staticmethod(parse_definition)
StepFunctionResponse.stop_execution = stop_execution
BaseExecutionWorkerCommunication._reflect_execution_status = reflect_execution_status
StepFunctionResponse.send_task_failure = send_task_failure
s3_notifications._get_s3_event = _get_s3_event
DynamoDBBackend.transact_write_items = transact_write_items
SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period
_moto_get_queue_attributes = SQSBackend.get_queue_attributes
SQSBackend.get_queue_attributes = get_queue_attributes

if __name__ == "__main__":
    freeze_survivors()
    sys.argv[0] = "moto_server"
    sys.exit(main())
