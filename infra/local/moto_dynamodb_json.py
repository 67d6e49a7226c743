"""Patch 9 of `moto_server.py` (its docstring says why): DynamoDB attribute values serialised
directly.

moto 5.2.5 writes every response through a generic serialiser that walks the service model:
for each DynamoDB attribute value (`{"S": "..."}`) it tries the ten members of the
AttributeValue shape, each under two spellings, through alias providers and a value picker.
Here an attribute value that is a plain dict of those members is written by a function that
gives the same result as that walk (members in the shape's order, strings as `str`, blobs in
base64, maps and lists of attribute values recursively, absent members left out); anything else
takes moto's walk.
"""

import base64
from enum import Enum

from moto.core.serialize import BaseJSONSerializer

# The AttributeValue shape's members, in its order.
_MEMBERS = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")
_KNOWN = frozenset(_MEMBERS)
_SERVICES = frozenset({"dynamodb", "dynamodbstreams"})


class _Unusual(Exception):
    """A value this does not write as moto would: moto's walk writes it."""


def _string(value):
    if isinstance(value, Enum):
        value = value.value
    return str(value) if value not in [None, {}, []] else value


def _blob(value):
    return base64.b64encode(value).strip().decode("utf-8")


def attribute_value(value):
    """The serialised form of one attribute value (a dict of its members)."""
    if type(value) is not dict or not value.keys() <= _KNOWN:
        raise _Unusual
    out = {}
    for name in _MEMBERS:
        member = value.get(name)
        if member is None:
            continue
        if name in ("S", "N"):
            out[name] = _string(member)
        elif name == "B":
            out[name] = _blob(member)
        elif name in ("SS", "NS"):
            out[name] = [_string(m) for m in _list(member)]
        elif name == "BS":
            out[name] = [_blob(m) for m in _list(member)]
        elif name == "M":
            if type(member) is not dict:
                raise _Unusual
            out[name] = {k: attribute_value(v) for k, v in member.items() if v is not None}
        elif name == "L":
            out[name] = [None if m is None else attribute_value(m) for m in _list(member)]
        elif type(member) is bool:
            out[name] = member
        else:
            raise _Unusual
    return out


def _list(value):
    if type(value) is not list:
        raise _Unusual
    return value


_moto_serialize = BaseJSONSerializer._serialize


def _serialize(self, serialized, value, shape, key):
    if shape.name == "AttributeValue" and type(value) is dict and key:
        service = self.operation_model.service_model.service_name
        if service in _SERVICES:
            try:
                serialized[self.get_serialized_name(shape, key)] = attribute_value(value)
                return
            except (_Unusual, TypeError):
                pass
    _moto_serialize(self, serialized, value, shape, key)


def install():
    """Applies patch 9."""
    BaseJSONSerializer._serialize = _serialize
