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
8. Step Functions parses each state machine definition once and builds its program once.
   moto 5.2.5 parses the ASL definition (an ANTLR parser, about 8 % of moto's CPU under the
   burst) for every execution it starts, and again to validate it; then its preprocessor turns
   the parse tree into a program of evaluation components, calling `getText` on every node
   (itself a walk of the node's subtree): a quarter of moto's CPU under the burst once the
   parse was kept. The program of each definition text is now kept and shared by its
   executions. That is safe because an execution keeps all its state in its own environment,
   never in the components: moto already runs one program's components from many threads at
   once (a Map's iterations share its item processor's program), and the one value a
   component sets lazily (`heap_key`, the name of its slot in an environment's heap, such as a
   retrier's attempt count) is now set while the program is built, before any execution can
   see it. A definition that does not parse fails as before.
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
13. Each request finds its service without listing moto's package folder. moto 5.2.5 works out
   which backend serves a request from the host its signature names (`sqs.eu-west-1...`): it
   lists moto's package folder (about 200 `isdir` calls) to see whether the host is a module's
   name, then tries some 600 URL patterns in turn, under the dispatcher's one lock. That was
   about 13 % of moto's CPU under the burst, for every request. The answer depends on the host
   alone and neither the folder nor the patterns change while the server runs, so it is now
   kept per host (at most 1,024 hosts; a host with no backend is asked again each time, as
   before).
14. No access log line per request. werkzeug's development server writes a coloured line to
   stderr for every request, under the logging module's lock: about 11 % of moto's CPU under
   the burst, for a file (`.baton/logs/moto.log` or the test's) that nobody reads line by line;
   the runner logs what its functions ask. Errors are still logged. `BATON_MOTO_ACCESS_LOG=1`
   brings the lines back for debugging.
15. Step Functions makes one Lambda client, not one per Task state. moto 5.2.5 builds a new
   boto3 client (loading the service model, an SSL context, a connection pool) for every
   Lambda invocation a Task state makes, and opens a new connection for it: about 5 % of
   moto's CPU under the burst. Its clients differ only by region (the credentials are fixed,
   the endpoint is the runner's), so one client per region and service is now kept. botocore
   clients are safe to share between threads; the pool holds up to 64 connections so parallel
   executions do not drop and reopen them.

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

import os

import boto3
import moto.dynamodb.models as dynamodb_models
import moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils as sfn_lambda_eval_utils
import moto.stepfunctions.parser.asl.utils.boto_client as sfn_boto_client
import werkzeug.serving
import moto.s3.notifications as s3_notifications
import moto.stepfunctions.parser.asl.component.common.path.result_path as sfn_result_path
import moto.stepfunctions.parser.asl.utils.json_path as sfn_json_path
from moto.core.responses import ActionResult, EmptyResult
from moto.stepfunctions.parser.api import ExecutionStatus
from botocore.config import Config as BotoConfig
from moto.core.models import botocore_stubber
from moto.settings import moto_server_port
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
from moto.stepfunctions.parser.asl.component.component import Component
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication
from moto.stepfunctions.responses import StepFunctionResponse
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.core.utils import unix_time
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
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
_programs = {}


def _settle_heap_keys(program):
    """Sets every component's lazily made `heap_key` now, while one thread holds the program."""
    seen, todo = set(), [program]
    while todo:
        value = todo.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, EvalComponent):
            value.heap_key  # noqa: B018 (the property sets the key on first read)
        if isinstance(value, (list, tuple, set, frozenset)):
            todo.extend(value)
        elif isinstance(value, dict):
            todo.extend(value.values())
        elif isinstance(value, Component):
            todo.extend(vars(value).values())


def parse_definition(definition):
    """moto's parse, kept per definition text: its program and parse tree (see patch 8)."""
    parsed = _programs.get(definition)
    if parsed is None:
        parsed = _moto_parse(definition)
        _settle_heap_keys(parsed[0])
        if len(_programs) >= 256:
            _programs.clear()
        _programs[definition] = parsed
    return parsed


_boto_clients = {}
_boto_clients_lock = threading.Lock()


def boto_client_for(region, service, state_credentials=None):
    """moto's client for a Task state's service, one per region and service (see patch 15)."""
    key = (region, service)
    client = _boto_clients.get(key)
    if client is None:
        with _boto_clients_lock:
            client = _boto_clients.get(key)
            if client is None:
                # moto's own arguments (sfn_boto_client.boto_client_for), with a larger pool.
                endpoint = {}
                if not botocore_stubber.enabled:
                    endpoint["endpoint_url"] = f"http://localhost:{moto_server_port()}"
                client = boto3.client(
                    aws_access_key_id="ak",
                    region_name=region,
                    service_name=service,
                    aws_secret_access_key="sk",
                    config=BotoConfig(
                        parameter_validation=False,
                        retries={"max_attempts": 0, "total_max_attempts": 1},
                        connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                        read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                        max_pool_connections=64,
                    ),
                    **endpoint,
                )
                _boto_clients[key] = client
    return client


_moto_get_backend_for_host = DomainDispatcherApplication.get_backend_for_host
_backend_for_host = {}


def get_backend_for_host(self, host):
    """moto's lookup, kept per host: it depends on the host alone (see patch 13)."""
    backend = _backend_for_host.get(host)
    if backend is None:
        backend = _moto_get_backend_for_host(self, host)
        if backend is not None and len(_backend_for_host) < 1024:
            _backend_for_host[host] = backend
    return backend


def no_access_log(self, code="-", size="-"):
    """werkzeug's per-request log line, left out (patch 14)."""


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
sfn_boto_client.boto_client_for = boto_client_for
sfn_lambda_eval_utils.boto_client_for = boto_client_for
DomainDispatcherApplication.get_backend_for_host = get_backend_for_host
if not os.environ.get("BATON_MOTO_ACCESS_LOG"):
    werkzeug.serving.WSGIRequestHandler.log_request = no_access_log
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
