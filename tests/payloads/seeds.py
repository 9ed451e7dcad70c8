"""The example payloads of ../shared/seeds/, copied as they are."""

VELLUM_CREATE_MONITORING_EVENT = [
    {
        "name": "node.execution.initiated",
        "body": {"node_definition": {"name": "string", "module": ["string"], "id": "string"}, "inputs": {}},
        "id": "string",
        "timestamp": "2024-01-15T09:30:00Z",
        "trace_id": "string",
        "span_id": "string",
    }
]

HONEYHIVE_CREATE_EVENT = {
    "event_type": "model",
    "inputs": {},
    "project_id": "<string>",
    "source": "<string>",
    "event_name": "<string>",
    "event_id": "<string>",
    "session_id": "<string>",
    "parent_id": "<string>",
    "children_ids": ["<string>"],
    "config": {},
    "outputs": {},
    "error": "<string>",
    "start_time": 123,
    "end_time": 123,
    "duration": 123,
    "metadata": {},
    "feedback": {},
    "metrics": {},
    "user_properties": {},
}

HONEYHIVE_SESSION_LOG_EVENT = {
    "children": [{}],
    "config": {},
    "duration": 123,
    "end_time": 123,
    "error": "<string>",
    "event_id": "<string>",
    "event_name": "<string>",
    "event_type": "<string>",
    "feedback": {},
    "inputs": {},
    "metadata": {},
    "metrics": {},
    "outputs": {},
    "project": "<string>",
    "session_id": "<string>",
    "source": "<string>",
    "start_time": 123,
    "user_properties": {},
}

AUDIT_EVENT = {
    "actorId": "string",
    "actorType": "user",
    "causationId": "string",
    "correlationId": "string",
    "eventType": "schedule.fired",
    "id": "string",
    "occurredAt": "2019-08-24T14:15:22Z",
    "payload": {},
    "resourceId": "string",
    "resourceType": "action_run",
    "tenantId": "string",
}
