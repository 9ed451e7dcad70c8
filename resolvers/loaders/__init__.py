"""Per-request dataloaders, one per file, gathered in one typed container keyed to the caller's tenant."""

from __future__ import annotations

from dataclasses import dataclass

from resolvers.loaders.actor_by_execution import ActorByExecutionLoader
from resolvers.loaders.actor_by_key import ActorByKeyLoader
from resolvers.loaders.actor_stats_by_actor import ActorStatsByActorLoader
from resolvers.loaders.annotations_by_target import AnnotationsByTargetLoader
from resolvers.loaders.event_by_id import EventByIdLoader
from resolvers.loaders.event_count_by_group import EventCountByGroupLoader
from resolvers.loaders.events_by_group import EventsByGroupLoader
from resolvers.loaders.execution_by_id import ExecutionByIdLoader
from resolvers.loaders.execution_exists_by_id import ExecutionExistsByIdLoader
from resolvers.loaders.resource_by_key import ResourceByKeyLoader
from resolvers.loaders.rollup_by_execution import RollupByExecutionLoader
from resolvers.loaders.span_by_key import SpanByKeyLoader
from resolvers.loaders.span_page_by_execution import SpanPageByExecutionLoader
from resolvers.loaders.trace_by_execution import TraceByExecutionLoader
from storage.clickhouse.client import ClickHouse
from storage.postgres.connections import PgPool


@dataclass
class Loaders:
    event_by_id: EventByIdLoader
    actor_by_key: ActorByKeyLoader
    resource_by_key: ResourceByKeyLoader
    execution_by_id: ExecutionByIdLoader
    execution_exists_by_id: ExecutionExistsByIdLoader
    trace_by_execution: TraceByExecutionLoader
    span_page_by_execution: SpanPageByExecutionLoader
    rollup_by_execution: RollupByExecutionLoader
    actor_by_execution: ActorByExecutionLoader
    events_by_group: EventsByGroupLoader
    event_count_by_group: EventCountByGroupLoader
    actor_stats_by_actor: ActorStatsByActorLoader
    span_by_key: SpanByKeyLoader
    annotations_by_target: AnnotationsByTargetLoader

    def release(self) -> None:
        """Forget every cached load and the last batch's tasks, so what was loaded is not reachable from these
        loaders. (A dispatched batch stays in a reference cycle of Strawberry's after the operation: emptied
        here, it holds nothing. Earlier batches of the same loader in one operation are not reached.)"""
        for loader in vars(self).values():
            loader.clear_all()
            if loader.batch is not None:
                loader.batch.tasks.clear()
                loader.batch = None

    @classmethod
    def build(cls, ch: ClickHouse, pg: PgPool, tenant_id: str) -> Loaders:
        return cls(
            event_by_id=EventByIdLoader(ch, tenant_id),
            actor_by_key=ActorByKeyLoader(pg, tenant_id),
            resource_by_key=ResourceByKeyLoader(pg, tenant_id),
            execution_by_id=ExecutionByIdLoader(ch, tenant_id),
            execution_exists_by_id=ExecutionExistsByIdLoader(ch, tenant_id),
            trace_by_execution=TraceByExecutionLoader(ch, tenant_id),
            span_page_by_execution=SpanPageByExecutionLoader(ch, tenant_id),
            rollup_by_execution=RollupByExecutionLoader(ch, tenant_id),
            actor_by_execution=ActorByExecutionLoader(ch, tenant_id),
            events_by_group=EventsByGroupLoader(ch, tenant_id),
            event_count_by_group=EventCountByGroupLoader(ch, tenant_id),
            actor_stats_by_actor=ActorStatsByActorLoader(ch, tenant_id),
            span_by_key=SpanByKeyLoader(ch, tenant_id),
            annotations_by_target=AnnotationsByTargetLoader(ch, tenant_id),
        )
