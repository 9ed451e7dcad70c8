"""Feedback through the vendors' own SDKs against `tracehouse serve`: the Vellum SDK's
`submit_workflow_execution_actuals` and the HoneyHive SDK's event updates with `feedback`, read back as
annotations, filtered and averaged together through GraphQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from honeyhive import HoneyHive
from honeyhive.models import UpdateEventRequest
from vellum import WorkflowExecutionActualJsonRequest, WorkflowExecutionActualStringRequest
from vellum.core.api_error import ApiError

from tests.clients.sdk_server import KEY, gql
from tests.clients.test_vellum_sdk import _client, _start
from tests.process import ServerProcess

ANNOTATIONS = """query($id: ID!) { execution(id: $id) { annotations { name score label comment source origin } } }"""
FILTERED = """query($f: AnnotationFilter) { executions(filter: {annotation: $f}) { edges { node { id } } } }"""
SCORES = """query($from: DateTime!, $to: DateTime!) { annotationScores(name: "quality", from: $from, to: $to,
  bucket: DAY) { points { count scored average } } }"""


def test_vellum_actuals_and_honeyhive_feedback_through_their_sdks(server: ServerProcess) -> None:
    vellum = _client(server)
    trace = str(uuid.uuid4())
    assert vellum.events.create(request=_start(trace)).count == 2
    answer = vellum.submit_workflow_execution_actuals(execution_id=trace, actuals=[
        WorkflowExecutionActualStringRequest(output_key="quality", quality=0.8, desired_output_value="It shipped.",
                                             timestamp=datetime.now(UTC).timestamp()),
        WorkflowExecutionActualJsonRequest(output_key="summary", desired_output_value={"status": "shipped"}),
    ])  # fmt: skip
    assert answer is None  # 200 with no body, as Vellum answers
    with pytest.raises(ApiError) as missing:
        vellum.submit_workflow_execution_actuals(
            external_id=str(uuid.uuid4()), actuals=[WorkflowExecutionActualStringRequest(output_key="q", quality=1)]
        )
    assert missing.value.status_code == 404

    honeyhive = HoneyHive(api_key=KEY, server_url=server.url)
    session_id = honeyhive.sessions.start({"session_name": "chat", "source": "test", "inputs": {"q": "hi"}}).session_id
    honeyhive.events.update(UpdateEventRequest(event_id=session_id, feedback={"quality": 0.4, "liked": False}))

    vellum_annotations = gql(server, ANNOTATIONS, {"id": trace})["execution"]["annotations"]
    assert sorted((a["name"], a["score"], a["comment"], a["origin"]) for a in vellum_annotations) == [
        ("quality", 0.8, "It shipped.", "vellum"), ("summary", None, '{"status":"shipped"}', "vellum")]
    honeyhive_annotations = gql(server, ANNOTATIONS, {"id": session_id})["execution"]["annotations"]
    assert sorted((a["name"], a["score"], a["label"], a["source"]) for a in honeyhive_annotations) == [
        ("liked", None, "false", "HUMAN"), ("quality", 0.4, None, "HUMAN")]

    def ids(**f: object) -> list[str]:
        return sorted(e["node"]["id"] for e in gql(server, FILTERED, {"f": f})["executions"]["edges"])

    assert ids(name="quality") == sorted([trace, session_id])
    assert ids(name="quality", minScore=0.5) == [trace]
    assert ids(name="liked", label="false") == [session_id]
    # Both formats' feedback was given just now: over the days around now, one average of the two.
    now = datetime.now(UTC)
    points = gql(server, SCORES, {"from": (now - timedelta(days=1)).isoformat(),
                                  "to": (now + timedelta(days=1)).isoformat()})["annotationScores"]["points"]
    (point,) = [p for p in points if p["count"]]
    assert (point["count"], point["scored"]) == (2, 2) and point["average"] == pytest.approx(0.6)
