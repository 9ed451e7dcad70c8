"""The read behind HoneyHive's event export (server/honeyhive_export.py): merged spans by field filters."""

from __future__ import annotations

from storage.clickhouse.span_export import FIELDS, FieldFilter, export_spans

__all__ = ["FIELDS", "FieldFilter", "export_spans"]
