"""HoneyHive's OTLP spans: the HoneyHive tracer exports OpenTelemetry spans whose attributes carry the
event, flattened with dots (`honeyhive_inputs.query`, `honeyhive_metadata.model.name`, ...), and the
session in `honeyhive.session_id` (the OTLP trace id is not the session). This unflattens them into the
span's kind, name, inputs, outputs, error, usage and the attributes HoneyHive events keep."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ingest.usage import normalize_usage
from ingest.validation import maybe_json

_SESSION = ("honeyhive.session_id", "honeyhive_session_id")
_EVENT_TYPE = ("honeyhive_event_type", "honeyhive.event_type")
_EVENT_NAME = ("honeyhive_event_name", "honeyhive.event_name")
_GROUPS = {"honeyhive_inputs": "inputs", "honeyhive_outputs": "outputs", "honeyhive_metadata": "metadata",
           "honeyhive_metrics": "metrics", "honeyhive_feedback": "feedback", "honeyhive_config": "config",
           "honeyhive_user_properties": "user_properties"}  # fmt: skip
_KEPT = ("metadata", "metrics", "feedback", "config", "user_properties")


@dataclass(slots=True)
class HoneyHiveSpan:
    session_id: str
    kind: str = ""
    name: str = ""
    inputs: Any = None
    outputs: Any = None
    error: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    usage: list[dict[str, Any]] = field(default_factory=list)
    cost: Any = None


def _put(target: dict[str, Any], path: list[str], value: Any) -> None:
    for part in path[:-1]:
        nested = target.get(part)
        if not isinstance(nested, dict):
            nested = target[part] = {}
        target = nested
    target[path[-1]] = value


def _first(attrs: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:  # a plain loop: every OTLP span asks for its session
        value = attrs.get(key)
        if value is not None and value != "":
            return value
    return None


def honeyhive_span(attrs: dict[str, Any]) -> HoneyHiveSpan | None:
    """The HoneyHive event a span carries, or None for a span the HoneyHive tracer did not write."""
    session = _first(attrs, _SESSION)
    if not isinstance(session, str) or not session:
        return None
    groups: dict[str, Any] = {}
    for key, value in attrs.items():
        head, _, rest = key.partition(".")
        target = _GROUPS.get(head)
        if target is None:
            continue
        if rest:
            _put(groups.setdefault(target, {}), rest.split("."), maybe_json(value))
        else:
            groups[target] = maybe_json(value)
    event_type = _first(attrs, _EVENT_TYPE)
    span = HoneyHiveSpan(
        session_id=session,
        kind=str(event_type).upper() if event_type else "",
        name=str(_first(attrs, _EVENT_NAME) or ""),
        inputs=groups.get("inputs"),
        outputs=groups.get("outputs"),
        error=str(attrs.get("honeyhive_error") or ""),
        attributes={k: groups[k] for k in _KEPT if k in groups},
    )
    given = groups.get("config")
    config: dict[str, Any] = given if isinstance(given, dict) else {}
    model = str(config.get("model") or "")
    for key in ("metadata", "metrics"):
        source = groups.get(key)
        if isinstance(source, dict):
            model = model or str(source.get("model") or "")
            span.usage = span.usage or normalize_usage(source.get("usage") or source, (key,), model)
            if span.cost is None and isinstance(source.get("cost"), int | float):
                span.cost = source["cost"]
    return span
