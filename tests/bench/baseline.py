"""The baseline most teams would write: a Python 3 Lambda handler that imports boto3 and creates
the same clients Baton's functions create, then asks the Lambda Runtime API for its first event.
Measured exactly like the Rust functions (process start to the first GET of .../invocation/next)."""
import os
import urllib.request

import boto3

session = boto3.session.Session()
clients = [session.client(name) for name in ("s3", "dynamodb", "stepfunctions", "sesv2", "secretsmanager")]

api = os.environ["AWS_LAMBDA_RUNTIME_API"]
urllib.request.urlopen(f"http://{api}/2018-06-01/runtime/invocation/next")
