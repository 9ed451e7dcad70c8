"""A big trace written in one statement: `count` spans generated inside ClickHouse (INSERT … SELECT FROM
numbers()), for tests and benchmarks of reads that need tens of thousands of spans in seconds, not minutes.

The rows are the ones the write path stores for complete spans (one piece each, through the events table
and its materialized view): a tree of eight children a span, ~300-character inputs and outputs, usage and cost on
every fourth span, one span in a hundred FAILED with an error.
"""

from __future__ import annotations

from typing import Any

TEXT = "lorem ipsum dolor sit amet " * 11  # ~300 characters
USAGE = '[{"model":"gpt-4o","input_tokens":120,"output_tokens":40,"cache_creation_input_tokens":0,' \
    '"cache_read_input_tokens":0}]'
COST = '[{"value":0.0007,"unit":"USD","source":"price_table:gpt-4o"}]'
# Every field of a span, as the big-trace tests and bench/big_trace.py select it.
SPAN_FIELDS = """id executionId parentId name kind kindName status startTime endTime durationMs inputs outputs
  attributes error { message code stacktrace rawData } cost { value unit source }
  usage { inputTokens outputTokens cacheCreationInputTokens cacheReadInputTokens totalTokens
          byModel { model inputTokens outputTokens cacheCreationInputTokens cacheReadInputTokens totalTokens } }"""

_INSERT = """
INSERT INTO events (tenant_id, id, name, timestamp, source, execution_id, span_id, is_span, parent_span_id,
    span_name, span_kind, span_status, start_time, end_time, inputs, outputs, error, attributes, usage, cost,
    input_tokens, output_tokens)
SELECT {tenant:String}, concat({execution:String}, '-e', toString(number)), 'span.logged',
    toDateTime64('2024-01-01 00:00:00', 6, 'UTC') + toIntervalMicrosecond(number * 1000), 'canonical',
    {execution:String}, concat('s', toString(number)), 1,
    if(number = 0, '', concat('s', toString(intDiv(number - 1, 8)))),
    concat('step-', toString(number)), if(number % 4 = 1, 'LLM', 'CHAIN'),
    if(number % 100 = 99, 'FAILED', 'SUCCEEDED'),
    toDateTime64('2024-01-01 00:00:00', 6, 'UTC') + toIntervalMicrosecond(number * 1000),
    toDateTime64('2024-01-01 00:00:00', 6, 'UTC') + toIntervalMicrosecond(number * 1000 + 50000),
    concat('{"text":"', {text:String}, toString(number), '"}'), concat('{"text":"', {text:String}, '"}'),
    if(number % 100 = 99, '{"message":"boom","code":"E1"}', ''),
    concat('{"n":', toString(number), ',"team":"search"}'),
    if(number % 4 = 1, {usage:String}, ''), if(number % 4 = 1, {cost:String}, ''),
    if(number % 4 = 1, 120, 0), if(number % 4 = 1, 40, 0)
FROM numbers({count:UInt64})
"""


async def insert_big_trace(
    ch: Any, tenant_id: str, execution_id: str, count: int, usage: str = USAGE, cost: str = COST
) -> None:
    """`count` complete spans s0 … s{count-1} of one execution, s0 the root, in start order by number; `usage` and
    `cost` the stored texts of every fourth span."""
    params = {"tenant": tenant_id, "execution": execution_id, "text": TEXT, "usage": usage, "cost": cost}
    params["count"] = count
    await ch.command(_INSERT, params)
